// Moved to the core (plan/current.ts); kept until every adapter imports it from there.
export { currentPlans, type ShownPlan } from "../plan/current.js";
