package io.peekd.cli;

import io.peekd.config.Config;
import io.peekd.web.Tokens;
import io.peekd.web.WebOptions;
import io.peekd.web.WebServer;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "web", mixinStandardHelpOptions = true,
        description = {"Serve the web dashboard on its own, reading the daemon's database (read-only).",
                "Open the printed address in a browser. New traffic shows up as the daemon stores it.",
                "By default only this machine can connect (127.0.0.1). To serve other machines, first run",
                "`peekd web --new-token`, then use --bind 0.0.0.0 (or web.bind); the token guards the page.",
                "Example: peekd web --port 5100"})
final class WebCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @Option(names = "--port", paramLabel = "PORT", description = "TCP port to listen on (default: web.port, 5100).")
    Integer port;

    @Option(names = "--bind", paramLabel = "ADDRESS",
            description = "IP address to listen on (default: web.bind, 127.0.0.1). Anything but loopback needs the token.")
    String bind;

    @Option(names = "--new-token",
            description = "Create a new access token in data_dir/web.token (owner-only), print the URL that uses it, and exit.")
    boolean newToken;

    @Spec
    CommandSpec spec;

    /** Set by tests to stop a running command; the shutdown hook does it otherwise. */
    static volatile CountDownLatch stop;

    @Override
    public Integer call() throws Exception {
        Config c = config.load();
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        InetAddress bindAddress = null;
        if (bind != null) {
            try {
                bindAddress = InetAddress.ofLiteral(bind.strip());
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                        "--bind: expected an IP address such as 127.0.0.1 or ::, got \"" + bind + "\"");
            }
        }
        if (port != null && (port < 0 || port > 65535))
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--port: expected 0..65535, got " + port);
        if (newToken) {
            Path f = Tokens.file(c.paths().dataDir());
            String t = Tokens.create(f);
            out.println("new access token written to " + f + " (mode 0600); the old one no longer works.");
            out.println("open the dashboard once with:  http://<this host>:" + (port != null ? port : c.web().port())
                    + "/?token=" + t);
            out.flush();
            return 0;
        }
        WebOptions opts;
        try {
            opts = WebOptions.from(c, config.file, port, bindAddress);
        } catch (Tokens.Problem e) {
            err.println("peekd: " + e.getMessage());
            err.flush();
            return 1;
        }
        CountDownLatch done = new CountDownLatch(1);
        stop = done;
        try (WebServer server = WebServer.start(opts)) {
            server.pollDatabase();
            out.println("peekd: dashboard at " + server.url() + (opts.token() != null ? " (needs the access token)" : ""));
            out.flush();
            Thread hook = Thread.ofPlatform().unstarted(done::countDown);
            Runtime.getRuntime().addShutdownHook(hook);
            done.await();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // already shutting down
            }
        } catch (java.net.BindException e) {
            err.println("peekd: " + e.getMessage());
            err.flush();
            return 1;
        }
        return 0;
    }
}
