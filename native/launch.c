// baton-launch: how the supervisor starts a worker's agent, in one exec where a shell and GNU env
// took one each (scripts/native.mjs builds it; src/confine/launcher.ts uses a copy in the run store).
//
//   baton-launch [--shield | --agent [--scoped]] [--nice N] [--stdin FILE] -- PROGRAM [ARG...]
//
// --shield   ignores SIGINT, SIGQUIT, SIGTERM and SIGHUP, then runs PROGRAM (bubblewrap): the
//            terminal's Ctrl+C and a stop's SIGTERM must reach the agent, not end the sandbox first.
// --agent    gives those four signals back their default action (and unblocks them), for the agent
//            inside the sandbox.
// --scoped   (inside the sandbox) keeps the agent and all it starts from connecting to an abstract
//            Unix socket that a process outside them made, by a Landlock scope (Linux 6.12 and
//            later): such sockets have no path for the sandbox to cover, and a desktop's bus or X
//            server, or another worker, may listen on one. Its own abstract sockets work as before.
//            Only the scope, no file system rule: those would keep codex's own sandbox from
//            mounting. Where the kernel has no such scope, it runs without (docs/confinement.md).
// --nice     lowers the priority of PROGRAM and all it starts by N (1 to 19): its own nice value and,
//            where the kernel groups processes by session (autogroup), its session's, which is what
//            weighs then. The supervisor starts every worker this way, so that a burst of workers
//            does not starve it (or the user's own terminal) of CPU. Best effort: a kernel that
//            refuses leaves the priority as it was.
// --stdin    opens FILE (the prompt) as standard input, as `sh -c 'exec "$@" < "$0"'` did.
//
// Whatever the mode, every descriptor but standard input, output and error is closed first. The
// supervisor's are inherited by every program it starts unless marked close-on-exec, and node-pty
// leaves the master end of each worker's terminal unmarked: without this, every agent held the
// terminals of the workers started before it (to read their output and type into them) and a
// pipe of the supervisor's own.
//
// PROGRAM is run by execvp. What goes wrong is one line on standard error, and the exit code a shell
// gives: 126 (could not run it, or could not open FILE: dash said 2 for that), 127 (not found), 2
// (bad usage).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

// Landlock's system calls and the one scope used, by number: the build machine's headers may predate them.
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#ifndef SYS_landlock_restrict_self
#define SYS_landlock_restrict_self 446
#endif
#define LANDLOCK_VERSION_FLAG 1U       /* LANDLOCK_CREATE_RULESET_VERSION */
#define LANDLOCK_SCOPE_ABSTRACT 1ULL   /* LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET, ABI 6 */

/** struct landlock_ruleset_attr as of ABI 6. */
struct ruleset_attr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

static const int SIGNALS[] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP};

static int fail(int code, const char *what, const char *name) {
  dprintf(STDERR_FILENO, "baton-launch: %s %s: %s\n", what, name, strerror(errno));
  return code;
}

static int usage(void) {
  dprintf(STDERR_FILENO,
          "baton-launch: usage: baton-launch [--shield | --agent [--scoped]] [--nice N] [--stdin FILE] -- PROGRAM [ARG...]\n");
  return 2;
}

/** Closes every descriptor above standard error; false if some could not be listed. */
static int close_inherited(void) {
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return 1;
#endif
  // A kernel older than 5.9: the open ones, as /proc lists them, until a pass finds none.
  DIR *listing = opendir("/proc/self/fd");
  if (listing == NULL) return 0;
  for (int closed = 1; closed;) {
    closed = 0;
    rewinddir(listing);
    for (struct dirent *entry; (entry = readdir(listing)) != NULL;) {
      int fd = atoi(entry->d_name);
      if (fd > 2 && fd != dirfd(listing)) closed = close(fd) == 0 || closed;
    }
  }
  closedir(listing);
  return 1;
}

/**
 * Scopes abstract Unix sockets to this process and what it starts. 1 when in force, 0 where the
 * kernel has no such scope (no Landlock, or one older than ABI 6), -1 when it has and it failed.
 */
static int scope_abstract_sockets(void) {
  long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_VERSION_FLAG);
  if (abi < 6) return 0;
  struct ruleset_attr attr = {0, 0, LANDLOCK_SCOPE_ABSTRACT};
  int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0U);
  if (ruleset < 0) return -1;
  // Required of a process without CAP_SYS_ADMIN; bubblewrap has set it already inside its sandbox.
  int done = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0U) == 0;
  close(ruleset);
  return done ? 1 : -1;
}

int main(int argc, char **argv) {
  enum { KEEP, SHIELD, AGENT } signals = KEEP;
  const char *input = NULL;
  long lower = 0;
  int scoped = 0;
  int i = 1;
  for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
    if (strcmp(argv[i], "--shield") == 0 && signals == KEEP) signals = SHIELD;
    else if (strcmp(argv[i], "--agent") == 0 && signals == KEEP) signals = AGENT;
    else if (strcmp(argv[i], "--scoped") == 0 && !scoped) scoped = 1;
    else if (strcmp(argv[i], "--stdin") == 0 && input == NULL && i + 1 < argc) input = argv[++i];
    else if (strcmp(argv[i], "--nice") == 0 && lower == 0 && i + 1 < argc) {
      char *end;
      lower = strtol(argv[++i], &end, 10);
      if (*end != '\0' || lower < 1 || lower > 19) return usage();
    } else return usage();
  }
  if (i + 1 >= argc || (scoped && signals != AGENT)) return usage();
  char **command = argv + i + 1;
  if (!close_inherited()) return fail(126, "cannot close what it inherited before", command[0]);

  if (signals != KEEP) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = signals == SHIELD ? SIG_IGN : SIG_DFL;
    sigemptyset(&action.sa_mask);
    sigset_t unblock;
    sigemptyset(&unblock);
    for (size_t k = 0; k < sizeof SIGNALS / sizeof SIGNALS[0]; k++) {
      if (sigaction(SIGNALS[k], &action, NULL) != 0) return fail(126, "cannot set a signal for", command[0]);
      sigaddset(&unblock, SIGNALS[k]);
    }
    if (signals == AGENT && sigprocmask(SIG_UNBLOCK, &unblock, NULL) != 0)
      return fail(126, "cannot unblock the signals of", command[0]);
  }

  if (lower > 0) {
    // Only as the leader of a session of its own (the worker's terminal made it one): the
    // autogroup is the whole session's, and another session's (the supervisor's) is never touched.
    int group = getsid(0) == getpid() ? open("/proc/self/autogroup", O_WRONLY | O_CLOEXEC) : -1;
    if (group >= 0) {
      dprintf(group, "%ld", lower);
      close(group);
    }
    errno = 0;
    (void)nice((int)lower);
  }

  if (scoped && scope_abstract_sockets() < 0) return fail(126, "cannot scope the abstract sockets of", command[0]);

  if (input != NULL) {
    int fd = open(input, O_RDONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return fail(126, "cannot open", input);
    if (fd != STDIN_FILENO) {
      if (dup2(fd, STDIN_FILENO) < 0) return fail(126, "cannot read from", input);
      close(fd);
    } else if (fcntl(fd, F_SETFD, 0) != 0) {
      return fail(126, "cannot read from", input);
    }
  }

  execvp(command[0], command);
  return fail(errno == ENOENT ? 127 : 126, "cannot run", command[0]);
}
