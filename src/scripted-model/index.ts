export { answerChat } from "./chat-answer.js";
export {
  SCRIPTED_TITLE,
  type ScriptedChat,
  type ScriptedChatOptions,
  startScriptedChat,
} from "./chat-server.js";
export {
  type ChatScript,
  type ChatStep,
  chatRequest,
  isTitleRequest,
  offeredFunctions,
} from "./chat-steps.js";
export { type DirectiveStep, directiveScript, modelScriptLine } from "./directives.js";
export { type ScriptedGemini, type ScriptedGeminiOptions, startScriptedGemini } from "./gemini-server.js";
export { declaredTools, type GeminiScript, type GeminiStep, geminiRequest } from "./gemini-steps.js";
export { answerMessages } from "./messages-answer.js";
export {
  type ScriptedMessages,
  type ScriptedMessagesOptions,
  startScriptedMessages,
} from "./messages-server.js";
export { type MessagesScript, type MessagesStep, messagesRequest } from "./messages-steps.js";
export {
  codexConfigToml,
  SCRIPTED_KEY_ENV,
  type ScriptedModel,
  type ScriptedModelOptions,
  startScriptedModel,
} from "./server.js";
export { type ModelRequest, message, patch, type Script, type ScriptStep, shell } from "./steps.js";
