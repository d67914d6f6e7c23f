/*
 * hlc.h - the hybrid logical clock of a node (docs/formats.md §4).
 *
 * A clock value is UTC milliseconds plus a counter, written
 * "YYYY-MM-DDTHH:MM:SS.mmmZ/NNNN" (counter 0000-9999). Values from one node
 * strictly increase even when the wall clock goes backwards: each tick takes
 * max(wall, last) and bumps the counter when the millisecond did not move.
 * The last value is persisted in <home>/clock before any value is used in a
 * commit (vl_hlc_save), so a restart never reuses or goes back.
 * A vl_hlc is owned by one thread.
 */
#ifndef VL_HLC_H
#define VL_HLC_H

#include <stdint.h>
#include "store/error.h"

#define VL_HLC_TEXT_LEN 29 /* 24 for the time, '/', 4 digits */

typedef struct {
	uint64_t ms;
	uint32_t counter;
} vl_hlc;

/* Parse the text form strictly (a real date and time, UTC 'Z'). */
int vl_hlc_parse(vl_hlc *out, const char *s) VL_MUST_CHECK;

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar, and
 * back (Howard Hinnant's days_from_civil / civil_from_days): exact for any
 * year; m 1-12, d 1-31. The one copy of this arithmetic: the clock, date
 * and time fields, the time zone and report deadlines all use it. */
int64_t vl_days_from_civil(int64_t y, unsigned m, unsigned d);
void vl_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
/* Format into out[30]. */
void vl_hlc_format(char out[VL_HLC_TEXT_LEN + 1], const vl_hlc *c);
/* <0, 0, >0 like strcmp. */
int vl_hlc_cmp(const vl_hlc *a, const vl_hlc *b);
/* Current wall clock in UTC milliseconds (VLEDGER_FAKE_TIME_MS overrides it,
 * for tests that need a wall clock that jumps). */
uint64_t vl_hlc_wall_ms(void);
/* Next value after *c given the wall clock; updates *c. */
void vl_hlc_tick(vl_hlc *c, uint64_t wall_ms);
/* Fold a value seen from elsewhere into *c (never moves it back). */
void vl_hlc_observe(vl_hlc *c, const vl_hlc *seen);
/* Load the persisted clock (a missing file is the zero clock). */
int vl_hlc_load(vl_hlc *out, const char *path) VL_MUST_CHECK;
/* Persist atomically with fsync. */
int vl_hlc_save(const vl_hlc *c, const char *path) VL_MUST_CHECK;

#endif
