/*
 * udp-blast: the open-loop UDP load generator of the benchmarks, for when the sender must cost the
 * machine as little as possible (the sender shares the two cores with MUTT; a real one is another
 * host). It sends the same datagrams as the Node sender in bench/lib/udp.ts: a template with a
 * 10-digit sequence number written at a fixed offset, `rate` per second for `seconds`, in bursts of
 * about 1 ms with a sleep between them, each burst in sendmmsg(2) calls of up to 256 datagrams.
 *
 *   udp-blast PORT RATE SECONDS OFFSET TEMPLATE
 *
 *   OFFSET    where the 10 sequence digits go (0-based byte offset in TEMPLATE)
 *   TEMPLATE  the datagram, sent with digits 0000000000, 0000000001, ... at OFFSET
 *
 * Prints one line when done: "sent <n> elapsed <seconds> cpu <seconds>", cpu being this process's
 * user + system time (the kernel's loopback delivery of each datagram is done in the sender's
 * system call and counted there).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#define BURST 256
#define MAX_LEN 8192

static double seconds_since(const struct timespec *t0) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: udp-blast PORT RATE SECONDS OFFSET TEMPLATE\n");
    return 64;
  }
  int port = atoi(argv[1]);
  double rate = atof(argv[2]);
  double secs = atof(argv[3]);
  long offset = atol(argv[4]);
  const char *tmpl = argv[5];
  size_t len = strlen(tmpl);
  if (port <= 0 || port > 65535 || rate <= 0 || secs <= 0 || len == 0 || len > MAX_LEN || offset < 0 ||
      (size_t)offset + 10 > len) {
    fprintf(stderr, "udp-blast: bad arguments\n");
    return 64;
  }

  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_port = htons((unsigned short)port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (s < 0 || connect(s, (struct sockaddr *)&to, sizeof to) != 0) {
    perror("udp-blast: socket");
    return 71;
  }

  static char bufs[BURST][MAX_LEN];
  static struct iovec iov[BURST];
  static struct mmsghdr msgs[BURST];
  for (int k = 0; k < BURST; k++) {
    memcpy(bufs[k], tmpl, len);
    iov[k].iov_base = bufs[k];
    iov[k].iov_len = len;
    msgs[k].msg_hdr.msg_iov = &iov[k];
    msgs[k].msg_hdr.msg_iovlen = 1;
  }

  long total = (long)(rate * secs + 0.5);
  long sent = 0;
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  while (sent < total) {
    long due = (long)(seconds_since(&t0) * rate);
    if (due > total) due = total;
    while (sent < due) {
      int k = 0;
      for (; k < BURST && sent + k < due; k++) {
        long v = sent + k;
        for (int i = 9; i >= 0; i--) {
          bufs[k][offset + i] = (char)('0' + v % 10);
          v /= 10;
        }
      }
      int r = sendmmsg(s, msgs, (unsigned)k, 0);
      if (r < 0) {
        perror("udp-blast: sendmmsg");
        return 74;
      }
      sent += r;
    }
    struct timespec pause = {0, 1000000};
    nanosleep(&pause, NULL);
  }
  double elapsed = seconds_since(&t0);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
               (double)ru.ru_stime.tv_usec / 1e6;
  printf("sent %ld elapsed %.6f cpu %.6f\n", sent, elapsed, cpu);
  return 0;
}
