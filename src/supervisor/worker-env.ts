/** Variables Baton puts in every worker's environment. */
export const WORKER_ENV = {
  /** The worker's id; its presence means "this process is a worker". */
  id: "BATON_WORKER_ID",
  /** `<store key>:<id>`; finds a worker's processes even after they leave its session. */
  marker: "BATON_WORKER_MARK",
} as const;

/** The value of worker `id`'s marker: its store's key (a workspace's workers only) and its id. */
export const markerValue = (storeKey: string, id: string): string => `${storeKey}:${id}`;

/** The `NAME=value` entry that every process of worker `id` carries in its environment. */
export const markerOf = (storeKey: string, id: string): string =>
  `${WORKER_ENV.marker}=${markerValue(storeKey, id)}`;
