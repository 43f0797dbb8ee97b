export {
  advancePlan,
  checkPlan,
  PLAN_LIMITS,
  type Plan,
  type PlanOutcome,
  type PlanStep,
  type PlanUpdate,
  RECOMMENDED_STEPS,
  type StepStatus,
  startPlan,
} from "./plan.js";
export { NO_PLAN, PLAN_FILE, PLAN_HISTORY_FILE, PlanStore } from "./plan-store.js";
export { renderPlan } from "./render.js";
export { parsePlanUpdate, STEP_STATUSES, UPDATE_SHAPE } from "./schema.js";
