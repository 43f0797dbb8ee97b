export { describeLens, LENSES, type LensId } from "./lenses.js";
export { loadTemplate, templateOverrides } from "./load.js";
export { renderWorkerPrompt, type WorkerPromptInput } from "./render.js";
export { defaultScope } from "./scope.js";
export { BUILT_IN_TEMPLATES } from "./templates.js";
