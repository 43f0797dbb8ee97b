export {
  type AgentProgram,
  type Command,
  DEFAULT_WORKER_NICE,
  direct,
  unhelped,
  workerNice,
} from "./launcher.js";
export { launcherIn } from "./launcher-copy.js";
export type { Layout, LayoutInput, Mount } from "./layout.js";
export { isWithin, writeRoots } from "./paths.js";
export { agentDaemonFolders, type Confiner, confiner, INSTALL_HINT, Sandbox } from "./sandbox.js";
export { FolderShare } from "./shared-folders.js";
export { reachableSockets } from "./sockets.js";
export type { SweepReport } from "./sweep.js";
