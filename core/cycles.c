/*
 * cycles.c - calibration of the cycle counter used to time commands.
 *
 * clock_gettime() costs 20-50 ns in a VM; commands take 100-300 ns, so
 * timing each one with it would cost a tenth of the server's time. The
 * TSC reads in a few ns; where the CPU says it is invariant (constant_tsc
 * and nonstop_tsc), we measure its rate against CLOCK_MONOTONIC once.
 */
#include "core/base.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

bool ap_cycles_is_tsc;
static double ns_per_cycle = 1.0;

static bool tsc_invariant(void)
{
#if defined(__x86_64__)
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return false;
	char line[4096];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		if (strncmp(line, "flags", 5) == 0)
			found = strstr(line, " constant_tsc") &&
				strstr(line, " nonstop_tsc");
	fclose(f);
	return found;
#else
	return false;
#endif
}

void ap_cycles_setup(void)
{
	if (!tsc_invariant())
		return;
#if defined(__x86_64__)
	uint64_t t0 = ap_time_ns(), c0 = __rdtsc();
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000};
	nanosleep(&ts, NULL);
	uint64_t t1 = ap_time_ns(), c1 = __rdtsc();
	if (c1 <= c0 || t1 <= t0)
		return;
	ns_per_cycle = (double)(t1 - t0) / (double)(c1 - c0);
	ap_cycles_is_tsc = true;
#endif
}

uint64_t ap_cycles_to_ns(uint64_t cycles)
{
	return ap_cycles_is_tsc ? (uint64_t)((double)cycles * ns_per_cycle)
				: cycles;
}
