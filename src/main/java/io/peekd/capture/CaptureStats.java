package io.peekd.capture;

/**
 * Counters of the capture path. Every loss kind is here so that status,
 * metrics and the error log can report it; none of them may grow silently.
 * slotMisses is not a loss: it counts calls whose socket wanted a counter
 * slot and found none free; they are counted exactly on the slower hash-map
 * path. A growing number says the slots are too few for this machine.
 */
public record CaptureStats(
        long ringDropExec, long ringDropFlow, long ringDropOther, long ringDropDomain,
        long mapFull, long mapFullSentBytes, long mapFullRecvBytes,
        long skStorageFail, long pendingFull,
        long execs, long sendCalls, long recvCalls,
        long ringEvents, long ringUndecodable, long ringHandlerErrors,
        long flowsTracked, long flowsEvicted,
        long slotsInUse, long slots, long slotMisses) {

    /** Sum of every kind of loss; zero on a healthy system. */
    public long losses() {
        return ringDropExec + ringDropFlow + ringDropOther + ringDropDomain + mapFull + skStorageFail + pendingFull
                + ringUndecodable + ringHandlerErrors;
    }
}
