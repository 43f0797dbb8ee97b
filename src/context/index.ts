export { type ContextFlags, contextPackFromFlags, mergeContextPacks } from "./flags.js";
export { loadContextPack } from "./load.js";
export { type ContextPack, contextPackSchema, isEmptyContextPack } from "./pack.js";
export { checkPointers, pointerPath } from "./pointers.js";
export { renderContextPack } from "./render.js";
