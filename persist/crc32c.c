/*
 * crc32c.c - CRC32C (the Castagnoli polynomial, reflected: 0x82F63B78),
 * the checksum of log records. Two implementations with identical
 * results: slicing-by-8 (eight 256-entry tables, eight bytes per step),
 * and the SSE4.2 crc32 instruction, chosen once per process when the CPU
 * has it. The tables are built on first use (pthread_once), then
 * read-only.
 *
 * Convention, as zlib's crc32: the argument is a previous result (0 to
 * start); the register is inverted on entry and on exit, so a checksum
 * can be continued over several pieces.
 */
#include "persist/persist.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

/* The reflected Castagnoli polynomial. */
#define CRC32C_POLY 0x82F63B78u

static uint32_t crc_table[8][256];
static bool crc_hw;
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

/* Builds the eight tables and detects the instruction (run once).
 * crc_table[0] is the byte-at-a-time table; crc_table[k][b] advances the
 * CRC of byte b over k more zero bytes, which lets eight bytes be folded
 * in one step. */
static void crc_setup(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ ((c & 1) ? CRC32C_POLY : 0);
		crc_table[0][i] = c;
	}
	for (int k = 1; k < 8; k++)
		for (int i = 0; i < 256; i++) {
			uint32_t c = crc_table[k - 1][i];

			crc_table[k][i] = (c >> 8) ^ crc_table[0][c & 0xff];
		}
#if defined(__x86_64__)
	__builtin_cpu_init();
	crc_hw = __builtin_cpu_supports("sse4.2");
#endif
}

/* A little-endian 32-bit load from any alignment. */
static inline uint32_t load32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Slicing-by-8: single bytes up to an 8-byte boundary, then eight bytes
 * per step through the eight tables, then the tail byte by byte. */
uint32_t ap_persist_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t c = ~crc;

	pthread_once(&crc_once, crc_setup);
	while (len > 0 && ((uintptr_t)p & 7) != 0) {
		c = (c >> 8) ^ crc_table[0][(c ^ *p++) & 0xff];
		len--;
	}
	while (len >= 8) {
		uint32_t lo = load32(p) ^ c;
		uint32_t hi = load32(p + 4);

		c = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		    crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		    crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
		    crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len-- > 0)
		c = (c >> 8) ^ crc_table[0][(c ^ *p++) & 0xff];
	return ~c;
}

/* True when the crc32 instruction can be used. */
bool ap_persist_crc32c_hw_available(void)
{
	pthread_once(&crc_once, crc_setup);
	return crc_hw;
}

#if defined(__x86_64__)
/* The crc32 instruction: bytes up to an 8-byte boundary, then 8 bytes per
 * instruction, then the tail. Compiled for SSE4.2 whatever the build
 * target; only called when the CPU has it. */
__attribute__((target("sse4.2"))) static uint32_t
crc_hw_run(uint32_t crc, const unsigned char *p, size_t len)
{
	uint64_t c = ~crc;

	while (len > 0 && ((uintptr_t)p & 7) != 0) {
		c = _mm_crc32_u8((uint32_t)c, *p++);
		len--;
	}
	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, sizeof(v));
		c = _mm_crc32_u64(c, v);
		p += 8;
		len -= 8;
	}
	while (len-- > 0)
		c = _mm_crc32_u8((uint32_t)c, *p++);
	return ~(uint32_t)c;
}
#endif

/* The instruction version. Asserts the CPU has it: calling it elsewhere
 * is a bug (it would die of SIGILL). */
uint32_t ap_persist_crc32c_hw(uint32_t crc, const void *p, size_t len)
{
	AP_ASSERT(ap_persist_crc32c_hw_available());
#if defined(__x86_64__)
	return crc_hw_run(crc, p, len);
#else
	return ap_persist_crc32c_sw(crc, p, len);
#endif
}

/* The fastest version this CPU runs. */
uint32_t ap_persist_crc32c(uint32_t crc, const void *p, size_t len)
{
	pthread_once(&crc_once, crc_setup);
#if defined(__x86_64__)
	if (crc_hw)
		return crc_hw_run(crc, p, len);
#endif
	return ap_persist_crc32c_sw(crc, p, len);
}
