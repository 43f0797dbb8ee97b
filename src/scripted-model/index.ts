export { type DirectiveStep, directiveScript, modelScriptLine } from "./directives.js";
export {
  codexConfigToml,
  SCRIPTED_KEY_ENV,
  type ScriptedModel,
  type ScriptedModelOptions,
  startScriptedModel,
} from "./server.js";
export { type ModelRequest, message, patch, type Script, type ScriptStep, shell } from "./steps.js";
