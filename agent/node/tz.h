/*
 * tz.h - the network's time zone, and times shown in it.
 *
 * Records and commits hold instants in UTC ("YYYY-MM-DDTHH:MM:SS[.f]Z",
 * commit seconds). People read them in the network's local time: the
 * optional `timezone` key of network.yaml (docs/formats.md §3), a fixed
 * offset "+HH:MM"/"-HH:MM", "UTC" or the name "Asia/Shanghai"; without the
 * key, Asia/Shanghai (+08:00, no daylight saving since 1991). Only fixed
 * offsets are supported: the networks this serves have no DST, and a fixed
 * offset keeps every node's display identical without a tz database.
 * Text and HTML output show local time with its offset; JSON keeps the UTC
 * instant exactly as signed (docs/decisions.md).
 */
#ifndef VL_NODE_TZ_H
#define VL_NODE_TZ_H

#include <stdint.h>

#include "store/buf.h"
#include "store/error.h"

/* Asia/Shanghai, in minutes east of UTC: the default. */
#define VL_TZ_DEFAULT_MIN 480

/*
 * Parse a network.yaml `timezone`: "+HH:MM" or "-HH:MM" (at most 14:00),
 * "UTC", "Z" or "Asia/Shanghai". Sets *out_min (minutes east of UTC).
 * VL_EINVALID (message says what is accepted) otherwise.
 */
int vl_tz_parse(int *out_min, const char *text) VL_MUST_CHECK;

/*
 * Append to out a canonical UTC datetime as local time:
 * "YYYY-MM-DD HH:MM +08:00", with ":SS[.f]" when the seconds or fraction
 * are not zero (the instant stays exact). Text that is not a canonical UTC
 * datetime is appended unchanged. VL_ENOMEM only.
 */
int vl_time_show(vl_buf *out, const char *utc, int tz_min) VL_MUST_CHECK;

/*
 * Append seconds since the epoch (a commit time) as local time,
 * "YYYY-MM-DD HH:MM:SS +08:00". VL_ENOMEM only.
 */
int vl_time_show_secs(vl_buf *out, int64_t secs, int tz_min) VL_MUST_CHECK;

#endif
