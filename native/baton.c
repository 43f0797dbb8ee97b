/*
 * `baton`, the native client: the commands an orchestrator runs once per worker or per look (`spawn`,
 * `wait`, `result`, `poll`, `ls`) without starting Node. It finds the workspace's supervisor as Node's
 * CLI would, says hello on its socket (with a caller proof, as src/client/connection.ts does), and sends
 * its command line, folder, environment and whether stdout and stderr are terminals. The supervisor
 * runs the command with the very code `node dist/cli/main.js` runs (src/cli/relay.ts) and streams back
 * its output and exit code. Everything else, and anything unusual (no supervisor yet, a line the quick
 * path leaves to commander, a store it cannot vouch for), runs as `node dist/cli/main.js` with the same
 * arguments: this program has no logic of its own beyond finding the socket.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "sha256.h"
#include "workspace.h"

extern char **environ;

/* As in src/client/connection.ts. */
#define PING_AFTER_MS 1000
#define ANSWER_TIMEOUT_MS 5000
#define HELLO_ID 1
#define CLI_ID 2

static int given_argc;
static char **given_argv;

static volatile sig_atomic_t interrupts;
static void on_interrupt(int signo) {
  (void)signo;
  interrupts++;
}

/* The terminal was resized: the supervisor is told its new size, for a live display (wait). */
static volatile sig_atomic_t resized;
static void on_resize(int signo) {
  (void)signo;
  resized = 1;
}

/* Runs the command with Node's CLI instead, as if this program were not there. */
_Noreturn static void by_node(void) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 16);
  if (n <= 0) {
    fputs("baton: cannot find the CLI next to the native client (/proc/self/exe): run node dist/cli/main.js\n", stderr);
    exit(1);
  }
  self[n] = '\0';
  if (interrupts > 0) exit(130); /* Ctrl+C before anything ran */
  char *slash = strrchr(self, '/');
  strcpy(slash + 1, "main.js");
  signal(SIGINT, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  char **args = calloc((size_t)given_argc + 2, sizeof *args);
  if (!args) exit(1);
  args[0] = "node";
  args[1] = self;
  for (int i = 1; i < given_argc; i++) args[i + 1] = given_argv[i];
  execvp("node", args);
  fprintf(stderr, "baton: cannot run node (%s): install Node.js 20 or later, or put it on PATH\n", strerror(errno));
  exit(127);
}

static long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int send_all(int fd, const char *data, size_t size) {
  while (size > 0) {
    ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    data += n;
    size -= (size_t)n;
  }
  return 0;
}

/* Writes all of `text` to stdout or stderr; a reader of stdout that went away ends the command, as in Node. */
static void print(int fd, const Text *text) {
  const char *data = text->data;
  size_t size = text->size;
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (fd == 1) exit(0);
      return;
    }
    data += n;
    size -= (size_t)n;
  }
}


/* The hello, with a proof that this process is on this end (see src/protocol/caller-proof.ts). */
static int hello(Text *line, const char *socket_file, int *proof_fd) {
  uint8_t secret_bytes[32];
  char secret[65], hash[65], dir[PATH_MAX], file[PATH_MAX + 96];
  *proof_fd = -1;
  snprintf(dir, sizeof dir, "%s", socket_file);
  *strrchr(dir, '/') = '\0';
  if (getrandom(secret_bytes, sizeof secret_bytes, 0) == (ssize_t)sizeof secret_bytes) {
    for (int i = 0; i < 32; i++) snprintf(secret + 2 * i, 3, "%02x", secret_bytes[i]);
    sha256_hex(secret, 64, hash);
    snprintf(file, sizeof file, "%s/.baton-hello-%s", dir[0] ? dir : "", hash);
    *proof_fd = open(file, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (*proof_fd >= 0) unlink(file);
  }
  return text_printf(line, "{\"id\":%d,\"method\":\"hello\",\"params\":{\"pid\":%d%s%s%s}}\n", HELLO_ID, (int)getpid(),
                     *proof_fd >= 0 ? ",\"proof\":\"" : "", *proof_fd >= 0 ? secret : "", *proof_fd >= 0 ? "\"" : "");
}

/* Whether `fd` is a terminal, and its size when it is one. */
static int terminal(Text *line, int fd) {
  struct winsize size;
  if (!isatty(fd)) return text_printf(line, "{\"tty\":false}");
  if (ioctl(fd, TIOCGWINSZ, &size) != 0 || size.ws_col == 0 || size.ws_row == 0) return text_printf(line, "{\"tty\":true}");
  return text_printf(line, "{\"tty\":true,\"columns\":%u,\"rows\":%u}", (unsigned)size.ws_col, (unsigned)size.ws_row);
}

/* The `cli` request: the command line, folder, environment, and which outputs are terminals. */
static int cli_request(Text *line, const char *cwd) {
  int ok = text_printf(line, "{\"id\":%d,\"method\":\"cli\",\"params\":{\"argv\":[", CLI_ID);
  for (int i = 1; i < given_argc; i++) {
    if (i > 1) ok |= text_put(line, ",", 1);
    ok |= json_string(line, given_argv[i], strlen(given_argv[i]));
  }
  ok |= text_printf(line, "],\"cwd\":");
  ok |= json_string(line, cwd, strlen(cwd));
  ok |= text_printf(line, ",\"env\":{");
  int first = 1;
  for (char **entry = environ; *entry; entry++) {
    const char *eq = strchr(*entry, '=');
    if (!eq || eq == *entry) continue;
    if (!first) ok |= text_put(line, ",", 1);
    first = 0;
    ok |= json_string(line, *entry, (size_t)(eq - *entry));
    ok |= text_put(line, ":", 1);
    ok |= json_string(line, eq + 1, strlen(eq + 1));
  }
  ok |= text_printf(line, "},\"out\":");
  ok |= terminal(line, 1);
  ok |= text_printf(line, ",\"err\":");
  ok |= terminal(line, 2);
  return ok | text_printf(line, "}}\n");
}

int main(int argc, char **argv) {
  given_argc = argc;
  given_argv = argv;
  /* The command, after any --home: one of the quick path's, else Node's CLI runs it. */
  const char *home_flag = NULL, *command = NULL;
  for (int i = 1; i < argc && !command; i++) {
    if (strcmp(argv[i], "--home") == 0 && i + 1 < argc) home_flag = argv[++i];
    else if (strncmp(argv[i], "--home=", 7) == 0) home_flag = argv[i] + 7;
    else if (argv[i][0] == '-') by_node();
    else command = argv[i];
  }
  static const char *const QUICK[] = {"ls", "result", "poll", "wait", "spawn"};
  int quick = 0;
  for (size_t i = 0; command && i < sizeof QUICK / sizeof *QUICK; i++) quick |= strcmp(command, QUICK[i]) == 0;
  if (!quick) by_node();
  /* Ctrl+C from here on goes to the command (see below); Node's CLI, if it runs it, has its own. */
  struct sigaction action = {.sa_handler = on_interrupt};
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, NULL);
  /* Restarted where it can be: only the poll below is to wake, and Linux never restarts that one. */
  struct sigaction resize = {.sa_handler = on_resize, .sa_flags = SA_RESTART};
  sigemptyset(&resize.sa_mask);
  sigaction(SIGWINCH, &resize, NULL);

  char cwd[PATH_MAX], home[PATH_MAX], socket_file[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd) || find_home(cwd, home_flag, home) != 0 || socket_path(home, socket_file) != 0) by_node();
  char folder[PATH_MAX];
  snprintf(folder, sizeof folder, "%s", socket_file);
  *strrchr(folder, '/') = '\0';
  if (!safe_folder(folder)) by_node();

  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  if (fd < 0 || strlen(socket_file) >= sizeof address.sun_path) by_node();
  strcpy(address.sun_path, socket_file);
  if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) by_node(); /* none running: Node starts one */

  signal(SIGPIPE, SIG_IGN);

  /* The hello and the request go together: the supervisor judges the hello before it reads on. */
  Text out = {0};
  int proof_fd;
  if (hello(&out, socket_file, &proof_fd) != 0 || cli_request(&out, cwd) != 0) by_node();
  if (send_all(fd, out.data, out.size) != 0) by_node();

  Text pending = {0}, line = {0};
  int printed = 0, handled = 0, pings = 0, next_id = CLI_ID + 1;
  long heard = now_ms();
  char buffer[65536];
  for (;;) {
    while (handled < interrupts) {
      handled++;
      line.size = 0;
      text_printf(&line, "{\"id\":%d,\"method\":\"cancel\",\"params\":{\"id\":%d}}\n", next_id++, CLI_ID);
      send_all(fd, line.data, line.size);
    }
    if (resized) {
      resized = 0;
      line.size = 0;
      int failed = text_printf(&line, "{\"id\":%d,\"method\":\"resize\",\"params\":{\"id\":%d,\"out\":", next_id++, CLI_ID);
      failed |= terminal(&line, 1);
      failed |= text_printf(&line, ",\"err\":");
      failed |= terminal(&line, 2);
      failed |= text_printf(&line, "}}\n");
      if (!failed) send_all(fd, line.data, line.size);
    }
    struct pollfd ready = {.fd = fd, .events = POLLIN};
    int n = poll(&ready, 1, PING_AFTER_MS / 2);
    if (n < 0 && errno == EINTR) continue;
    long quiet = now_ms() - heard;
    if (n == 0) {
      if (quiet >= ANSWER_TIMEOUT_MS) {
        fprintf(stderr,
                "baton: the supervisor of %s is not answering: end it (its pid is in %s/supervisor.json), then run the "
                "command again\n",
                home, home);
        return 1;
      }
      if (quiet >= PING_AFTER_MS * (pings + 1)) {
        pings++;
        line.size = 0;
        text_printf(&line, "{\"id\":%d,\"method\":\"hello\",\"params\":{\"pid\":%d}}\n", next_id++, (int)getpid());
        send_all(fd, line.data, line.size);
      }
      continue;
    }
    ssize_t got = recv(fd, buffer, sizeof buffer, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    heard = now_ms();
    pings = 0;
    text_put(&pending, buffer, (size_t)got);
    char *start = pending.data, *end;
    while ((end = memchr(start, '\n', pending.size - (size_t)(start - pending.data)))) {
      Message message;
      if (json_message(start, (size_t)(end - start), &message) != 0) {
        fputs("baton: the supervisor sent a reply too garbled to read: run the command again\n", stderr);
        return 1;
      }
      start = end + 1;
      if (message.id == -1 && message.failed && !printed) by_node(); /* a request it would not read */
      if (message.id == HELLO_ID) {
        if (proof_fd >= 0) close(proof_fd);
        proof_fd = -1;
        if (!message.ok) by_node(); /* refused: Node's CLI says why, in its words */
      } else if (message.id == CLI_ID) {
        if (message.out.size) printed = 1, print(1, &message.out);
        if (message.err.size) printed = 1, print(2, &message.err);
        if (message.has_exit) return (int)message.exit;
        if ((message.fallback || message.failed) && !printed) by_node();
        if (message.failed) {
          fprintf(stderr, "baton: %.*s\n", (int)message.message.size, message.message.data ? message.message.data : "");
          return 1;
        }
      }
      text_free_message(&message);
    }
    size_t rest = pending.size - (size_t)(start - pending.data);
    memmove(pending.data, start, rest);
    pending.size = rest;
  }
  fputs("baton: the supervisor closed the connection: see `baton ls` for where the workers stand\n", stderr);
  return 1;
}
