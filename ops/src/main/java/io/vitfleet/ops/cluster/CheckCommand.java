package io.vitfleet.ops.cluster;

import picocli.CommandLine.Command;

/** {@code vitfleet check ...}: end-to-end checks of vitfleet's promises on this machine. */
@Command(name = "check", mixinStandardHelpOptions = true, description = "End-to-end checks of vitfleet's promises.",
    subcommands = {CheckDeterminismCommand.class})
public final class CheckCommand {
}
