package io.peekd.alert;

/** What became of one action of one alert. */
record Outcome(String action, Status status, String detail) {

    enum Status {
        OK, FAILED, TIMEOUT, DROPPED;

        String word() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    static Outcome ok(String action, String detail) {
        return new Outcome(action, Status.OK, detail);
    }

    boolean ok() {
        return status == Status.OK;
    }

    @Override
    public String toString() {
        return action + " " + status.word() + (detail == null || detail.isEmpty() ? "" : ": " + detail);
    }
}
