package io.peekd.cli;

import io.peekd.capture.Capture;
import io.peekd.capture.KernelProbe;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** For bench/overhead: the kernel's own cost of running a program on each of peekd's hooks. */
@Command(name = "bench-floor", hidden = true, mixinStandardHelpOptions = true,
        description = {"Attach empty BPF programs to the same hooks as the daemon and wait for SIGTERM.",
                "Used by bench/overhead to measure the floor that peekd's overhead is compared with."})
final class BenchFloorCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        KernelProbe.Result probe;
        try {
            probe = KernelProbe.probe();
        } catch (KernelProbe.Unsupported e) {
            spec.commandLine().getErr().println("peekd: " + e.getMessage());
            return 1;
        }
        CountDownLatch done = new CountDownLatch(1);
        try (AutoCloseable floor = Capture.attachFloor(probe)) {
            Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(done::countDown));
            spec.commandLine().getOut().println("floor attached");
            spec.commandLine().getOut().flush();
            done.await();
        }
        return 0;
    }
}
