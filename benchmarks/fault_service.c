/* Page-fault service times on this host, for the default fault model.
 *
 * minor: a file page already in the page cache, first touched through a
 *        fresh mapping (MADV_RANDOM: no fault-around batching counted);
 * major: the same after posix_fadvise(POSIX_FADV_DONTNEED) dropped the
 *        file's pages, so each touch reads from the disk.
 * Prints one line per kind: touches, faults (getrusage), median and p90 ns
 * of the touches that took a fault.  Usage: fault_service FILE MIB
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static long now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000L + t.tv_nsec; }
static int cmp(const void *a, const void *b) { long x = *(long *)a, y = *(long *)b; return (x > y) - (x < y); }

static void run(const char *what, int fd, size_t len, int drop) {
    long page = sysconf(_SC_PAGESIZE), n = len / page;
    long *dt = malloc(n * sizeof(long));
    struct rusage r0, r1;
    if (drop) { fdatasync(fd); posix_fadvise(fd, 0, len, POSIX_FADV_DONTNEED); }
    volatile char *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    madvise((void *)p, len, MADV_RANDOM);
    getrusage(RUSAGE_SELF, &r0);
    long sink = 0;
    for (long i = 0; i < n; i++) { long t0 = now(); sink += p[i * page]; dt[i] = now() - t0; }
    getrusage(RUSAGE_SELF, &r1);
    qsort(dt, n, sizeof(long), cmp);
    long flt = drop ? r1.ru_majflt - r0.ru_majflt : r1.ru_minflt - r0.ru_minflt;
    long k = flt < n ? flt : n;           /* the slowest k touches are the faults */
    long *f = dt + (n - k);
    printf("%s touches=%ld faults=%ld median_ns=%ld p90_ns=%ld (sink %ld)\n", what, n, flt,
           k ? f[k / 2] : 0, k ? f[k * 9 / 10] : 0, sink & 1);
    munmap((void *)p, len);
    free(dt);
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s FILE MIB\n", argv[0]); return 2; }
    size_t len = (size_t)atol(argv[2]) << 20;
    int fd = open(argv[1], O_RDWR | O_CREAT, 0600);
    char buf[1 << 16];
    memset(buf, 7, sizeof buf);
    if (ftruncate(fd, 0) != 0) return 1;
    for (size_t w = 0; w < len; w += sizeof buf) if (write(fd, buf, sizeof buf) != sizeof buf) return 1;
    fsync(fd);
    run("minor", fd, len, 0);
    run("major", fd, len, 1);
    close(fd);
    return 0;
}
