package io.peekd.cli;

import io.peekd.config.Config;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A subcommand of a group (db, alerts) that takes --config itself or from the group, so that
 * {@code peekd db --config X stats} and {@code peekd db stats --config X} both work.
 */
abstract class Subcommand implements Callable<Integer> {

    @Mixin
    ConfigOption config;

    @Spec
    CommandSpec spec;

    /** This command's --config when it was given, else the group's. */
    Config loadConfig() {
        boolean own = !config.file.equals(io.peekd.config.ConfigLoader.DEFAULT_PATH);
        CommandSpec group = spec.parent() == null ? null : spec.parent().mixins().get("config");
        if (own || group == null || !(group.userObject() instanceof ConfigOption theirs)) {
            return config.load();
        }
        return theirs.load();
    }
}
