// The supervisor makes what it writes private (umask 077: prompts, transcripts, results), but the
// agents it starts write the user's files: they get the umask of the user who started it, as a
// program run from the user's shell would. Without this a writer's new files were 0600 and its new
// folders 0700 where the user's shell makes 0644 and 0755.

const PRIVATE = 0o077;
let user: number | undefined;

/** Makes this process's own files private, keeping the umask it was started with for its agents. */
export function keepPrivate(): void {
  const before = process.umask(PRIVATE);
  user ??= before;
}

/**
 * Runs `start`, which starts a process synchronously (fork and exec happen within the call), with the
 * user's umask, so the process inherits that; this process's own is private again when it returns.
 */
export function asUser<T>(start: () => T): T {
  if (user === undefined || user === PRIVATE) return start();
  process.umask(user);
  try {
    return start();
  } finally {
    process.umask(PRIVATE);
  }
}
