import { relayHandlers } from "../cli/relay.js";
import { runSupervisorFromArgv } from "./daemon.js";

// The supervisor's entry point, which also wires in the CLI's relay: the commands of the native client
// (cli/relay.ts).
runSupervisorFromArgv(process.argv, relayHandlers);
