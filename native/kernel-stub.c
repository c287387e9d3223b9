/*
 * kernel-stub: the process Jupyter starts for an llmspell-fleet notebook in shared mode.
 *
 * Why it exists: a Node router per notebook costs about 57 MB resident (Node alone is about 41),
 * while this program costs about 1 MB. It hands its session to the per-user router host
 * (`llmspell-fleet router-host`, one Node process relaying for every notebook) over a unix
 * socket, and stands in for the kernel towards Jupyter: it lives while the session lives, passes
 * on the signals Jupyter sends, and exits with the session's exit code.
 *
 * argv: kernel-stub NODE ENTRY router FLAGS... ; argv[1..] is the standalone router's command
 * line, which this program execs instead whenever the host cannot be used, so a notebook never
 * fails because of the shared mode. The protocol is described in docs/router-host-protocol.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define HOST_START_TIMEOUT_MS 10000
#define CONNECT_RETRY_MS 10
#define MAX_LINE (1 << 20)
#define MAX_HOST_STARTS 3

static char **stub_argv;
/* The signals the stub holds in its signalfd (SIGTERM, SIGHUP, SIGINT, SIGCHLD), set by main. */
static sigset_t held;

/*
 * The standalone router: what kernel.json would run without the shared mode. Signals that came
 * while the stub tried the host are settled first, so unblocking them cannot kill it: a stop
 * asked before the router ran is honoured by exiting, an interrupt of nothing is dropped, and a
 * host child that has exited is reaped (the router would never wait for it).
 */
static void exec_standalone(void) {
  struct timespec now = {0, 0};
  int sig;
  while ((sig = sigtimedwait(&held, NULL, &now)) > 0) {
    if (sig == SIGTERM || sig == SIGHUP) _exit(0);
  }
  while (waitpid(-1, NULL, WNOHANG) > 0) {}
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  execv(stub_argv[1], stub_argv + 1);
  fprintf(stderr, "llmspell-fleet: cannot run the router %s: %s; reinstall the kernelspec (llmspell-fleet install)\n",
          stub_argv[1], strerror(errno));
  _exit(127);
}

/* Growable byte buffer for the hello line. */
struct buf {
  char *data;
  size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (b->len + n + 1 > cap) cap *= 2;
    char *grown = realloc(b->data, cap);
    if (!grown) exec_standalone();
    b->data = grown;
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = 0;
}

static void puts_raw(struct buf *b, const char *s) { put(b, s, strlen(s)); }

static void put_json_string(struct buf *b, const char *s) {
  put(b, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char esc[8];
    if (*p == '"' || *p == '\\') {
      esc[0] = '\\';
      esc[1] = (char)*p;
      put(b, esc, 2);
    } else if (*p < 0x20) {
      snprintf(esc, sizeof esc, "\\u%04x", *p);
      put(b, esc, 6);
    } else {
      put(b, (const char *)p, 1);
    }
  }
  put(b, "\"", 1);
}

/* $LLMSPELL_FLEET_HOME (with "~/" and relative paths as the CLI reads them), else ~/.llmspell/fleet. */
static int fleet_home(char *out, size_t size) {
  const char *home = getenv("HOME");
  if (!home || !*home) {
    struct passwd *pw = getpwuid(getuid());
    home = pw ? pw->pw_dir : NULL;
  }
  const char *set = getenv("LLMSPELL_FLEET_HOME");
  int n;
  if (set && *set) {
    if (set[0] == '~' && (set[1] == '/' || set[1] == 0)) {
      if (!home) return -1;
      n = snprintf(out, size, "%s%s", home, set + 1);
    } else if (set[0] == '/') {
      n = snprintf(out, size, "%s", set);
    } else {
      char cwd[PATH_MAX];
      if (!getcwd(cwd, sizeof cwd)) return -1;
      n = snprintf(out, size, "%s/%s", cwd, set);
    }
  } else {
    if (!home) return -1;
    n = snprintf(out, size, "%s/.llmspell/fleet", home);
  }
  return n > 0 && (size_t)n < size ? 0 : -1;
}

static int try_connect(const struct sockaddr_un *addr) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) == 0) return fd;
  int saved = errno;
  close(fd);
  errno = saved;
  return -1;
}

/* The host in a session of its own, so Jupyter's signals to this kernel's group never reach it. */
static pid_t start_host(void) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  setsid();
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
  }
  /* A daemon keeps nothing of the kernel process it happened to start from. */
  long max_fd = sysconf(_SC_OPEN_MAX);
  for (long fd = 3; fd < (max_fd > 0 && max_fd < 65536 ? max_fd : 65536); fd++) close((int)fd);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  char *host_argv[] = {stub_argv[1], stub_argv[2], "router-host", NULL};
  execv(stub_argv[1], host_argv);
  _exit(127);
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int connect_host(void) {
  char home[PATH_MAX];
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (fleet_home(home, sizeof home) != 0) return -1;
  int n = snprintf(addr.sun_path, sizeof addr.sun_path, "%s/router-host.sock", home);
  if (n < 0 || (size_t)n >= sizeof addr.sun_path) return -1;
  int fd = try_connect(&addr);
  if (fd >= 0 || (errno != ENOENT && errno != ECONNREFUSED)) return fd;
  pid_t host = start_host();
  if (host < 0) return -1;
  int starts = 1;
  long deadline = now_ms() + HOST_START_TIMEOUT_MS;
  while (now_ms() < deadline) {
    struct timespec wait = {0, CONNECT_RETRY_MS * 1000000L};
    nanosleep(&wait, NULL);
    fd = try_connect(&addr);
    if (fd >= 0) return fd;
    int refused = errno == ENOENT || errno == ECONNREFUSED;
    int status;
    /*
     * A host that lost the race to another one exits 0 and the winner serves; any other end is a
     * failure. If the winner is gone too (it was exiting), start one again, a few times at most.
     */
    if (host > 0 && waitpid(host, &status, WNOHANG) == host) {
      host = 0;
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
    }
    if (host == 0 && refused && starts < MAX_HOST_STARTS) {
      host = start_host();
      starts++;
      if (host < 0) return -1;
    }
  }
  return -1;
}

static int write_all(int fd, const char *data, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

static int send_hello(int fd, int argc) {
  struct buf b = {0};
  char num[32];
  char cwd[PATH_MAX];
  puts_raw(&b, "{\"v\":1,\"pid\":");
  snprintf(num, sizeof num, "%ld", (long)getpid());
  puts_raw(&b, num);
  puts_raw(&b, ",\"ppid\":");
  snprintf(num, sizeof num, "%ld", (long)getppid());
  puts_raw(&b, num);
  puts_raw(&b, ",\"cwd\":");
  put_json_string(&b, getcwd(cwd, sizeof cwd) ? cwd : "/");
  puts_raw(&b, ",\"argv\":[");
  for (int i = 1; i < argc; i++) {
    if (i > 1) puts_raw(&b, ",");
    put_json_string(&b, stub_argv[i]);
  }
  puts_raw(&b, "],\"env\":{");
  int first = 1;
  for (char **e = environ; *e; e++) {
    char *eq = strchr(*e, '=');
    if (!eq || eq == *e) continue;
    if (!first) puts_raw(&b, ",");
    first = 0;
    *eq = 0;
    put_json_string(&b, *e);
    *eq = '=';
    puts_raw(&b, ":");
    put_json_string(&b, eq + 1);
  }
  puts_raw(&b, "}}\n");
  /* The host refuses a first line over MAX_LINE; such an environment runs the standalone router. */
  if (b.len > MAX_LINE) {
    free(b.data);
    return -1;
  }
  int rc = write_all(fd, b.data, b.len);
  free(b.data);
  return rc;
}

static int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static size_t put_utf8(char *out, unsigned long cp) {
  if (cp < 0x80) { out[0] = (char)cp; return 1; }
  if (cp < 0x800) { out[0] = (char)(0xC0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | (cp >> 12)); out[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (cp >> 18)); out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

static long read_u16(const char *p) {
  long v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hex(p[i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

/* Decodes, in place, the JSON string whose first character is at p (after the quote); returns its length or -1. */
static long json_string(char *p) {
  char *start = p, *out = p;
  while (*p && *p != '"') {
    if (*p != '\\') { *out++ = *p++; continue; }
    p++;
    switch (*p) {
      case 'n': *out++ = '\n'; break;
      case 't': *out++ = '\t'; break;
      case 'r': *out++ = '\r'; break;
      case 'b': *out++ = '\b'; break;
      case 'f': *out++ = '\f'; break;
      case '"': case '\\': case '/': *out++ = *p; break;
      case 'u': {
        long cp = read_u16(p + 1);
        if (cp < 0) return -1;
        p += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && p[1] == '\\' && p[2] == 'u') {
          long low = read_u16(p + 3);
          if (low >= 0xDC00 && low < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            p += 6;
          }
        }
        out += put_utf8(out, (unsigned long)cp);
        break;
      }
      default: return -1;
    }
    p++;
  }
  return *p == '"' ? (long)(out - start) : -1;
}

/* What a host line asks of the stub. */
enum action { KEEP_WAITING, EXIT_WITH, FALL_BACK };

/*
 * One line from the host: {"exit":N}, {"stderr":"..."}, {"fallback":"..."} or anything else
 * (ignored, so a newer host can say more). Only the first key matters: the host writes one per line.
 */
static enum action host_line(char *line, int *code) {
  char *p = line;
  while (*p == ' ') p++;
  if (*p++ != '{') return KEEP_WAITING;
  while (*p == ' ') p++;
  if (*p++ != '"') return KEEP_WAITING;
  char *key = p;
  char *end = strchr(p, '"');
  if (!end) return KEEP_WAITING;
  *end = 0;
  p = end + 1;
  while (*p == ' ' || *p == ':') p++;
  if (strcmp(key, "exit") == 0) {
    *code = (int)strtol(p, NULL, 10);
    return EXIT_WITH;
  }
  if (strcmp(key, "fallback") == 0) return FALL_BACK;
  if (strcmp(key, "stderr") == 0 && *p == '"') {
    long n = json_string(p + 1);
    if (n > 0) write_all(2, p + 1, (size_t)n);
  }
  return KEEP_WAITING;
}

static const char *signal_name(int sig) {
  switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    case SIGINT: return "SIGINT";
    default: return NULL;
  }
}

/* Relays signals to the host and host lines to this process until the session ends. */
static int serve(int sock, int sigfd) {
  static char in[MAX_LINE + 1];
  size_t have = 0;
  struct pollfd fds[2] = {{.fd = sock, .events = POLLIN}, {.fd = sigfd, .events = POLLIN}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (fds[1].revents & POLLIN) {
      struct signalfd_siginfo info;
      while (read(sigfd, &info, sizeof info) == (ssize_t)sizeof info) {
        if (info.ssi_signo == SIGCHLD) {
          while (waitpid(-1, NULL, WNOHANG) > 0) {}
          continue;
        }
        const char *name = signal_name((int)info.ssi_signo);
        char msg[64];
        int n = snprintf(msg, sizeof msg, "{\"signal\":\"%s\"}\n", name ? name : "SIGTERM");
        write_all(sock, msg, (size_t)n);
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(sock, in + have, MAX_LINE - have);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        static const char gone[] = "llmspell-fleet: the router host exited; restart the kernel\n";
        write_all(2, gone, sizeof gone - 1);
        return 1;
      }
      have += (size_t)n;
      in[have] = 0;
      char *line = in, *nl;
      while ((nl = memchr(line, '\n', have - (size_t)(line - in))) != NULL) {
        *nl = 0;
        int code = 0;
        enum action act = host_line(line, &code);
        if (act == EXIT_WITH) return code;
        if (act == FALL_BACK) {
          close(sock);
          exec_standalone();
        }
        line = nl + 1;
      }
      have -= (size_t)(line - in);
      memmove(in, line, have);
      if (have == MAX_LINE) have = 0; /* a line longer than any the host writes: drop it */
    }
  }
}

int main(int argc, char **argv) {
  stub_argv = argv;
  if (argc < 4) {
    fprintf(stderr, "usage: kernel-stub NODE ENTRY router [FLAGS...]: the kernelspec's command line, written by llmspell-fleet install\n");
    return 2;
  }
  /* A --local router's backend lives and dies with its own process: nothing to share, so no host. */
  const char *mode = getenv("LLMSPELL_FLEET_ROUTER");
  const char *fleet_mode = getenv("LLMSPELL_FLEET_MODE");
  if ((mode && strcmp(mode, "process") == 0) || (fleet_mode && strcmp(fleet_mode, "local") == 0) || strcmp(argv[3], "router") != 0) exec_standalone();
  for (int i = 4; i < argc; i++) {
    if (strcmp(argv[i], "--local") == 0) exec_standalone();
  }

  /* Signals wait in a signalfd from the start, so none sent while connecting is lost. */
  sigemptyset(&held);
  sigaddset(&held, SIGTERM);
  sigaddset(&held, SIGHUP);
  sigaddset(&held, SIGINT);
  sigaddset(&held, SIGCHLD);
  sigprocmask(SIG_BLOCK, &held, NULL);
  signal(SIGPIPE, SIG_IGN);
  int sigfd = signalfd(-1, &held, SFD_NONBLOCK | SFD_CLOEXEC);

  int sock = connect_host();
  if (sock < 0 || sigfd < 0 || send_hello(sock, argc) != 0) {
    if (sock >= 0) close(sock);
    exec_standalone();
  }
  return serve(sock, sigfd);
}
