/* tz.c - the network's time zone and times shown in it (tz.h). */
#include "agent/node/tz.h"

#include <string.h>

#include "schemas/types.h"
#include "store/hlc.h"

static int two(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

int vl_tz_parse(int *out_min, const char *text)
{
	int h, m;

	if (text && (!strcmp(text, "Asia/Shanghai") || !strcmp(text, "Asia/Chongqing"))) {
		*out_min = VL_TZ_DEFAULT_MIN;
		return 0;
	}
	if (text && (!strcmp(text, "UTC") || !strcmp(text, "Z"))) {
		*out_min = 0;
		return 0;
	}
	if (text && strlen(text) == 6 && (text[0] == '+' || text[0] == '-') && text[1] >= '0' && text[1] <= '9' &&
			text[2] >= '0' && text[2] <= '9' && text[3] == ':' && text[4] >= '0' && text[4] <= '5' &&
			text[5] >= '0' && text[5] <= '9') {
		h = two(text + 1);
		m = two(text + 4);
		if (h * 60 + m <= 14 * 60) {
			*out_min = (text[0] == '-' ? -1 : 1) * (h * 60 + m);
			return 0;
		}
	}
	return vl_error_set(VL_EINVALID, "'timezone' \"%.16s\" is not a fixed offset; write it like \"+08:00\", "
			"\"UTC\" or \"Asia/Shanghai\"", text ? text : "");
}

static int put_local(vl_buf *out, int64_t secs, const char *frac, int always_secs, int tz_min)
{
	int64_t t = secs + (int64_t)tz_min * 60, days, rem, y;
	unsigned mo, d;
	int off = tz_min < 0 ? -tz_min : tz_min, rc;

	days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	rem = t - days * 86400;
	vl_civil_from_days(days, &y, &mo, &d);
	if ((rc = vl_buf_printf(out, "%04lld-%02u-%02u %02u:%02u", (long long)y, mo, d, (unsigned)(rem / 3600),
			(unsigned)(rem / 60 % 60))) < 0)
		return rc;
	if ((always_secs || rem % 60 || (frac && *frac)) &&
			(rc = vl_buf_printf(out, ":%02u%s%s", (unsigned)(rem % 60), frac && *frac ? "." : "",
					frac ? frac : "")) < 0)
		return rc;
	return vl_buf_printf(out, " %c%02d:%02d", tz_min < 0 ? '-' : '+', off / 60, off % 60);
}

int vl_time_show(vl_buf *out, const char *utc, int tz_min)
{
	char date[11], frac[10] = "";
	size_t n, fl;
	int64_t secs;

	if (!utc || !vl_datetime_valid(utc))
		return vl_buf_puts(out, utc ? utc : "");
	n = strlen(utc);
	memcpy(date, utc, 10);
	date[10] = '\0';
	/* Canonical: YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z (vl_datetime_valid). */
	if (n < 20 || n > 30 || utc[n - 1] != 'Z')
		return vl_buf_puts(out, utc);
	fl = n > 21 ? n - 21 : 0;
	if (fl)
		memcpy(frac, utc + 20, fl);
	frac[fl] = '\0';
	secs = vl_days_from_civil((date[0] - '0') * 1000 + (date[1] - '0') * 100 + two(date + 2),
			(unsigned)two(date + 5), (unsigned)two(date + 8)) * 86400 +
			two(utc + 11) * 3600 + two(utc + 14) * 60 + two(utc + 17);
	return put_local(out, secs, frac, 0, tz_min);
}

int vl_time_show_secs(vl_buf *out, int64_t secs, int tz_min)
{
	return put_local(out, secs, NULL, 1, tz_min);
}
