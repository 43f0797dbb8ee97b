/** What a pattern produces: one result, for people and for programs. */
export interface PatternResult {
  readonly markdown: string;
  readonly data: unknown;
}
