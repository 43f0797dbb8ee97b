/** Variables Baton puts in every worker's environment. */
export const WORKER_ENV = {
  /** The worker's id; its presence means "this process is a worker". */
  id: "BATON_WORKER_ID",
  /** `<store key>:<id>`; finds a worker's processes even after they leave its session. */
  marker: "BATON_WORKER_MARK",
} as const;
