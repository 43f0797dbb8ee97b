export { type AgentProgram, type Command, direct, LAUNCHER_NAME, launcherIn } from "./launcher.js";
export type { Layout, LayoutInput, Mount } from "./layout.js";
export { isWithin, writeRoots } from "./paths.js";
export { type Confiner, confiner, INSTALL_HINT, Sandbox } from "./sandbox.js";
export type { SweepReport } from "./sweep.js";
