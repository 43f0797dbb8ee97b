import type { LiveSnapshot } from "./live.js";

/** What `baton top` draws from: the latest snapshot, or why there are no more. */
export interface FeedState {
  readonly live: LiveSnapshot | undefined;
  readonly error: string | undefined;
}

/** The latest state of a workspace, for React's useSyncExternalStore. */
export interface Feed {
  current(): FeedState;
  subscribe(listener: () => void): () => void;
  push(snapshot: LiveSnapshot): void;
  fail(message: string): void;
}

export function createFeed(): Feed {
  let state: FeedState = { live: undefined, error: undefined };
  const listeners = new Set<() => void>();
  const set = (next: FeedState) => {
    state = next;
    for (const listener of listeners) listener();
  };
  return {
    current: () => state,
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    push: (live) => set({ live, error: undefined }),
    fail: (error) => set({ ...state, error }),
  };
}
