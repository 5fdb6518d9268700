package io.peekd.capture;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Gate for tests that need BPF: a skip is a failure when PEEKD_REQUIRE_BPF=1 (CI). */
public final class Kernel {
    private Kernel() {
    }

    public static KernelProbe.Result require() {
        boolean required = "1".equals(System.getProperty("peekd.require.bpf")) || "1".equals(System.getenv("PEEKD_REQUIRE_BPF"));
        try {
            return KernelProbe.probe();
        } catch (KernelProbe.Unsupported e) {
            if (required) fail("PEEKD_REQUIRE_BPF=1 but the kernel test cannot run: " + e.getMessage());
            assumeTrue(false, e.getMessage());
            throw new AssertionError(e);
        }
    }
}
