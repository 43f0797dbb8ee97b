/** The review lenses from the orchestration guide; run 2 to 4 reviewers with different ones. */
export const LENSES = [
  { id: "clarity", label: "Clarity/structure" },
  { id: "correctness", label: "Correctness/completeness" },
  { id: "risks", label: "Risks/failure modes" },
  { id: "consistency", label: "Consistency/style" },
  { id: "evidence", label: "Evidence quality" },
  { id: "practicality", label: "Practicality" },
  { id: "audience", label: "Accessibility/audience fit" },
  { id: "security", label: "Security" },
  { id: "performance", label: "Performance" },
  { id: "compatibility", label: "Backward compatibility" },
] as const;

export type LensId = (typeof LENSES)[number]["id"];

/** `security, risks` → `Security, Risks/failure modes`; words that are not lens ids are kept as written. */
export function describeLens(lens: string): string {
  return lens
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => LENSES.find((known) => known.id === part.toLowerCase())?.label ?? part)
    .join(", ");
}
