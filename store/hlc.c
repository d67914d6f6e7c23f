/* hlc.c - the hybrid logical clock (see hlc.h). */
#include "store/hlc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/buf.h"

int64_t vl_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void vl_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int digits(const char *s, int n, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int vl_hlc_parse(vl_hlc *out, const char *s)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned y, mo, d, h, mi, se, ms, ctr;

	if (!s || strlen(s) != VL_HLC_TEXT_LEN || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
			s[13] != ':' || s[16] != ':' || s[19] != '.' || s[23] != 'Z' || s[24] != '/' ||
			digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
			digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se) ||
			digits(s + 20, 3, &ms) || digits(s + 25, 4, &ctr))
		return vl_error_set(VL_EINVALID, "clock is not of the form YYYY-MM-DDTHH:MM:SS.mmmZ/NNNN");
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 59 ||
			(mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
		return vl_error_set(VL_EINVALID, "clock names a date or time that does not exist");
	out->ms = ((uint64_t)vl_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se) * 1000 + ms;
	out->counter = ctr;
	return 0;
}

void vl_hlc_format(char out[VL_HLC_TEXT_LEN + 1], const vl_hlc *c)
{
	uint64_t secs = c->ms / 1000;
	char tmp[96];
	unsigned m, d;
	int64_t y;

	vl_civil_from_days((int64_t)(secs / 86400), &y, &m, &d);
	/* Years past 9999 cannot occur for a wall clock; clamp so the text
	 * keeps its fixed width. */
	if (y > 9999)
		y = 9999;
	snprintf(tmp, sizeof(tmp), "%04d-%02u-%02uT%02u:%02u:%02u.%03uZ/%04u",
			(int)y, m, d, (unsigned)(secs % 86400 / 3600), (unsigned)(secs % 3600 / 60),
			(unsigned)(secs % 60), (unsigned)(c->ms % 1000), c->counter % 10000u);
	memcpy(out, tmp, VL_HLC_TEXT_LEN);
	out[VL_HLC_TEXT_LEN] = '\0';
}

int vl_hlc_cmp(const vl_hlc *a, const vl_hlc *b)
{
	if (a->ms != b->ms)
		return a->ms < b->ms ? -1 : 1;
	if (a->counter != b->counter)
		return a->counter < b->counter ? -1 : 1;
	return 0;
}

uint64_t vl_hlc_wall_ms(void)
{
	const char *fake = getenv("VLEDGER_FAKE_TIME_MS");
	struct timespec ts;

	if (fake && *fake) {
		char *end;
		unsigned long long v = strtoull(fake, &end, 10);
		if (*end == '\0')
			return v;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void vl_hlc_tick(vl_hlc *c, uint64_t wall_ms)
{
	if (wall_ms > c->ms) {
		c->ms = wall_ms;
		c->counter = 0;
	} else if (c->counter >= 9999) {
		/* The counter has four digits: borrow the next millisecond. */
		c->ms++;
		c->counter = 0;
	} else {
		c->counter++;
	}
}

void vl_hlc_observe(vl_hlc *c, const vl_hlc *seen)
{
	if (vl_hlc_cmp(seen, c) > 0)
		*c = *seen;
}

int vl_hlc_load(vl_hlc *out, const char *path)
{
	vl_buf b = VL_BUF_INIT;
	vl_hlc c = { 0, 0 };
	int rc;

	rc = vl_buf_read_file(&b, path, 256);
	if (rc == VL_ENOTFOUND) {
		rc = 0;
		goto done;
	}
	if (rc < 0)
		goto out;
	if (b.len > 0 && b.ptr[b.len - 1] == '\n')
		b.ptr[--b.len] = '\0';
	if ((rc = vl_hlc_parse(&c, b.ptr)) < 0) {
		vl_error_wrap(rc, "clock file '%s' is damaged (remove it only if you are sure the wall clock is right)", path);
		goto out;
	}
done:
	*out = c;
out:
	vl_buf_free(&b);
	return rc;
}

int vl_hlc_save(const vl_hlc *c, const char *path)
{
	char text[VL_HLC_TEXT_LEN + 2];

	vl_hlc_format(text, c);
	text[VL_HLC_TEXT_LEN] = '\n';
	text[VL_HLC_TEXT_LEN + 1] = '\0';
	return vl_buf_write_file(path, text, VL_HLC_TEXT_LEN + 1, 0644);
}
