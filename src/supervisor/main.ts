import { runSupervisorFromArgv } from "./daemon.js";

runSupervisorFromArgv(process.argv);
