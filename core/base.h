/*
 * base.h - the few things every Apiary file needs: assertions, logging,
 * allocation, time, and the status convention.
 *
 * Errors: functions that can fail on operating errors (bad input, a full
 * disk, a budget reached) return 0 or a negative errno-style code, marked
 * AP_MUST_CHECK. Broken invariants are bugs: AP_ASSERT, which stays on in
 * release builds, logs the shard id and a backtrace, and aborts.
 *
 * Allocation: every thread allocates from its own mimalloc heap (mimalloc's
 * per-thread default heap). ap_malloc() and friends keep a per-thread byte
 * count for INFO memory; a block freed by another thread is subtracted from
 * that thread's count, so only the sum over threads is exact.
 *
 * Threading: everything here is safe to call from any thread.
 */
#ifndef AP_CORE_BASE_H
#define AP_CORE_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AP_LIKELY(x)	__builtin_expect(!!(x), 1)
#define AP_UNLIKELY(x)	__builtin_expect(!!(x), 0)
#define AP_MUST_CHECK	__attribute__((warn_unused_result))
#define AP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define AP_NORETURN	__attribute__((noreturn))
#define AP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define AP_MIN(a, b)	((a) < (b) ? (a) : (b))
#define AP_MAX(a, b)	((a) > (b) ? (a) : (b))
#define AP_CACHE_LINE	64
/* Two lines: the adjacent-line prefetcher pairs them on x86. */
#define AP_PAD_ALIGN 128

AP_NORETURN void ap_assert_fail(const char *expr, const char *file, int line);

#define AP_ASSERT(expr)                                            \
	do {                                                       \
		if (AP_UNLIKELY(!(expr)))                          \
			ap_assert_fail(#expr, __FILE__, __LINE__); \
	} while (0)

/* Log levels, as Redis's loglevel directive names them. */
enum ap_log_level {
	AP_LOG_DEBUG = 0,
	AP_LOG_VERBOSE = 1,
	AP_LOG_NOTICE = 2,
	AP_LOG_WARNING = 3,
};

/* Set once at start, before threads exist. */
void ap_log_setup(enum ap_log_level level, const char *path);
/* CONFIG SET loglevel: takes effect for every thread at once. */
void ap_log_set_level(enum ap_log_level level);
void ap_log(enum ap_log_level level, const char *fmt, ...) AP_PRINTF(2, 3);
/* Log and exit(1): for start-up failures only, with the likely cause. */
AP_NORETURN void ap_fatal(const char *fmt, ...) AP_PRINTF(1, 2);

/* The current thread's shard id for logs and asserts; -1 outside shards. */
extern _Thread_local int ap_thread_shard_id;

/* Allocation. ap_malloc never returns NULL: running out of memory aborts
 * (maxmemory is the operating limit, checked before allocating). */
void *ap_malloc(size_t size);
void *ap_calloc(size_t count, size_t size);
void *ap_realloc(void *p, size_t size);
void ap_free(void *p);
char *ap_strdup(const char *s);
void *ap_memdup(const void *p, size_t len);
size_t ap_alloc_size(const void *p);
/* Bytes allocated minus freed by the calling thread. */
int64_t ap_mem_thread_used(void);

/* Clocks. */
uint64_t ap_time_ns(void); /* CLOCK_MONOTONIC */
uint64_t ap_time_us(void); /* CLOCK_MONOTONIC */
int64_t ap_unix_ms(void);  /* CLOCK_REALTIME, milliseconds */
int64_t ap_unix_us(void);  /* CLOCK_REALTIME, microseconds */

/* A cheap cycle counter for timing commands (the TSC where it is
 * invariant, else CLOCK_MONOTONIC in ns), and its conversion. Calibrate
 * once at start, before threads. */
void ap_cycles_setup(void);
static inline uint64_t ap_cycles(void);
uint64_t ap_cycles_to_ns(uint64_t cycles);
extern bool ap_cycles_is_tsc;

#if defined(__x86_64__)
#include <x86intrin.h>
static inline uint64_t ap_cycles(void)
{
	return ap_cycles_is_tsc ? __rdtsc() : ap_time_ns();
}
#else
static inline uint64_t ap_cycles(void)
{
	return ap_time_ns();
}
#endif

/* Small string helpers shared by parsers and commands. */
bool ap_str_to_ll(const char *s, size_t len, long long *out);
bool ap_str_to_ull(const char *s, size_t len, unsigned long long *out);
/* Parses a Redis-style float (accepts inf, -inf, +inf; rejects nan and
 * trailing garbage). */
bool ap_str_to_ld(const char *s, size_t len, long double *out);
bool ap_str_to_d(const char *s, size_t len, double *out);
/* Writes v in decimal; returns length. buf must hold 21 bytes. */
size_t ap_ll_to_str(char *buf, long long v);
size_t ap_ull_to_str(char *buf, unsigned long long v);
/* %.17g formatting as Redis prints doubles (inf/-inf); buf holds 64 bytes. */
size_t ap_d_to_str(char *buf, double v);
/* Redis's INCRBYFLOAT formatting: %.17Lf with trailing zeros trimmed;
 * buf holds 5200 bytes (AP_LD_STR_SIZE). */
#define AP_LD_STR_SIZE 5200
size_t ap_ld_to_str(char *buf, long double v);
bool ap_strcaseeq(const char *a, size_t alen, const char *lit);
/* Redis glob matching (*, ?, [a-z], [^x], \\x). nocase folds ASCII. */
bool ap_glob_match(const char *pat, size_t plen, const char *s, size_t slen,
		   bool nocase);

/* CRC16 (XMODEM), as Redis Cluster uses for slots. */
uint16_t ap_crc16(const char *buf, size_t len);
/* Redis Cluster hash slot of a key, honouring {hashtag}. */
unsigned ap_key_slot(const char *key, size_t len);
#define AP_SLOTS 16384

#endif
