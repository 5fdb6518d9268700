package io.peekd.identity;

/**
 * What became of hashing one executable (or script): its sha256, or why there
 * is none. {@link #text()} is what the row's sha256 column shows.
 */
public sealed interface HashResult {

    /** The stored form: 64 hex digits, or {@code "error: <reason>"}. */
    String text();

    /**
     * @param sha256 lower-case hex
     * @param file   the file that was read, so that an upload can check it is still the same
     */
    record Hashed(String sha256, FileId file) implements HashResult {
        @Override
        public String text() {
            return sha256;
        }
    }

    /** @param reason short, lower case, e.g. {@code replaced}, {@code gone}, {@code permission denied} */
    record Failed(String reason) implements HashResult {
        @Override
        public String text() {
            return "error: " + reason;
        }
    }
}
