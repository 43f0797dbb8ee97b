// The CLI's renderers live in the core (src/render/), where the MCP tools and the demo use them too.
export { duration } from "../render/numbers.js";
export { indent, isolationText, reasonText, table, workerTable } from "../render/workers.js";
