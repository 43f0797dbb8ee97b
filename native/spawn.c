// baton-spawn: starts the supervisor's agents, each in a terminal the supervisor opened, so that the
// supervisor never forks itself (scripts/native.mjs builds it; src/supervisor/spawner.ts runs it).
//
// A fork copies the page tables of the process that forks, and every page it writes afterwards
// faults once: for a supervisor of 80 MB that was 1 to 3 ms of its CPU per agent, with its event
// loop held the while (11 ms seen with 8 agents starting on 2 cores). This program is a few hundred
// kilobytes: its forks cost a tenth of a millisecond, off the supervisor's event loop.
//
// Requests come on standard input, each as its length in bytes (decimal digits, then '\n') and that
// many bytes: NUL-terminated fields ID, TTY, CWD, SHIELD, NICE, FILE, ARGC, ARGC arguments, ENVC,
// ENVC variables. The program FILE is run by execvp with those arguments (the first is its argv[0])
// and that environment, in CWD, as the leader of a session of its own whose controlling terminal is
// TTY (the slave end of the supervisor's terminal), on its standard input, output and error, with
// every signal at its default action, unblocked. SHIELD "1" ignores SIGINT, SIGQUIT, SIGTERM and
// SIGHUP instead, and NICE (0 to 19) lowers the priority of the session (its autogroup) and of the
// program: what `baton-launch --shield --nice NICE` (native/launch.c) does before it runs bubblewrap,
// done here, one exec fewer an agent. Replies go to standard output, one line each:
//
//   S ID PID        it runs (its exec succeeded)
//   F ID ERRNO      it could not start (the open of TTY, the chdir to CWD, or the exec failed)
//   X PID STATUS    a program it started ended; STATUS is the raw status waitpid gave
//   E WHY           a request it could not read (then it ends)
//
// It ends when its standard input does (the supervisor is gone), and leaves what it started running,
// as the supervisor's own children were left before. It never signals anything.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

extern char **environ;

/** The most one request may hold: an agent's environment and arguments, with room to spare. */
#define MAX_REQUEST (8 * 1024 * 1024)

static char *buffer;
static size_t held;

/** Writes `line` whole to standard output; ends the program if the supervisor is gone. */
static void reply(const char *line, size_t length) {
  while (length > 0) {
    ssize_t n = write(STDOUT_FILENO, line, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(0);
    line += n;
    length -= (size_t)n;
  }
}

static void replyf(const char *format, long a, long b) {
  char line[64];
  int n = snprintf(line, sizeof line, format, a, b);
  reply(line, (size_t)n);
}

/** The terminal settings node-pty gives its terminals, which agents have always run under. */
static void set_terminal(int fd) {
  struct termios t;
  if (tcgetattr(fd, &t) != 0) return;
  t.c_iflag = ICRNL | IXON | IXANY | IMAXBEL | BRKINT | IUTF8;
  t.c_oflag = OPOST | ONLCR;
  t.c_cflag = CREAD | CS8 | HUPCL;
  t.c_lflag = ICANON | ISIG | IEXTEN | ECHO | ECHOE | ECHOK | ECHOKE | ECHOCTL;
  t.c_cc[VEOF] = 4;
  t.c_cc[VEOL] = 0xff;
  t.c_cc[VEOL2] = 0xff;
  t.c_cc[VERASE] = 0x7f;
  t.c_cc[VWERASE] = 23;
  t.c_cc[VKILL] = 21;
  t.c_cc[VREPRINT] = 18;
  t.c_cc[VINTR] = 3;
  t.c_cc[VQUIT] = 0x1c;
  t.c_cc[VSUSP] = 26;
  t.c_cc[VSTART] = 17;
  t.c_cc[VSTOP] = 19;
  t.c_cc[VLNEXT] = 22;
  t.c_cc[VDISCARD] = 15;
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  cfsetispeed(&t, B38400);
  cfsetospeed(&t, B38400);
  tcsetattr(fd, TCSANOW, &t);
}

/** What a request asks of its program besides what it runs: see the header. */
struct start {
  const char *tty, *cwd, *file;
  int shield;
  long nice;
};

/** The signals a terminal's keys or a stop send, which bubblewrap must not die of (see launch.c). */
static const int SHIELDED[] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP};

/** Lowers the priority of this process (a session leader) and of its session, as launch.c does. */
static void lower(long by) {
  int group = open("/proc/self/autogroup", O_WRONLY | O_CLOEXEC);
  if (group >= 0) {
    dprintf(group, "%ld", by);
    close(group);
  }
  errno = 0;
  (void)nice((int)by);
}

/** In the child: becomes what the request asks and runs it; never returns. */
static void become(const struct start *start, char **argv, char **envp, int status) {
  sigset_t none;
  sigemptyset(&none);
  for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
  if (start->shield)
    for (size_t k = 0; k < sizeof SHIELDED / sizeof SHIELDED[0]; k++) signal(SHIELDED[k], SIG_IGN);
  sigprocmask(SIG_SETMASK, &none, NULL);
  const char *tty = start->tty, *cwd = start->cwd, *file = start->file;
  int failed = 0;
  int fd = -1;
  if (setsid() < 0) failed = errno;
  else if (start->nice > 0) lower(start->nice);
  // A session leader without a terminal takes the first it opens as its controlling terminal.
  if (!failed && (fd = open(tty, O_RDWR)) < 0) failed = errno;
  if (!failed && ioctl(fd, TIOCSCTTY, 0) != 0) failed = errno;
  if (!failed) {
    set_terminal(fd);
    for (int i = 0; i < 3; i++)
      if (dup2(fd, i) < 0) failed = errno;
    if (fd > 2) close(fd);
  }
  if (!failed && chdir(cwd) != 0) failed = errno;
  if (!failed) {
    environ = envp;
    execvp(file, argv);
    failed = errno;
  }
  (void)!write(status, &failed, sizeof failed);
  _exit(127);
}

/** Splits `count` NUL-terminated strings off `*at` (before `end`) into a new NULL-ended array. */
static char **strings(char **at, char *end, long count) {
  if (count < 0 || count > MAX_REQUEST) return NULL;
  char **list = calloc((size_t)count + 1, sizeof *list);
  if (list == NULL) return NULL;
  for (long i = 0; i < count; i++) {
    char *nul = memchr(*at, '\0', (size_t)(end - *at));
    if (nul == NULL) {
      free(list);
      return NULL;
    }
    list[i] = *at;
    *at = nul + 1;
  }
  return list;
}

static char *field(char **at, char *end) {
  char *nul = memchr(*at, '\0', (size_t)(end - *at));
  if (nul == NULL) return NULL;
  char *value = *at;
  *at = nul + 1;
  return value;
}

/** Runs one request (`length` bytes at `at`); false if it is malformed. */
static int run(char *at, size_t length) {
  char *end = at + length;
  char *id = field(&at, end), *tty = field(&at, end), *cwd = field(&at, end);
  char *shield = field(&at, end), *nice_by = field(&at, end), *file = field(&at, end);
  char *argc = field(&at, end);
  if (argc == NULL) return 0;
  char *nice_end;
  struct start start = {tty, cwd, file, strcmp(shield, "1") == 0, strtol(nice_by, &nice_end, 10)};
  if (*nice_end != '\0' || start.nice < 0 || start.nice > 19) return 0;
  char **argv = strings(&at, end, strtol(argc, NULL, 10));
  char *envc = argv == NULL ? NULL : field(&at, end);
  char **envp = envc == NULL ? NULL : strings(&at, end, strtol(envc, NULL, 10));
  if (envp == NULL || argv[0] == NULL || at != end) {
    free(argv);
    free(envp);
    return 0;
  }
  long number = strtol(id, NULL, 10);
  int status[2];
  if (pipe2(status, O_CLOEXEC) != 0) {
    replyf("F %ld %ld\n", number, errno);
  } else {
    pid_t pid = fork();
    if (pid == 0) become(&start, argv, envp, status[1]);
    int failed = pid < 0 ? errno : 0;
    close(status[1]);
    // The exec closes the pipe (close-on-exec): nothing read means it runs.
    if (pid > 0) {
      ssize_t n;
      while ((n = read(status[0], &failed, sizeof failed)) < 0 && errno == EINTR) {
      }
      if (n != sizeof failed) failed = 0;
    }
    close(status[0]);
    if (failed) replyf("F %ld %ld\n", number, failed);
    else replyf("S %ld %ld\n", number, pid);
  }
  free(argv);
  free(envp);
  return 1;
}

/** Runs every whole request held; false if one is malformed. */
static int drain(void) {
  for (;;) {
    char *newline = memchr(buffer, '\n', held < 16 ? held : 16);
    if (newline == NULL) return held < 16;
    char *digits_end;
    long length = strtol(buffer, &digits_end, 10);
    if (digits_end != newline || length <= 0 || length > MAX_REQUEST) return 0;
    size_t header = (size_t)(newline - buffer) + 1;
    if (held < header + (size_t)length) return 1;
    if (!run(buffer + header, (size_t)length)) return 0;
    held -= header + (size_t)length;
    memmove(buffer, buffer + header + (size_t)length, held);
  }
}

static void reap(void) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) replyf("X %ld %ld\n", pid, status);
}

int main(void) {
  // Only what it was given on purpose stays open: nothing of the supervisor's reaches an agent.
#ifdef SYS_close_range
  syscall(SYS_close_range, 3U, ~0U, 0U);
#endif
  signal(SIGPIPE, SIG_IGN);
  sigset_t child;
  sigemptyset(&child);
  sigaddset(&child, SIGCHLD);
  sigprocmask(SIG_BLOCK, &child, NULL);
  int ended = signalfd(-1, &child, SFD_CLOEXEC | SFD_NONBLOCK);
  buffer = malloc(MAX_REQUEST + 32);
  if (ended < 0 || buffer == NULL) {
    reply("E cannot start\n", 15);
    return 1;
  }
  struct pollfd watch[2] = {{.fd = STDIN_FILENO, .events = POLLIN}, {.fd = ended, .events = POLLIN}};
  for (;;) {
    if (poll(watch, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (watch[1].revents) {
      struct signalfd_siginfo info;
      while (read(ended, &info, sizeof info) > 0) {
      }
      reap();
    }
    if (watch[0].revents) {
      ssize_t n = read(STDIN_FILENO, buffer + held, MAX_REQUEST + 32 - held);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) return 0;
      held += (size_t)n;
      if (!drain()) {
        reply("E a request it could not read\n", 30);
        return 1;
      }
    }
  }
}
