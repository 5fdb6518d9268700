package io.peekd.doctor;

/**
 * One line of {@code peekd doctor}: what was checked, what was found, and for
 * anything short of OK, what to do about it.
 */
public record Check(Status status, String name, String found, String fix) {

    public enum Status {
        OK("✔"), WARN("!"), FAIL("✘");

        final String mark;

        Status(String mark) {
            this.mark = mark;
        }
    }

    static Check ok(String name, String found) {
        return new Check(Status.OK, name, found, null);
    }

    static Check warn(String name, String found, String fix) {
        return new Check(Status.WARN, name, found, fix);
    }

    static Check fail(String name, String found, String fix) {
        return new Check(Status.FAIL, name, found, fix);
    }

    /** {@code ✘ btf: /sys/kernel/btf/vmlinux is missing — fix: ...}, on one line. */
    public String line() {
        String s = status.mark + " " + name + ": " + found.replace('\n', ' ');
        return fix == null ? s : s + " — fix: " + fix.replace('\n', ' ');
    }
}
