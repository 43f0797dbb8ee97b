import { z } from "zod";
import {
  NO_PLAN,
  type PlanOutcome,
  PlanStore,
  parsePlanUpdate,
  renderPlan,
  STEP_STATUSES,
} from "../../plan/index.js";
import { defineTool, type Tool } from "../tool.js";

/** The lead's plan, with Codex's `update_plan` rules, kept in the run store. */
export function planTools(home: string): Tool[] {
  const store = new PlanStore(home);
  return [
    defineTool({
      name: "plan_update",
      description:
        "Replace the plan (Codex's update_plan shape): 3 to 6 short steps, exactly one in_progress while work " +
        "remains. Or advance: true to complete the current step and start the next. Returns the plan.",
      input: z.strictObject({
        explanation: z.string().optional().describe("why the plan looks this way"),
        plan: z
          .array(z.strictObject({ step: z.string(), status: z.enum(STEP_STATUSES) }))
          .optional()
          .describe("every step, in order"),
        advance: z
          .boolean()
          .optional()
          .describe("instead of plan: finish the in_progress step, start the next"),
      }),
      example: {
        plan: [
          { step: "Scout the parser", status: "completed" },
          { step: "Fix the bug", status: "in_progress" },
          { step: "Run the tests", status: "pending" },
        ],
      },
      async run(args) {
        if ((args.advance === true) === (args.plan !== undefined)) {
          return {
            isError: true,
            text: 'plan_update: give either plan or advance: true. Call it like: {"plan": [{"step": "Scout", "status": "in_progress"}, {"step": "Fix", "status": "pending"}]} or {"advance": true}',
          };
        }
        const outcome = args.plan
          ? await store.update(parsePlanUpdate({ explanation: args.explanation, plan: args.plan }))
          : await store.advance();
        return { text: planText(outcome) };
      },
    }),
    defineTool({
      name: "plan_show",
      description: "The current plan: [x] done, [>] in progress, [ ] to do.",
      input: z.strictObject({}),
      example: {},
      readOnly: true,
      async run() {
        const plan = await store.show();
        return { text: plan ? renderPlan(plan) : NO_PLAN.replace("`baton plan set STEP...`", "plan_update") };
      },
    }),
  ];
}

function planText(outcome: PlanOutcome): string {
  return [renderPlan(outcome.plan), ...outcome.warnings.map((w) => `warning: ${w}`)].join("\n");
}
