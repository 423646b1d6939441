/*
 * base.c - assertions, logging, allocation, clocks and the small string
 * helpers declared in base.h.
 *
 * Logging state (level and file descriptor) is written once by
 * ap_log_setup() before any thread starts; afterwards only the level
 * changes (CONFIG SET loglevel), as a relaxed atomic. Each
 * log line is formatted into a stack buffer and written with one write()
 * so that lines from different threads never interleave.
 *
 * Allocation goes to mimalloc's per-thread default heap; a thread-local
 * counter tracks usable bytes allocated minus freed by this thread.
 */
#include "core/base.h"

#include <ctype.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <mimalloc.h>

/* The sanitizer builds allocate with libc so that ASan sees every heap
 * block (it cannot look inside mimalloc's pages). */
#if defined(AP_LIBC_MALLOC)
#include <malloc.h>
#include <stdlib.h>
#define mi_malloc	  malloc
#define mi_calloc	  calloc
#define mi_realloc	  realloc
#define mi_free		  free
#define mi_usable_size(p) malloc_usable_size((void *)(p))
#endif

/* Longest log line; longer messages are truncated (Redis uses 1024). */
#define LOG_LINE_MAX 4096
/* Frames printed by a failed assertion. */
#define BACKTRACE_DEPTH 64
/* Longest float text accepted by ap_str_to_ld/ap_str_to_d, as Redis's
 * MAX_LONG_DOUBLE_CHARS: enough for any long double written in full. */
#define FLOAT_TEXT_MAX (5 * 1024)
/* Longest integer text: 20 characters ("-9223372036854775808"). */
#define INT_TEXT_MAX 20

_Thread_local int ap_thread_shard_id = -1;

static _Atomic int log_level = AP_LOG_NOTICE;
static int log_fd = STDOUT_FILENO;

static _Thread_local int64_t mem_thread_used;

/* ---------------------------------------------------------------- logging */

/*
 * Sets the minimum level and the destination: path NULL or "" logs to
 * stdout, anything else is opened for appending (created 0644). A file
 * that cannot be opened is a start-up failure. Call once, before threads.
 */
/* Changes the minimum level at run time (any thread). */
void ap_log_set_level(enum ap_log_level level)
{
	atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
}

void ap_log_setup(enum ap_log_level level, const char *path)
{
	atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
	if (path == NULL || path[0] == '\0') {
		log_fd = STDOUT_FILENO;
		return;
	}
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		ap_fatal("can't open the log file %s: %s; check the logfile "
			 "directive and the directory's permissions",
			 path, strerror(errno));
	if (log_fd != STDOUT_FILENO)
		close(log_fd);
	log_fd = fd;
}

/*
 * Writes the whole of buf to fd with one write() call (retrying only on
 * EINTR). Short writes are not retried: a log line is best effort.
 */
static void write_line(int fd, const char *buf, size_t len)
{
	ssize_t n;

	do {
		n = write(fd, buf, len);
	} while (n < 0 && errno == EINTR);
}

/*
 * Formats the Redis log prefix "pid:R dd Mon yyyy hh:mm:ss.mmm c " into
 * buf (at least 64 bytes) and returns its length.
 */
static size_t log_prefix(char *buf, size_t size, enum ap_log_level level)
{
	static const char marks[] = ".-*#";
	struct timeval tv;
	struct tm tm;
	char role = ap_thread_shard_id >= 0 ? 'S' : 'M';

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	size_t n = (size_t)snprintf(buf, size, "%d:%c ", (int)getpid(), role);
	n += strftime(buf + n, size - n, "%d %b %Y %H:%M:%S.", &tm);
	n += (size_t)snprintf(buf + n, size - n, "%03d %c ",
			      (int)(tv.tv_usec / 1000), marks[level & 3]);
	return n;
}

/*
 * Formats one log line (prefix, message, newline) into buf, truncating
 * the message to fit, and returns the line's length.
 */
static size_t log_format(char *buf, size_t size, enum ap_log_level level,
			 const char *fmt, va_list ap)
{
	size_t n = log_prefix(buf, size, level);
	int m = vsnprintf(buf + n, size - n - 1, fmt, ap);

	if (m > 0)
		n += AP_MIN((size_t)m, size - n - 2);
	buf[n++] = '\n';
	return n;
}

/*
 * Logs one line at level if level is at or above the configured level.
 * Safe from any thread; never allocates.
 */
void ap_log(enum ap_log_level level, const char *fmt, ...)
{
	char buf[LOG_LINE_MAX];
	va_list ap;

	if ((int)level < atomic_load_explicit(&log_level, memory_order_relaxed))
		return;
	va_start(ap, fmt);
	size_t n = log_format(buf, sizeof(buf), level, fmt, ap);
	va_end(ap);
	write_line(log_fd, buf, n);
}

/*
 * Logs a start-up failure at warning level (also to stderr when logging
 * to a file, so the operator sees it) and exits with status 1.
 */
void ap_fatal(const char *fmt, ...)
{
	char buf[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	size_t n = log_format(buf, sizeof(buf), AP_LOG_WARNING, fmt, ap);
	va_end(ap);
	write_line(log_fd, buf, n);
	if (log_fd != STDOUT_FILENO)
		write_line(STDERR_FILENO, buf, n);
	exit(1);
}

/*
 * Reports a broken invariant: logs the expression, place and shard, dumps
 * a backtrace to stderr (and to the log file if there is one), aborts.
 */
void ap_assert_fail(const char *expr, const char *file, int line)
{
	void *frames[BACKTRACE_DEPTH];

	ap_log(AP_LOG_WARNING, "ASSERTION FAILED: %s at %s:%d (shard %d)", expr,
	       file, line, ap_thread_shard_id);
	if (log_fd != STDOUT_FILENO)
		dprintf(STDERR_FILENO,
			"ASSERTION FAILED: %s at %s:%d (shard %d)\n", expr,
			file, line, ap_thread_shard_id);
	int depth = backtrace(frames, BACKTRACE_DEPTH);
	backtrace_symbols_fd(frames, depth, STDERR_FILENO);
	if (log_fd != STDOUT_FILENO)
		backtrace_symbols_fd(frames, depth, log_fd);
	abort();
}

/* ------------------------------------------------------------- allocation */

/* Running out of memory is not an operating error here: log and abort. */
static AP_NORETURN void oom(size_t size)
{
	ap_log(AP_LOG_WARNING, "out of memory allocating %zu bytes", size);
	abort();
}

/* Allocates size bytes (size 0 gives a unique pointer); never NULL. */
void *ap_malloc(size_t size)
{
	void *p = mi_malloc(size);

	if (AP_UNLIKELY(p == NULL))
		oom(size);
	mem_thread_used += (int64_t)mi_usable_size(p);
	return p;
}

/* Allocates count * size zeroed bytes; overflow or OOM aborts. */
void *ap_calloc(size_t count, size_t size)
{
	size_t total;

	if (AP_UNLIKELY(__builtin_mul_overflow(count, size, &total)))
		oom(SIZE_MAX);
	void *p = mi_calloc(count, size);
	if (AP_UNLIKELY(p == NULL))
		oom(total);
	mem_thread_used += (int64_t)mi_usable_size(p);
	return p;
}

/*
 * Resizes p (NULL allocates) to size bytes, keeping the common prefix;
 * never NULL. The old pointer is no longer valid afterwards.
 */
void *ap_realloc(void *p, size_t size)
{
	size_t old = p != NULL ? mi_usable_size(p) : 0;
	void *np = mi_realloc(p, size);

	if (AP_UNLIKELY(np == NULL))
		oom(size);
	mem_thread_used += (int64_t)mi_usable_size(np) - (int64_t)old;
	return np;
}

/* Frees p (NULL is a no-op); may be called from any thread. */
void ap_free(void *p)
{
	if (p == NULL)
		return;
	mem_thread_used -= (int64_t)mi_usable_size(p);
	mi_free(p);
}

/* Returns a copy of the NUL-terminated s; free with ap_free. */
char *ap_strdup(const char *s)
{
	return ap_memdup(s, strlen(s) + 1);
}

/* Returns a copy of len bytes at p; free with ap_free. */
void *ap_memdup(const void *p, size_t len)
{
	void *q = ap_malloc(len);

	if (len > 0)
		memcpy(q, p, len);
	return q;
}

/* Usable size of a block from ap_malloc and friends (0 for NULL). */
size_t ap_alloc_size(const void *p)
{
	return p != NULL ? mi_usable_size(p) : 0;
}

/* Bytes allocated minus freed by the calling thread. */
int64_t ap_mem_thread_used(void)
{
	return mem_thread_used;
}

/* ----------------------------------------------------------------- clocks */

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Monotonic time in nanoseconds. */
uint64_t ap_time_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* Monotonic time in microseconds. */
uint64_t ap_time_us(void)
{
	return clock_ns(CLOCK_MONOTONIC) / 1000;
}

/* Wall-clock Unix time in milliseconds. */
int64_t ap_unix_ms(void)
{
	return (int64_t)(clock_ns(CLOCK_REALTIME) / 1000000);
}

/* Wall-clock Unix time in microseconds. */
int64_t ap_unix_us(void)
{
	return (int64_t)(clock_ns(CLOCK_REALTIME) / 1000);
}

/* ------------------------------------------------------- string -> number */

/*
 * Parses the digits s[0..len) as an unsigned value no larger than max.
 * The first digit must be 1-9 unless the text is exactly "0". Returns
 * false on any non-digit, a leading zero, empty text or overflow.
 */
static bool parse_digits(const char *s, size_t len, unsigned long long max,
			 unsigned long long *out)
{
	unsigned long long v = 0;

	if (len == 0 || len > INT_TEXT_MAX)
		return false;
	if (len == 1 && s[0] == '0') {
		*out = 0;
		return true;
	}
	if (s[0] < '1' || s[0] > '9')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';
		if (d > 9)
			return false;
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/*
 * Parses a signed 64-bit integer as Redis's string2ll: optional '-', no
 * '+', no spaces, no leading zeros (so "-0" and "01" fail), at most 20
 * characters, overflow rejected. *out is untouched on failure.
 */
bool ap_str_to_ll(const char *s, size_t len, long long *out)
{
	unsigned long long v;

	if (len == 0 || len > INT_TEXT_MAX)
		return false;
	if (s[0] == '-') {
		if (!parse_digits(s + 1, len - 1,
				  (unsigned long long)LLONG_MAX + 1, &v) ||
		    v == 0)
			return false;
		*out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN
							      : -(long long)v;
		return true;
	}
	if (!parse_digits(s, len, LLONG_MAX, &v))
		return false;
	*out = (long long)v;
	return true;
}

/* Unsigned counterpart of ap_str_to_ll: digits only, up to ULLONG_MAX. */
bool ap_str_to_ull(const char *s, size_t len, unsigned long long *out)
{
	return parse_digits(s, len, ULLONG_MAX, out);
}

/*
 * Copies s[0..len) into buf as a C string if it is a plausible float
 * text: non-empty, shorter than FLOAT_TEXT_MAX, no leading whitespace.
 */
static bool float_text_copy(char *buf, const char *s, size_t len)
{
	if (len == 0 || len >= FLOAT_TEXT_MAX || isspace((unsigned char)s[0]))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return true;
}

/*
 * Parses a long double as Redis's string2ld: the whole text must parse,
 * no surrounding spaces, no NaN; "inf", "+inf", "-inf" are accepted;
 * overflow and underflow to zero are rejected.
 */
bool ap_str_to_ld(const char *s, size_t len, long double *out)
{
	char buf[FLOAT_TEXT_MAX];
	char *end;

	if (!float_text_copy(buf, s, len))
		return false;
	errno = 0;
	long double v = strtold(buf, &end);
	if ((size_t)(end - buf) != len || isnan(v))
		return false;
	if (errno == ERANGE &&
	    (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO))
		return false;
	*out = v;
	return true;
}

/* Double counterpart of ap_str_to_ld (Redis's string2d). */
bool ap_str_to_d(const char *s, size_t len, double *out)
{
	char buf[FLOAT_TEXT_MAX];
	char *end;

	if (!float_text_copy(buf, s, len))
		return false;
	errno = 0;
	double v = strtod(buf, &end);
	if ((size_t)(end - buf) != len || isnan(v))
		return false;
	if (errno == ERANGE &&
	    (v == HUGE_VAL || v == -HUGE_VAL || fpclassify(v) == FP_ZERO))
		return false;
	*out = v;
	return true;
}

/* ------------------------------------------------------- number -> string */

static const char digit_pairs[201] = "00010203040506070809"
				     "10111213141516171819"
				     "20212223242526272829"
				     "30313233343536373839"
				     "40414243444546474849"
				     "50515253545556575859"
				     "60616263646566676869"
				     "70717273747576777879"
				     "80818283848586878889"
				     "90919293949596979899";

/* Number of decimal digits of v (1 for 0). */
static unsigned digit_count(unsigned long long v)
{
	unsigned n = 1;

	while (v >= 10000) {
		v /= 10000;
		n += 4;
	}
	return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

/* Writes v in decimal (NUL-terminated); buf holds 21 bytes. Returns the
 * length without the NUL. */
size_t ap_ull_to_str(char *buf, unsigned long long v)
{
	unsigned len = digit_count(v);
	char *p = buf + len;

	*p = '\0';
	while (v >= 100) {
		unsigned i = (unsigned)(v % 100) * 2;
		v /= 100;
		*--p = digit_pairs[i + 1];
		*--p = digit_pairs[i];
	}
	if (v >= 10) {
		*--p = digit_pairs[v * 2 + 1];
		*--p = digit_pairs[v * 2];
	} else {
		*--p = (char)('0' + v);
	}
	return len;
}

/* Writes v in decimal (NUL-terminated); buf holds 21 bytes. */
size_t ap_ll_to_str(char *buf, long long v)
{
	if (v >= 0)
		return ap_ull_to_str(buf, (unsigned long long)v);
	buf[0] = '-';
	return 1 + ap_ull_to_str(buf + 1, 0ULL - (unsigned long long)v);
}

/* Writes v as "%.17g" ("inf", "-inf", "nan" spelled out); buf holds 64
 * bytes. */
size_t ap_d_to_str(char *buf, double v)
{
	if (isinf(v)) {
		strcpy(buf, v > 0 ? "inf" : "-inf");
		return v > 0 ? 3 : 4;
	}
	if (isnan(v)) {
		strcpy(buf, "nan");
		return 3;
	}
	/* Whole numbers print as their digits under %.17g (no exponent
	 * below 1e17): the integer path is several times faster than
	 * glibc's double formatting. -0 keeps its sign through snprintf. */
	if (v >= -9007199254740992.0 && v <= 9007199254740992.0 &&
	    v == (double)(long long)v && !(v == 0 && signbit(v)))
		return ap_ll_to_str(buf, (long long)v);
	return (size_t)snprintf(buf, 64, "%.17g", v);
}

/*
 * Writes v as Redis's INCRBYFLOAT does: "%.17Lf" with trailing zeros and
 * a trailing '.' removed, "-0" written "0", infinities as "inf"/"-inf".
 * buf holds AP_LD_STR_SIZE bytes.
 */
size_t ap_ld_to_str(char *buf, long double v)
{
	if (isinf(v)) {
		strcpy(buf, v > 0 ? "inf" : "-inf");
		return v > 0 ? 3 : 4;
	}
	if (isnan(v)) {
		strcpy(buf, "nan");
		return 3;
	}
	int n = snprintf(buf, AP_LD_STR_SIZE, "%.17Lf", v);
	AP_ASSERT(n > 0 && n < AP_LD_STR_SIZE);
	size_t len = (size_t)n;
	if (memchr(buf, '.', len) != NULL) {
		while (buf[len - 1] == '0')
			len--;
		if (buf[len - 1] == '.')
			len--;
	}
	if (len == 2 && buf[0] == '-' && buf[1] == '0') {
		buf[0] = '0';
		len = 1;
	}
	buf[len] = '\0';
	return len;
}

/* ------------------------------------------------------------ comparisons */

static inline unsigned char fold(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* True if a[0..alen) equals the NUL-terminated lit, ASCII case folded. */
bool ap_strcaseeq(const char *a, size_t alen, const char *lit)
{
	size_t i;

	for (i = 0; i < alen; i++) {
		if (lit[i] == '\0' ||
		    fold((unsigned char)a[i]) != fold((unsigned char)lit[i]))
			return false;
	}
	return lit[i] == '\0';
}

/*
 * Matches one character class starting just after '[' at pat[*pi] against
 * c, as Redis does: a leading '^' negates, "\x" is x literally, "a-z" is a
 * range (reversed bounds swapped), ']' closes; an unterminated class runs
 * to the end of the pattern. Leaves *pi just past the class.
 */
static bool class_match(const char *pat, size_t plen, size_t *pi,
			unsigned char c, bool nocase)
{
	size_t i = *pi;
	bool neg = false, hit = false;

	if (i < plen && pat[i] == '^') {
		neg = true;
		i++;
	}
	while (i < plen && pat[i] != ']') {
		unsigned char p = (unsigned char)pat[i];
		if (p == '\\' && plen - i >= 2) {
			hit |= (unsigned char)pat[i + 1] == c;
			i += 2;
		} else if (plen - i >= 3 && pat[i + 1] == '-') {
			unsigned char lo = p, hi = (unsigned char)pat[i + 2];
			unsigned char x = c;
			if (lo > hi) {
				unsigned char t = lo;
				lo = hi;
				hi = t;
			}
			if (nocase) {
				lo = (unsigned char)tolower(lo);
				hi = (unsigned char)tolower(hi);
				x = (unsigned char)tolower(x);
			}
			hit |= x >= lo && x <= hi;
			i += 3;
		} else {
			hit |= nocase ? tolower(p) == tolower(c) : p == c;
			i++;
		}
	}
	*pi = i < plen ? i + 1 : plen;
	return neg ? !hit : hit;
}

/*
 * Matches the single-character token at pat[*pi] ('?', a class, an
 * escaped or plain literal; never '*') against c and advances *pi past
 * it.
 */
static bool token_match(const char *pat, size_t plen, size_t *pi,
			unsigned char c, bool nocase)
{
	size_t i = *pi;
	unsigned char p = (unsigned char)pat[i];

	if (p == '?') {
		*pi = i + 1;
		return true;
	}
	if (p == '[') {
		*pi = i + 1;
		return class_match(pat, plen, pi, c, nocase);
	}
	if (p == '\\' && plen - i >= 2) {
		i++;
		p = (unsigned char)pat[i];
	}
	*pi = i + 1;
	return nocase ? tolower(p) == tolower(c) : p == c;
}

/*
 * Redis glob matching (KEYS, SCAN MATCH, PSUBSCRIBE): '*' any run, '?' any
 * one character, [...] classes, '\' escapes. Every token except '*'
 * consumes exactly one character, so backtracking only to the most recent
 * '*' is complete: the worst case is O(plen * slen) and needs no
 * recursion.
 */
bool ap_glob_match(const char *pat, size_t plen, const char *s, size_t slen,
		   bool nocase)
{
	size_t pi = 0, si = 0;
	size_t star_pi = SIZE_MAX, star_si = 0;

	while (si < slen) {
		if (pi < plen && pat[pi] == '*') {
			while (pi < plen && pat[pi] == '*')
				pi++;
			if (pi == plen)
				return true;
			star_pi = pi;
			star_si = si;
			continue;
		}
		size_t next = pi;
		if (pi < plen && token_match(pat, plen, &next,
					     (unsigned char)s[si], nocase)) {
			pi = next;
			si++;
			continue;
		}
		if (star_pi == SIZE_MAX)
			return false;
		pi = star_pi;
		si = ++star_si;
	}
	while (pi < plen && pat[pi] == '*')
		pi++;
	return pi == plen;
}

/* ------------------------------------------------------------ hash slots */

/* CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0. */
static const uint16_t crc16_table[256] = {
	0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50a5, 0x60c6, 0x70e7, 0x8108,
	0x9129, 0xa14a, 0xb16b, 0xc18c, 0xd1ad, 0xe1ce, 0xf1ef, 0x1231, 0x0210,
	0x3273, 0x2252, 0x52b5, 0x4294, 0x72f7, 0x62d6, 0x9339, 0x8318, 0xb37b,
	0xa35a, 0xd3bd, 0xc39c, 0xf3ff, 0xe3de, 0x2462, 0x3443, 0x0420, 0x1401,
	0x64e6, 0x74c7, 0x44a4, 0x5485, 0xa56a, 0xb54b, 0x8528, 0x9509, 0xe5ee,
	0xf5cf, 0xc5ac, 0xd58d, 0x3653, 0x2672, 0x1611, 0x0630, 0x76d7, 0x66f6,
	0x5695, 0x46b4, 0xb75b, 0xa77a, 0x9719, 0x8738, 0xf7df, 0xe7fe, 0xd79d,
	0xc7bc, 0x48c4, 0x58e5, 0x6886, 0x78a7, 0x0840, 0x1861, 0x2802, 0x3823,
	0xc9cc, 0xd9ed, 0xe98e, 0xf9af, 0x8948, 0x9969, 0xa90a, 0xb92b, 0x5af5,
	0x4ad4, 0x7ab7, 0x6a96, 0x1a71, 0x0a50, 0x3a33, 0x2a12, 0xdbfd, 0xcbdc,
	0xfbbf, 0xeb9e, 0x9b79, 0x8b58, 0xbb3b, 0xab1a, 0x6ca6, 0x7c87, 0x4ce4,
	0x5cc5, 0x2c22, 0x3c03, 0x0c60, 0x1c41, 0xedae, 0xfd8f, 0xcdec, 0xddcd,
	0xad2a, 0xbd0b, 0x8d68, 0x9d49, 0x7e97, 0x6eb6, 0x5ed5, 0x4ef4, 0x3e13,
	0x2e32, 0x1e51, 0x0e70, 0xff9f, 0xefbe, 0xdfdd, 0xcffc, 0xbf1b, 0xaf3a,
	0x9f59, 0x8f78, 0x9188, 0x81a9, 0xb1ca, 0xa1eb, 0xd10c, 0xc12d, 0xf14e,
	0xe16f, 0x1080, 0x00a1, 0x30c2, 0x20e3, 0x5004, 0x4025, 0x7046, 0x6067,
	0x83b9, 0x9398, 0xa3fb, 0xb3da, 0xc33d, 0xd31c, 0xe37f, 0xf35e, 0x02b1,
	0x1290, 0x22f3, 0x32d2, 0x4235, 0x5214, 0x6277, 0x7256, 0xb5ea, 0xa5cb,
	0x95a8, 0x8589, 0xf56e, 0xe54f, 0xd52c, 0xc50d, 0x34e2, 0x24c3, 0x14a0,
	0x0481, 0x7466, 0x6447, 0x5424, 0x4405, 0xa7db, 0xb7fa, 0x8799, 0x97b8,
	0xe75f, 0xf77e, 0xc71d, 0xd73c, 0x26d3, 0x36f2, 0x0691, 0x16b0, 0x6657,
	0x7676, 0x4615, 0x5634, 0xd94c, 0xc96d, 0xf90e, 0xe92f, 0x99c8, 0x89e9,
	0xb98a, 0xa9ab, 0x5844, 0x4865, 0x7806, 0x6827, 0x18c0, 0x08e1, 0x3882,
	0x28a3, 0xcb7d, 0xdb5c, 0xeb3f, 0xfb1e, 0x8bf9, 0x9bd8, 0xabbb, 0xbb9a,
	0x4a75, 0x5a54, 0x6a37, 0x7a16, 0x0af1, 0x1ad0, 0x2ab3, 0x3a92, 0xfd2e,
	0xed0f, 0xdd6c, 0xcd4d, 0xbdaa, 0xad8b, 0x9de8, 0x8dc9, 0x7c26, 0x6c07,
	0x5c64, 0x4c45, 0x3ca2, 0x2c83, 0x1ce0, 0x0cc1, 0xef1f, 0xff3e, 0xcf5d,
	0xdf7c, 0xaf9b, 0xbfba, 0x8fd9, 0x9ff8, 0x6e17, 0x7e36, 0x4e55, 0x5e74,
	0x2e93, 0x3eb2, 0x0ed1, 0x1ef0,
};

/* CRC16 (XMODEM) of buf[0..len), as Redis Cluster computes slots. */
uint16_t ap_crc16(const char *buf, size_t len)
{
	uint16_t crc = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned idx = ((crc >> 8) ^ (unsigned char)buf[i]) & 0xff;
		crc = (uint16_t)((crc << 8) ^ crc16_table[idx]);
	}
	return crc;
}

/*
 * Redis Cluster slot of a key: if the key has a '{' and a later '}' with
 * at least one byte between the first '{' and the first '}' after it,
 * only those bytes are hashed; otherwise the whole key.
 */
unsigned ap_key_slot(const char *key, size_t len)
{
	if (len == 0)
		return 0;
	const char *open = memchr(key, '{', len);

	if (open != NULL) {
		size_t start = (size_t)(open - key) + 1;
		const char *close = memchr(key + start, '}', len - start);
		if (close != NULL && close > key + start)
			return ap_crc16(key + start,
					(size_t)(close - key) - start) &
			       (AP_SLOTS - 1);
	}
	return ap_crc16(key, len) & (AP_SLOTS - 1);
}
