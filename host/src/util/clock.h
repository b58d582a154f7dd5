/*
 * util/clock - monotonic milliseconds, for timeouts, intervals and
 * durations (never wall-clock time: a clock set back does not stretch a
 * wait).  mono_ms() reads CLOCK_MONOTONIC; coarse_ms() reads
 * CLOCK_MONOTONIC_COARSE (a few ms of resolution, and cheaper: for what is
 * read once per line or per call, memo ages, commit intervals).
 */
#ifndef SMELT_UTIL_CLOCK_H
#define SMELT_UTIL_CLOCK_H

long long mono_ms(void);
long long coarse_ms(void);

#endif
