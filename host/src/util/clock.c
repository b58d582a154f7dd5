/* util/clock: monotonic milliseconds; see clock.h. */
#include "util/clock.h"

#include <time.h>

static long long ms_of(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long mono_ms(void)
{
	return ms_of(CLOCK_MONOTONIC);
}

long long coarse_ms(void)
{
	return ms_of(CLOCK_MONOTONIC_COARSE);
}
