package io.peekd.cli;

import picocli.CommandLine;

/** Version from the jar manifest, so it is set in one place (pom.xml). */
final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = Main.class.getPackage().getImplementationVersion();
        return new String[] {"peekd " + (v == null ? "development build" : v),
                "Java " + Runtime.version() + " on " + System.getProperty("os.name") + " " + System.getProperty("os.version")};
    }
}
