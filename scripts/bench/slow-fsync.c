/*
 * A slow disk without a slow device: LD_PRELOAD this into a process and every fsync(2) and
 * fdatasync(2) it makes sleeps GLACIS_BENCH_FSYNC_DELAY_US microseconds first, then syncs. Both
 * SQLite (the coordinator) and libuv's thread pool (the party's logs) call them through libc, so
 * one shim slows every durable write of the service without touching its code. Bench only
 * (scripts/bench/slow-fsync.mjs builds it with the system's cc).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

static void delay(void) {
  const char *s = getenv("GLACIS_BENCH_FSYNC_DELAY_US");
  long us = s ? atol(s) : 0;
  if (us <= 0) return;
  struct timespec t = {us / 1000000, (us % 1000000) * 1000};
  while (nanosleep(&t, &t) != 0) {
  }
}

int fsync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  delay();
  return real(fd);
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  delay();
  return real(fd);
}
