package io.peekd.capture;

/**
 * Counters of the capture path. Every loss kind is here so that status,
 * metrics and the error log can report it; none of them may grow silently.
 * slotMisses is not a loss: a socket that found no free counter slot is
 * counted exactly on the slower hash-map path; it says the slots are too few.
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
