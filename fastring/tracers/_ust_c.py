"""C sources of the LTTng-UST comparison: a tracepoint provider with one
event per shape, the driver that fires them, and a microbenchmark of the
fast path's bookkeeping (the tracepoint's RCU read side, sched_getcpu,
strlen) that the host cost profile has no figure for."""

TP_H = r"""
#undef TRACEPOINT_PROVIDER
#define TRACEPOINT_PROVIDER fastring_bench
#undef TRACEPOINT_INCLUDE
#define TRACEPOINT_INCLUDE "./tp.h"
#if !defined(FASTRING_BENCH_TP_H) || defined(TRACEPOINT_HEADER_MULTI_READ)
#define FASTRING_BENCH_TP_H
#include <stdint.h>
#include <lttng/tracepoint.h>
TRACEPOINT_EVENT(fastring_bench, int, TP_ARGS(int64_t, v),
    TP_FIELDS(ctf_integer(int64_t, value, v)))
TRACEPOINT_EVENT(fastring_bench, bytes64, TP_ARGS(const uint8_t *, b),
    TP_FIELDS(ctf_array(uint8_t, payload, b, 64)))
TRACEPOINT_EVENT(fastring_bench, string64, TP_ARGS(const char *, s),
    TP_FIELDS(ctf_string(payload, s)))
TRACEPOINT_EVENT(fastring_bench, bytes256, TP_ARGS(const uint8_t *, b),
    TP_FIELDS(ctf_array(uint8_t, payload, b, 256)))
TRACEPOINT_EVENT(fastring_bench, bytes1k, TP_ARGS(const uint8_t *, b),
    TP_FIELDS(ctf_array(uint8_t, payload, b, 1024)))
#endif
#include <lttng/tracepoint-event.h>
"""

TP_C = r"""
#define TRACEPOINT_CREATE_PROBES
#define TRACEPOINT_DEFINE
#include "tp.h"
"""

# driver SHAPE N RUNS THREADS GAP_US: THREADS threads, thread i pinned to
# CPU i, each fires N events of SHAPE per run (after one warm-up run), all
# starting at a barrier; prints each thread's CPU time (CLOCK_THREAD_CPUTIME_ID:
# time other processes took on a shared machine is left out) and wall time
# per event. GAP_US: a pause after each run for the consumer to drain.
DRIVER_C = r"""
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include "tp.h"

static long n_events;
static int runs, nthreads, gap_us;
static const char *shape;
static pthread_barrier_t bar;
static double *result;

static int64_t now_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void fire(long n, uint8_t *buf, char *str)
{
    long i;
    if (!strcmp(shape, "int")) {
        for (i = 0; i < n; i++) tracepoint(fastring_bench, int, (int64_t)i);
    } else if (!strcmp(shape, "bytes64")) {
        for (i = 0; i < n; i++) { buf[i & 63] ^= 1; tracepoint(fastring_bench, bytes64, buf); }
    } else if (!strcmp(shape, "string64")) {
        for (i = 0; i < n; i++) { str[i % 63] ^= 1; tracepoint(fastring_bench, string64, str); }
    } else if (!strcmp(shape, "bytes256")) {
        for (i = 0; i < n; i++) { buf[i & 255] ^= 1; tracepoint(fastring_bench, bytes256, buf); }
    } else {
        for (i = 0; i < n; i++) { buf[i & 1023] ^= 1; tracepoint(fastring_bench, bytes1k, buf); }
    }
}

static void *worker(void *arg)
{
    long id = (long)arg;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(id % sysconf(_SC_NPROCESSORS_ONLN), &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    uint8_t buf[1024];
    char str[64];
    for (int i = 0; i < 1024; i++) buf[i] = (uint8_t)i;
    for (int i = 0; i < 63; i++) str[i] = 'a' + i % 26;   /* 63 chars + NUL: 64 B */
    str[63] = 0;
    for (int r = -1; r < runs; r++) {                      /* run -1 warms up */
        pthread_barrier_wait(&bar);
        int64_t c0 = now_ns(CLOCK_THREAD_CPUTIME_ID), t0 = now_ns(CLOCK_MONOTONIC);
        fire(n_events, buf, str);
        int64_t t1 = now_ns(CLOCK_MONOTONIC), c1 = now_ns(CLOCK_THREAD_CPUTIME_ID);
        if (r >= 0) {
            result[2 * (r * nthreads + id)] = (double)(c1 - c0) / n_events;
            result[2 * (r * nthreads + id) + 1] = (double)(t1 - t0) / n_events;
        }
        pthread_barrier_wait(&bar);
        if (id == 0 && gap_us > 0)
            usleep(gap_us);
        pthread_barrier_wait(&bar);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: driver SHAPE N RUNS THREADS GAP_US\n");
        return 2;
    }
    shape = argv[1];
    n_events = atol(argv[2]);
    runs = atoi(argv[3]);
    nthreads = atoi(argv[4]);
    gap_us = atoi(argv[5]);
    int on = !strcmp(shape, "int") ? tracepoint_enabled(fastring_bench, int)
           : !strcmp(shape, "bytes64") ? tracepoint_enabled(fastring_bench, bytes64)
           : !strcmp(shape, "string64") ? tracepoint_enabled(fastring_bench, string64)
           : !strcmp(shape, "bytes256") ? tracepoint_enabled(fastring_bench, bytes256)
           : tracepoint_enabled(fastring_bench, bytes1k);
    printf("enabled %d\n", on != 0);
    result = calloc(2 * (size_t)runs * nthreads, sizeof(double));
    pthread_barrier_init(&bar, NULL, nthreads);
    pthread_t th[256];
    for (long t = 0; t < nthreads && t < 256; t++)
        pthread_create(&th[t], NULL, worker, (void *)t);
    for (long t = 0; t < nthreads && t < 256; t++)
        pthread_join(th[t], NULL);
    for (int r = 0; r < runs; r++)
        for (int t = 0; t < nthreads; t++)
            printf("run %d thread %d cpu_ns %.4f wall_ns %.4f\n", r, t,
                   result[2 * (r * nthreads + t)], result[2 * (r * nthreads + t) + 1]);
    return 0;
}
"""

# micro N RUNS: per-operation CPU time (median of RUNS loops of N) of the
# fast-path steps the host profile has no figure for. Each loop's result
# feeds a volatile sink so that nothing is folded away.
MICRO_C = r"""
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>

void lttng_ust_tp_rcu_read_lock(void);
void lttng_ust_tp_rcu_read_unlock(void);
void *lttng_ust_tp_rcu_dereference_sym(void *p);

static volatile uintptr_t sink;
static void *probes = (void *)&sink;

static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define MEASURE(name, body) do {                                    \
    double t[64];                                                   \
    for (int r = 0; r < runs; r++) {                                \
        int64_t c0 = cpu_ns();                                      \
        for (long i = 0; i < n; i++) { body; }                      \
        t[r] = (double)(cpu_ns() - c0) / n;                         \
    }                                                               \
    qsort(t, runs, sizeof(double), cmp);                            \
    printf("%s %.4f %.4f %.4f\n", name, t[runs / 2], t[0], t[runs - 1]); \
} while (0)

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    int runs = argc > 2 ? atoi(argv[2]) : 7;
    if (runs > 64) runs = 64;
    if (runs < 1) runs = 1;
    char str[64];
    for (int i = 0; i < 63; i++) str[i] = 'a' + i % 26;
    str[63] = 0;
    struct timespec ts;
    MEASURE("loop", sink += i);
    /* the tracepoint call site's read side: lock, dereference, unlock */
    MEASURE("rcu_read_side", lttng_ust_tp_rcu_read_lock();
            sink += (uintptr_t)lttng_ust_tp_rcu_dereference_sym(probes);
            lttng_ust_tp_rcu_read_unlock());
    MEASURE("getcpu", sink += sched_getcpu());
    MEASURE("strlen64", str[i % 63] ^= 1; sink += strlen(str) + 1);
    MEASURE("clock_gettime", clock_gettime(CLOCK_MONOTONIC, &ts); sink += ts.tv_nsec);
    return 0;
}
"""
