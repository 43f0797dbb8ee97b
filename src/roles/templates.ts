import type { Role } from "../worker/types.js";

// Our wording of the orchestration guide's worker templates, kept short: workers get the task and
// the context, not the guide. The worker preamble goes in front of each; `{{context}}` is the pack.
export const BUILT_IN_TEMPLATES: Readonly<Record<Role, string>> = {
  scout: `TASK: {{task}}
SCOPE: {{scope}}
DO:
- Gather the minimum context needed to act: where things are, how they connect, their current state.
- Stop once the map answers the task.
OUTPUT:
- A short map: key files and folders (paths), one line on what each holds
- The functions, types or commands that matter, as path:line
- Current state: what works, what is missing or broken, anything surprising
- Open questions, if any
DO NOT:
- Edit files
- Propose or start a fix
- Paste whole files
{{context}}`,

  reviewer: `TASK: {{task}}
SCOPE: {{scope}}
LENS: {{lens}}
DO:
- Inspect the work through the lens; note problems and opportunities.
- Rank by what matters most; leave out nitpicks.
OUTPUT:
- Top findings, ranked, one or two lines each
- Evidence for each: where you saw it (path:line or a quote)
- A concrete, actionable fix for each
- Optional: a short rewrite or outline
DO NOT:
- Edit files
- Widen the scope
{{context}}`,

  research: `TASK: {{task}}
SCOPE: {{scope}}
DO:
- Search the web and read the sources.
- Prefer primary sources: official docs, specifications, source code, maintainers' own words.
OUTPUT:
- A synthesis in 5 to 10 bullets
- Key sources (links), each with why it matters
- Uncertainty, and where sources disagree
DO NOT:
- Speculate beyond the evidence
- Edit files
{{context}}`,

  implementer: `TASK: {{task}}
SCOPE: {{scope}}
DO:
- Follow the context pack if one is given.
- Make the change the task asks for, in proportion to it, in the style of the code around it.
- Run the checks that exist (build, tests, lint).
OUTPUT:
- What you changed or produced
- Where it lives (paths)
- How to check it (commands), if relevant
- Risks or follow-ups, briefly
DO NOT:
- Change anything outside the scope
- Drift into unrelated improvements
{{context}}`,

  verifier: `TASK: {{task}}
SCOPE: {{scope}}
DO:
- Check the work against the goal and the success check.
- Run the checks that apply: tests, build, analyses, reference checks.
- Look for omissions and regressions.
OUTPUT:
- PASS or FAIL, with a one-line reason
- Each issue with repro steps or a concrete example
- A brief suggested fix for each
DO NOT:
- Fix what you find; report it (unless the scope allows edits)
- Widen the check beyond the task
{{context}}`,
};
