"""C source of the ftrace comparison: a loop of write(2) calls."""

# marker TARGET SIZE N RUNS [FILE]
# Writes SIZE bytes N times to TARGET (a trace_marker, or /dev/null) per run,
# after one warm-up run, and prints per run the CPU time (user + system, of
# this thread) and wall time per write (the whole loop timed), and the bytes
# the last write took (trace_marker truncates long writes). TARGET "touch"
# reads one byte of the buffer instead of writing it (the bare page fault). With FILE, the user buffer is a
# shared mapping of FILE whose pages are dropped before every write
# (madvise(MADV_DONTNEED) on the mapping and posix_fadvise(POSIX_FADV_DONTNEED)
# on the file): the copy from user memory then takes a real page fault that
# reads the page back from disk; each write is then timed on its own, the
# dropping left out. It also prints, per run, the major and minor
# faults and the voluntary context switches the writes took (getrusage).
MARKER_C = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: marker TARGET SIZE N RUNS [FILE]\n");
        return 2;
    }
    size_t size = (size_t)atol(argv[2]);
    long n = atol(argv[3]);
    int runs = atoi(argv[4]);
    const char *file = argc > 5 ? argv[5] : NULL;
    char *buf;
    int fd = -1;
    size_t span = (size + 4095) & ~(size_t)4095;
    if (file) {
        fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || ftruncate(fd, (off_t)span) != 0) { perror(file); return 1; }
        buf = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (buf == MAP_FAILED) { perror("mmap"); return 1; }
        memset(buf, 'x', span);
        if (msync(buf, span, MS_SYNC) != 0) { perror("msync"); return 1; }
    } else {
        buf = aligned_alloc(4096, span);
        memset(buf, 'x', span);
    }
    int touch = !strcmp(argv[1], "touch");
    int out = touch ? -1 : open(argv[1], O_WRONLY);
    if (!touch && out < 0) { perror(argv[1]); return 1; }
    volatile char sink;
    ssize_t took = 0;
    for (int r = -1; r < runs; r++) {
        struct rusage u0, u1;
        int64_t cpu = 0, wall = 0;
        getrusage(RUSAGE_THREAD, &u0);
        int64_t c0 = now_ns(CLOCK_THREAD_CPUTIME_ID), t0 = now_ns(CLOCK_MONOTONIC);
        for (long i = 0; i < n; i++) {
            if (file) {     /* clean pages: both calls really drop them */
                madvise(buf, span, MADV_DONTNEED);
                posix_fadvise(fd, 0, (off_t)span, POSIX_FADV_DONTNEED);
                c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
                t0 = now_ns(CLOCK_MONOTONIC);
            }
            if (touch)
                sink = buf[0];
            else
                took = write(out, buf, size);
            if (file) {
                wall += now_ns(CLOCK_MONOTONIC) - t0;
                cpu += now_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
            }
        }
        if (!file) {
            wall = now_ns(CLOCK_MONOTONIC) - t0;
            cpu = now_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
        }
        getrusage(RUSAGE_THREAD, &u1);
        if (r >= 0)
            printf("run %d cpu_ns %.2f wall_ns %.2f majflt %.4f minflt %.4f "
                   "nvcsw %.4f took %ld\n", r, (double)cpu / n, (double)wall / n,
                   (double)(u1.ru_majflt - u0.ru_majflt) / n,
                   (double)(u1.ru_minflt - u0.ru_minflt) / n,
                   (double)(u1.ru_nvcsw - u0.ru_nvcsw) / n, (long)took);
    }
    (void)sink;
    return 0;
}
"""
