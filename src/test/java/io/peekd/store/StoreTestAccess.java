package io.peekd.store;

/** Lets tests in other packages compare with the schema version this build writes. */
public final class StoreTestAccess {
    private StoreTestAccess() {
    }

    public static int currentSchema() {
        return Schema.CURRENT;
    }
}
