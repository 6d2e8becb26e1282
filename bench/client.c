/*
 * vigil-client: a load client for the benchmarks. It sends files of reports (JSON lines)
 * to vigild over its Unix stream socket as fast as the daemon takes them, reads every
 * answer, and prints the rate. It is C so that the client takes little of the machine
 * it measures (the Python clients it replaces took a large share of two cores).
 *
 * build: cc -O2 -pthread -o vigil-client bench/client.c
 * usage: vigil-client [-c N] [-p PREFIX] SOCKET FILE [FILE...]
 *   FILE...    read whole into memory (concatenated, a newline added where one is
 *              missing) before anything is sent, so the disk is not measured
 *   -c N       N connections at once (default 1): the lines are split into N contiguous
 *              parts of (nearly) equal count, one a connection, all started together
 *   -p PREFIX  rewrite the first "id":"RPT- of each line to "id":"PREFIX- while the
 *              buffer is prepared (before the clock starts), so the reports are new to a
 *              daemon that has seen them before
 *
 * Each connection has a writer thread (write() in 1 MiB chunks, then shutdown(SHUT_WR))
 * and a reader thread (read() into a 1 MiB buffer, newlines found with memchr, only the
 * last incomplete answer kept). The clock (CLOCK_MONOTONIC) runs from just before the
 * first write to the last connection's EOF.
 *
 * Prints one line:
 *   <answers> <seconds> <answers/s> <pattern alerts> <late> client_cpu_s=<s> client_share=<f> ok=<n> other=<n>
 * The first five fields are those the scripts read (`read -r n seconds rate patterns late _`),
 * as the Python client bench/feed.py printed them before: pattern alerts are occurrences
 * of "rule":"patterns. in the answers; late is answers with "does not count toward
 * patterns".
 * client_cpu_s is this process's user + system time (getrusage) over the measured
 * interval; client_share is that divided by (seconds x online cores): the fraction of the
 * machine the client took. ok counts answers that start {"ok":true, other the rest.
 * Exits 1, with a message on standard error, when a connect, read or write fails or
 * when the number of answers differs from the number of lines sent; 2 on bad usage.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1 << 20)       /* bytes per write() */
#define READ_BUFFER (1 << 20) /* initial read buffer; grows only for a longer answer */

static const char OK_PREFIX[] = "{\"ok\":true";
static const char PATTERN[] = "\"rule\":\"patterns.";
static const char LATE[] = "does not count toward patterns";
static const char ID_FROM[] = "\"id\":\"RPT-";

/* One connection: its part of the buffer, and what its reader counted. */
struct conn {
  int fd;
  const char *data;
  size_t size;
  long lines; /* lines in data */
  long answers, ok, other, patterns, late;
  struct timespec eof;   /* when the reader saw EOF */
  char write_error[200]; /* set by the writer when it failed; empty when fine */
  char read_error[200];  /* the same for the reader */
};

static void die(const char *format, ...) {
  va_list args;
  va_start(args, format);
  fputs("vigil-client: ", stderr);
  vfprintf(stderr, format, args);
  fputc('\n', stderr);
  va_end(args);
  exit(1);
}

static void *xrealloc(void *p, size_t size) {
  void *q = realloc(p, size);
  if (q == NULL) die("out of memory (%zu bytes)", size);
  return q;
}

/* Appends the whole of FILE to *buf (of *len bytes, *cap allocated), ending in a newline. */
static void append_file(const char *file, char **buf, size_t *len, size_t *cap) {
  int fd = open(file, O_RDONLY);
  if (fd < 0) die("%s: %s", file, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) die("%s: %s", file, strerror(errno));
  size_t want = *len + (size_t)st.st_size + 1;
  if (want > *cap) {
    *cap = want;
    *buf = xrealloc(*buf, *cap);
  }
  for (;;) {
    if (*len == *cap) { /* the file grew since fstat */
      *cap *= 2;
      *buf = xrealloc(*buf, *cap);
    }
    ssize_t n = read(fd, *buf + *len, *cap - *len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("%s: %s", file, strerror(errno));
    if (n == 0) break;
    *len += (size_t)n;
  }
  close(fd);
  if (*len > 0 && (*buf)[*len - 1] != '\n') {
    if (*len == *cap) *buf = xrealloc(*buf, ++*cap);
    (*buf)[(*len)++] = '\n';
  }
}

/* A copy of IN (LEN bytes, whole lines) with the first "id":"RPT- of each line
 * rewritten to "id":"PREFIX-; *out_len is the copy's length. */
static char *rename_ids(const char *in, size_t len, const char *prefix, long lines, size_t *out_len) {
  size_t from = sizeof ID_FROM - 1;
  size_t plen = strlen(prefix);
  /* "id":"PREFIX- is 7 + plen bytes against 10: a line grows by at most plen. */
  size_t cap = len + (size_t)lines * plen + 1;
  char *out = xrealloc(NULL, cap);
  size_t o = 0;
  const char *p = in, *end = in + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = nl ? nl + 1 : end;
    const char *hit = memmem(p, (size_t)(line_end - p), ID_FROM, from);
    if (hit != NULL) {
      memcpy(out + o, p, (size_t)(hit - p));
      o += (size_t)(hit - p);
      memcpy(out + o, "\"id\":\"", 6);
      o += 6;
      memcpy(out + o, prefix, plen);
      o += plen;
      out[o++] = '-';
      p = hit + from;
    }
    memcpy(out + o, p, (size_t)(line_end - p));
    o += (size_t)(line_end - p);
    p = line_end;
  }
  *out_len = o;
  return out;
}

static long count_lines(const char *p, size_t len) {
  long n = 0;
  const char *end = p + len;
  while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
    n++;
    p++;
  }
  return n;
}

static void *writer(void *arg) {
  struct conn *c = arg;
  size_t sent = 0;
  while (sent < c->size) {
    size_t n = c->size - sent < CHUNK ? c->size - sent : CHUNK;
    ssize_t w = write(c->fd, c->data + sent, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      snprintf(c->write_error, sizeof c->write_error, "write after %zu of %zu bytes: %s", sent, c->size,
               strerror(errno));
      shutdown(c->fd, SHUT_RDWR); /* let the reader stop too */
      return NULL;
    }
    sent += (size_t)w;
  }
  if (shutdown(c->fd, SHUT_WR) != 0)
    snprintf(c->write_error, sizeof c->write_error, "shutdown: %s", strerror(errno));
  return NULL;
}

/* Counts one complete answer (without its newline). */
static void count_answer(struct conn *c, const char *line, size_t len) {
  c->answers++;
  if (len >= sizeof OK_PREFIX - 1 && memcmp(line, OK_PREFIX, sizeof OK_PREFIX - 1) == 0)
    c->ok++;
  else
    c->other++;
  const char *p = line, *end = line + len;
  const char *hit;
  while ((hit = memmem(p, (size_t)(end - p), PATTERN, sizeof PATTERN - 1)) != NULL) {
    c->patterns++;
    p = hit + sizeof PATTERN - 1;
  }
  if (memmem(line, len, LATE, sizeof LATE - 1) != NULL) c->late++;
}

static void *reader(void *arg) {
  struct conn *c = arg;
  size_t cap = READ_BUFFER, have = 0; /* have: bytes of an incomplete answer at buf's start */
  char *buf = xrealloc(NULL, cap);
  for (;;) {
    if (have == cap) { /* one answer longer than the buffer */
      cap *= 2;
      buf = xrealloc(buf, cap);
    }
    ssize_t n = read(c->fd, buf + have, cap - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      snprintf(c->read_error, sizeof c->read_error, "read after %ld answers: %s", c->answers, strerror(errno));
      break;
    }
    if (n == 0) {
      clock_gettime(CLOCK_MONOTONIC, &c->eof);
      if (have > 0)
        snprintf(c->read_error, sizeof c->read_error, "EOF inside an answer (%zu bytes without a newline)", have);
      break;
    }
    char *p = buf, *end = buf + have + (size_t)n;
    char *nl;
    while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
      count_answer(c, p, (size_t)(nl - p));
      p = nl + 1;
    }
    have = (size_t)(end - p);
    if (have > 0 && p != buf) memmove(buf, p, have);
  }
  free(buf);
  return NULL;
}

static double seconds_between(struct timespec a, struct timespec b) {
  return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

static double cpu_seconds(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) die("getrusage: %s", strerror(errno));
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         (double)ru.ru_stime.tv_usec / 1e6;
}

static void usage(void) {
  fputs("usage: vigil-client [-c N] [-p PREFIX] SOCKET FILE [FILE...]\n", stderr);
  exit(2);
}

int main(int argc, char **argv) {
  long nconn = 1;
  const char *prefix = NULL;
  int opt;
  while ((opt = getopt(argc, argv, "c:p:h")) != -1) {
    switch (opt) {
    case 'c': {
      char *end;
      nconn = strtol(optarg, &end, 10);
      if (*end != '\0' || nconn < 1 || nconn > 1024) {
        fprintf(stderr, "vigil-client: -c wants a number of connections from 1 to 1024, not %s\n", optarg);
        exit(2);
      }
      break;
    }
    case 'p': prefix = optarg; break;
    default: usage();
    }
  }
  if (argc - optind < 2) usage();
  const char *socket_path = argv[optind];
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof addr.sun_path) die("socket path too long: %s", socket_path);
  strcpy(addr.sun_path, socket_path);

  /* Prepare everything that is sent before the clock starts. */
  char *data = NULL;
  size_t len = 0, cap = 0;
  for (int i = optind + 1; i < argc; i++) append_file(argv[i], &data, &len, &cap);
  long lines = count_lines(data, len);
  if (prefix != NULL) {
    size_t renamed_len;
    char *renamed = rename_ids(data, len, prefix, lines, &renamed_len);
    free(data);
    data = renamed;
    len = renamed_len;
  }

  /* Contiguous parts of nearly equal line counts, one a connection. */
  struct conn *conns = calloc((size_t)nconn, sizeof *conns);
  if (conns == NULL) die("out of memory");
  const char *p = data, *end = data + len;
  for (long i = 0; i < nconn; i++) {
    long want = lines * (i + 1) / nconn - lines * i / nconn;
    const char *start = p;
    for (long k = 0; k < want; k++) p = (const char *)memchr(p, '\n', (size_t)(end - p)) + 1;
    conns[i].data = start;
    conns[i].size = (size_t)(p - start);
    conns[i].lines = want;
  }

  signal(SIGPIPE, SIG_IGN); /* a closed connection is an error from write(), not a signal */
  for (long i = 0; i < nconn; i++) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) die("socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0)
      die("connect to %s (connection %ld of %ld): %s", socket_path, i + 1, nconn, strerror(errno));
    conns[i].fd = fd;
  }

  pthread_t *threads = calloc((size_t)nconn * 2, sizeof *threads);
  if (threads == NULL) die("out of memory");
  double cpu0 = cpu_seconds();
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < nconn; i++) {
    int e = pthread_create(&threads[2 * i], NULL, reader, &conns[i]);
    if (e == 0) e = pthread_create(&threads[2 * i + 1], NULL, writer, &conns[i]);
    if (e != 0) die("pthread_create: %s", strerror(e));
  }
  for (long i = 0; i < 2 * nconn; i++) pthread_join(threads[i], NULL);
  double cpu = cpu_seconds() - cpu0;

  long answers = 0, ok = 0, other = 0, patterns = 0, late = 0;
  struct timespec last = t0;
  int failed = 0;
  for (long i = 0; i < nconn; i++) {
    struct conn *c = &conns[i];
    const char *problems[] = {c->write_error, c->read_error};
    for (int k = 0; k < 2; k++) {
      if (problems[k][0] != '\0') {
        fprintf(stderr, "vigil-client: connection %ld of %ld: %s\n", i + 1, nconn, problems[k]);
        failed = 1;
      }
    }
    if (c->answers != c->lines) {
      fprintf(stderr, "vigil-client: connection %ld of %ld: %ld answers to %ld reports\n", i + 1, nconn, c->answers,
              c->lines);
      failed = 1;
    }
    answers += c->answers;
    ok += c->ok;
    other += c->other;
    patterns += c->patterns;
    late += c->late;
    if (seconds_between(last, c->eof) > 0) last = c->eof;
    close(c->fd);
  }
  if (failed) die("%ld answers to %ld reports in all", answers, lines);

  double elapsed = seconds_between(t0, last);
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  if (cores < 1) cores = 1;
  double rate = elapsed > 0 ? (double)answers / elapsed : 0.0;
  double share = elapsed > 0 ? cpu / (elapsed * (double)cores) : 0.0;
  printf("%ld %.3f %.0f %ld %ld client_cpu_s=%.3f client_share=%.3f ok=%ld other=%ld\n", answers, elapsed, rate,
         patterns, late, cpu, share, ok, other);
  free(threads);
  free(conns);
  free(data);
  return 0;
}
