package io.peekd.store;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A second JVM that tries to open a Store, as a second daemon would. */
final class OtherProcess {

    record Result(int exit, String output) {
    }

    public static void main(String[] args) {
        try (Store s = Store.open(Path.of(args[0]))) {
            System.out.println("opened " + s.file());
        } catch (StoreException e) {
            System.out.println(e.getMessage());
            System.exit(3);
        }
    }

    static Result openStore(Path db) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-Xmx64m", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), OtherProcess.class.getName(), db.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("second JVM did not finish: " + out);
        }
        return new Result(p.exitValue(), out);
    }

    private OtherProcess() {
    }
}
