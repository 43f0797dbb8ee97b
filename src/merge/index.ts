export { formatApa7 } from "./apa.js";
export {
  type Agent,
  type Evidence,
  type Finding,
  type MergedFinding,
  SEVERITIES,
  type Severity,
  type Source,
  type WorkerFindings,
} from "./finding.js";
export { mergeFindings } from "./merge.js";
export { type ParsedFindings, parseFindings } from "./parse.js";
export { agentText, type MarkdownOptions, renderMergedMarkdown } from "./render.js";
export { FINDINGS_JSON_SCHEMA } from "./schema.js";
export { renderFindingsForSynthesis, type SynthesisOptions } from "./synthesis.js";
