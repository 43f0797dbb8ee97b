// baton-launch --serve: how the supervisor starts agents without forking itself. A fork copies the
// page tables of the whole process and a 100 MB supervisor's child then pays to tear them down at its
// exec: about 3.5 ms of CPU a worker, more than the sandbox costs. This process is a few hundred KB;
// the supervisor starts it once (src/supervisor/spawner.ts) and has it fork instead.
//
// The supervisor opens each agent's pseudo-terminal itself and keeps its master end; this process
// only makes a child that takes the terminal's other end as its controlling terminal and standard
// input, output and error, then runs the launcher (`launch` in launch.c) in that child, with no exec
// of its own.
//
// Requests, on standard input: fields each ending in a NUL byte,
//   "spawn" ID TTY CWD ARGC ARGV... ENVC ENV...
// where ARGV is the launcher's command line (ARGV[0] is this program) and ENV the agent's environment,
// NAME=VALUE each. Replies, on standard output, a line each:
//   started ID PID     the child is made and holds its terminal (it may still fail to start its
//                      program: it then exits 126 or 127 with the reason on its terminal, as the
//                      launcher does; or, if it could not take the terminal, 126 with none)
//   failed ID ERRNO    no child could be made
//   exit PID CODE SIG  a child ended: its exit code (0 if a signal ended it) and that signal (0 if none)
// A request that cannot be read is a bug of the supervisor's: this process says so on standard error
// and exits 2. It exits 0 at the end of its input (its supervisor has gone): its children go on, as
// the workers of a supervisor that crashed always have, and are found again by their markers.
#include <poll.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>

extern char **environ;

/** At most this much of one request (command line and environment): a larger one is refused. */
#define MAX_REQUEST (16 * 1024 * 1024)
#define MAX_FIELDS 65536

static void reply(const char *format, ...) {
  char line[128];
  va_list args;
  va_start(args, format);
  int n = vsnprintf(line, sizeof line, format, args);
  va_end(args);
  if (n < 0 || (size_t)n >= sizeof line) _exit(2); // never: its fields are numbers the supervisor made
  // A short line to a pipe is written whole; a supervisor that is gone ends this process.
  if (write(STDOUT_FILENO, line, (size_t)n) != n) _exit(0);
}

static int broken(const char *why) {
  dprintf(STDERR_FILENO, "baton-launch --serve: %s\n", why);
  return 2;
}

/**
 * The child: a session of its own whose controlling terminal is TTY, then the launcher. Closing
 * `ready` (with every other descriptor but the terminal) tells the spawner it holds the terminal: a
 * Ctrl+C typed before then would reach no process.
 */
static void child(char *tty, const char *cwd, int argc, char **argv, char **env, const sigset_t *mask) {
  sigprocmask(SIG_SETMASK, mask, NULL);
  signal(SIGPIPE, SIG_DFL);
  if (setsid() < 0) _exit(126);
  int fd = open(tty, O_RDWR | O_NOCTTY);
  if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) != 0) _exit(126);
  for (int target = 0; target <= 2; target++)
    if (dup2(fd, target) < 0) _exit(126);
  if (fd > 2) close(fd);
  // The terminal's modes as node-pty's fork sets them (UTF-8 input among them), over the kernel's.
  struct termios modes;
  if (tcgetattr(STDIN_FILENO, &modes) == 0) {
    modes.c_iflag |= BRKINT | IXANY | IMAXBEL | IUTF8;
    modes.c_cflag |= HUPCL;
    modes.c_cc[VEOL] = modes.c_cc[VEOL2] = 0377;
    tcsetattr(STDIN_FILENO, TCSANOW, &modes);
  }
  // Nothing else of this process's reaches the agent (its pipes to the supervisor, its signalfd).
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
#endif
    for (int other = 3; other < 1024; other++) close(other);
  if (chdir(cwd) != 0) {
    dprintf(STDERR_FILENO, "baton-launch: cannot enter %s: %s\n", cwd, strerror(errno));
    _exit(126);
  }
  environ = env;
  _exit(launch(argc, argv));
}

/** The next field of `buffer` from `*at`, or NULL when its end is not in yet. */
static char *field(char *buffer, size_t length, size_t *at) {
  char *start = buffer + *at;
  char *end = memchr(start, '\0', length - *at);
  if (end == NULL) return NULL;
  *at = (size_t)(end - buffer) + 1;
  return start;
}

static int count(const char *text, long *value) {
  char *end;
  errno = 0;
  *value = strtol(text, &end, 10);
  return errno == 0 && *end == '\0' && *value >= 0 && *value < MAX_FIELDS;
}

/** Children made whose terminal is not yet theirs: their `started` waits until it is. */
struct pending {
  pid_t pid;
  int ready;
  char id[24];
};
static struct pending *pendings;
static size_t pending_count, pending_capacity;

static void wait_until_held(const char *id, pid_t pid, int ready) {
  if (pending_count == pending_capacity) {
    size_t more = pending_capacity ? pending_capacity * 2 : 64;
    struct pending *larger = realloc(pendings, more * sizeof *pendings);
    if (!larger) {
      // No room to wait alongside the others: waits here instead.
      char byte;
      while (read(ready, &byte, 1) < 0 && errno == EINTR) {
      }
      reply("started %s %ld\n", id, (long)pid);
      close(ready);
      return;
    }
    pendings = larger;
    pending_capacity = more;
  }
  struct pending *entry = &pendings[pending_count++];
  entry->pid = pid;
  entry->ready = ready;
  strcpy(entry->id, id);
}

/**
 * Serves the first whole request of `buffer`, if it holds one: its length, 0 when more must come
 * first, -1 when it cannot be read.
 */
static long serve_one(char *buffer, size_t length, char **fields, const sigset_t *mask) {
  size_t at = 0;
  char *verb = field(buffer, length, &at), *id = NULL, *tty = NULL, *cwd = NULL, *n = NULL;
  if (verb && strcmp(verb, "spawn") != 0) return -1;
  if (!verb || !(id = field(buffer, length, &at)) || !(tty = field(buffer, length, &at)) ||
      !(cwd = field(buffer, length, &at)) || !(n = field(buffer, length, &at)))
    return 0;
  long argc, envc;
  if (!count(n, &argc) || argc < 2) return -1;
  for (long k = 0; k < argc; k++)
    if (!(fields[k] = field(buffer, length, &at))) return 0;
  fields[argc] = NULL;
  if (!(n = field(buffer, length, &at))) return 0;
  if (!count(n, &envc) || argc + 1 + envc + 1 > MAX_FIELDS) return -1;
  char **env = fields + argc + 1;
  for (long k = 0; k < envc; k++)
    if (!(env[k] = field(buffer, length, &at))) return 0;
  env[envc] = NULL;
  if (strlen(id) >= sizeof pendings[0].id) return -1;
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) {
    reply("failed %s %d\n", id, errno);
    return (long)at;
  }
  pid_t pid = fork();
  if (pid == 0) child(tty, cwd, (int)argc, fields, env, mask);
  int error = errno;
  close(ready[1]);
  if (pid < 0) {
    close(ready[0]);
    reply("failed %s %d\n", id, error);
  } else {
    // Told once the child holds its terminal (its end of `ready` closes then, or when it dies
    // trying); meanwhile, other requests are served and other children set themselves up.
    wait_until_held(id, pid, ready[0]);
  }
  return (long)at;
}

/** Tells the supervisor that pending child `k` holds its terminal, and forgets it. */
static void held(size_t k) {
  reply("started %s %ld\n", pendings[k].id, (long)pendings[k].pid);
  close(pendings[k].ready);
  pendings[k] = pendings[--pending_count];
}

static void reap(void) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    // A child that died before its terminal was told held: its start is told first.
    for (size_t k = 0; k < pending_count; k++)
      if (pendings[k].pid == pid) {
        held(k);
        break;
      }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    reply("exit %ld %d %d\n", (long)pid, code, sig);
  }
}

static int serve(void) {
  sigset_t children, mask;
  sigemptyset(&children);
  sigaddset(&children, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &children, &mask) != 0) return broken("cannot block SIGCHLD");
  int exits = signalfd(-1, &children, SFD_CLOEXEC | SFD_NONBLOCK);
  if (exits < 0) return broken("cannot make a signalfd");
  signal(SIGPIPE, SIG_IGN);
  char **fields = malloc(sizeof(char *) * MAX_FIELDS);
  size_t capacity = 64 * 1024, length = 0;
  char *buffer = malloc(capacity);
  if (!fields || !buffer) return broken("out of memory");
  struct pollfd *watched = NULL;
  size_t watching = 0;
  for (;;) {
    if (watching < 2 + pending_count) {
      watching = 2 + pending_capacity;
      free(watched);
      if (!(watched = malloc(watching * sizeof *watched))) return broken("out of memory");
    }
    watched[0] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
    watched[1] = (struct pollfd){.fd = exits, .events = POLLIN};
    size_t waiting = pending_count;
    for (size_t k = 0; k < waiting; k++) watched[2 + k] = (struct pollfd){.fd = pendings[k].ready, .events = POLLIN};
    if (poll(watched, 2 + waiting, -1) < 0) {
      if (errno == EINTR) continue;
      return broken("poll failed");
    }
    // From the last: `held` moves the last pending child into the place it frees.
    for (size_t k = waiting; k-- > 0;)
      if (watched[2 + k].revents) held(k);
    if (watched[1].revents) {
      struct signalfd_siginfo info;
      while (read(exits, &info, sizeof info) > 0) {
      }
      reap();
    }
    if (!watched[0].revents) continue;
    if (length == capacity) {
      if (capacity >= MAX_REQUEST) return broken("a request larger than 16 MiB");
      capacity *= 2;
      char *larger = realloc(buffer, capacity);
      if (!larger) return broken("out of memory");
      buffer = larger;
    }
    ssize_t got = read(STDIN_FILENO, buffer + length, capacity - length);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return 0; // the supervisor has gone
    length += (size_t)got;
    long used;
    while (length > 0 && (used = serve_one(buffer, length, fields, &mask)) != 0) {
      if (used < 0) return broken("a request it cannot read");
      memmove(buffer, buffer + used, length - (size_t)used);
      length -= (size_t)used;
    }
  }
}
