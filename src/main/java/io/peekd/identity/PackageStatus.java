package io.peekd.identity;

/** Whether a file's content is what the distribution package that owns its path shipped. */
public sealed interface PackageStatus {

    /** No package owns the path, or no package manager is installed. */
    record Unowned() implements PackageStatus {}

    /** The content is exactly what {@code pkg} installed. */
    record Matches(String manager, String pkg) implements PackageStatus {}

    /** A package owns the path but shipped other content: changed outside the package manager. */
    record Mismatch(String manager, String pkg) implements PackageStatus {}

    /** A package owns the path but keeps no checksum for it (or it could not be read). */
    record Unverifiable(String manager, String pkg, String why) implements PackageStatus {}

    PackageStatus UNOWNED = new Unowned();
}
