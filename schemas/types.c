/*
 * types.c - vledger's domain types (see types.h): resident ID numbers
 * (GB 11643-1999 with the ISO 7064 MOD 11-2 check character), mobile and
 * landline numbers, 12-digit statistical division codes, dates.
 *
 * Everything here is a pure function of its arguments (plus the clock for
 * vl_date_today) and allocates nothing, so it is thread safe. Results name
 * the rule broken, never the value checked: these values are personal data.
 */
#include "schemas/types.h"

#include <assert.h>
#include <string.h>
#include <time.h>

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return 0;
	return 1;
}

/* The value of n decimal digits (the caller checked they are digits). */
static int digits_value(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* Year 1-9999, month 1-12, day within the month (proleptic Gregorian). */
static int ymd_valid(int y, int m, int d)
{
	return y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

/* ---- dates ------------------------------------------------------------ */

int vl_date_valid(const char *s)
{
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
			!all_digits(s, 4) || !all_digits(s + 5, 2) || !all_digits(s + 8, 2))
		return 0;
	return ymd_valid(digits_value(s, 4), digits_value(s + 5, 2), digits_value(s + 8, 2));
}

/*
 * Exactly "YYYY-MM-DDTHH:MM:SS" + optional ".f" (1-9 digits) + "Z". Upper
 * case T and Z only, and no leap second (:60): records carry one spelling of
 * one instant, and the clocks that stamp them never produce a :60.
 */
int vl_datetime_valid(const char *s)
{
	size_t n, i;

	if (!s)
		return 0;
	n = strlen(s);
	if (n < 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[n - 1] != 'Z')
		return 0;
	{
		char date[11];

		memcpy(date, s, 10);
		date[10] = '\0';
		if (!vl_date_valid(date))
			return 0;
	}
	if (!all_digits(s + 11, 2) || !all_digits(s + 14, 2) || !all_digits(s + 17, 2))
		return 0;
	if (digits_value(s + 11, 2) > 23 || digits_value(s + 14, 2) > 59 ||
			digits_value(s + 17, 2) > 59)
		return 0;
	if (n == 20)
		return 1;
	/* s[19..n-1) is the fraction: '.' then 1 to 9 digits. */
	if (s[19] != '.' || n < 22 || n > 30)
		return 0;
	for (i = 20; i < n - 1; i++)
		if (!is_digit(s[i]))
			return 0;
	return 1;
}

void vl_date_today(char out[11])
{
	time_t now = time(NULL);
	struct tm tm;

	if (!gmtime_r(&now, &tm)) {
		/* Only for a clock beyond year 2^31: fall back to a fixed, harmless date. */
		memcpy(out, "1970-01-01", 11);
		return;
	}
	out[0] = (char)('0' + (tm.tm_year + 1900) / 1000 % 10);
	out[1] = (char)('0' + (tm.tm_year + 1900) / 100 % 10);
	out[2] = (char)('0' + (tm.tm_year + 1900) / 10 % 10);
	out[3] = (char)('0' + (tm.tm_year + 1900) % 10);
	out[4] = '-';
	out[5] = (char)('0' + (tm.tm_mon + 1) / 10);
	out[6] = (char)('0' + (tm.tm_mon + 1) % 10);
	out[7] = '-';
	out[8] = (char)('0' + tm.tm_mday / 10);
	out[9] = (char)('0' + tm.tm_mday % 10);
	out[10] = '\0';
}

/* ---- resident ID numbers ------------------------------------------------ */

/*
 * ISO 7064 MOD 11-2: digit i (0-based, left to right) weighs 2^(17-i) mod 11;
 * the check character makes the weighted sum of all 18 congruent to 1 mod 11,
 * which gives the table below indexed by (sum of the first 17) mod 11.
 */
char vl_cn_id_check_char(const char *first17)
{
	static const int w[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
	static const char map[] = "10X98765432";
	int sum = 0, i;

	for (i = 0; i < 17; i++) {
		assert(is_digit(first17[i]));
		sum += (first17[i] - '0') * w[i];
	}
	return map[sum % 11];
}

const char *vl_cn_id_check(const char *s, const char *today, vl_cn_id_info *info)
{
	char birth[11];
	char now[11];

	if (!s || strlen(s) != 18)
		return "length";
	if (!all_digits(s, 17) || !(is_digit(s[17]) || s[17] == 'X'))
		return "characters";
	if (s[0] == '0')
		return "region";
	memcpy(birth, s + 6, 4);
	birth[4] = '-';
	memcpy(birth + 5, s + 10, 2);
	birth[7] = '-';
	memcpy(birth + 8, s + 12, 2);
	birth[10] = '\0';
	if (!vl_date_valid(birth) || strcmp(birth, "1900-01-01") < 0)
		return "birth date";
	if (!today) {
		vl_date_today(now);
		today = now;
	}
	/* A caller passing a malformed `today` is a programmer error. */
	assert(vl_date_valid(today));
	if (strcmp(birth, today) > 0)
		return "future birth date";
	if (vl_cn_id_check_char(s) != s[17])
		return "check digit";
	if (info) {
		memcpy(info->region, s, 6);
		info->region[6] = '\0';
		memcpy(info->birth, birth, sizeof(info->birth));
		info->sex = (s[16] - '0') % 2 ? 1 : 2;
	}
	return 0;
}

/* ---- input forgiveness ---------------------------------------------- */

size_t vl_fold_fullwidth(char *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0;

	while (i < len) {
		/* U+FF01-U+FF3F is EF BC 81-BF, U+FF40-U+FF5E is EF BD 80-9E. */
		if (i + 2 < len && p[i] == 0xef && p[i + 1] == 0xbc && p[i + 2] >= 0x81 && p[i + 2] <= 0xbf) {
			out[o++] = (char)(p[i + 2] - 0x81 + 0x21);
			i += 3;
		} else if (i + 2 < len && p[i] == 0xef && p[i + 1] == 0xbd && p[i + 2] >= 0x80 &&
				p[i + 2] <= 0x9e) {
			out[o++] = (char)(p[i + 2] - 0x80 + 0x60);
			i += 3;
		} else if (i + 2 < len && p[i] == 0xe3 && p[i + 1] == 0x80 && p[i + 2] == 0x80) {
			out[o++] = ' ';
			i += 3;
		} else {
			out[o++] = s[i++];
		}
	}
	out[o] = '\0';
	return o;
}

/* ---- phone numbers ---------------------------------------------------- */

const char *vl_cn_mobile_check(const char *s)
{
	size_t n;

	if (!s)
		return "length";
	if (strncmp(s, "+86", 3) == 0)
		s += 3;
	else if (strncmp(s, "86", 2) == 0)
		s += 2;
	n = strlen(s);
	if (!all_digits(s, n))
		return "characters";
	if (n != 11)
		return "length";
	if (s[0] != '1' || s[1] < '3')
		return "mobile prefix";
	return 0;
}

/*
 * Landline "0AA-NNNNNNN[N][-E{1,6}]" or "0AAA-..." (area code 0 + 2-3
 * digits), or a mobile. A value that does not start with '0' is judged as
 * a mobile, so its message names the mobile rule it breaks.
 */
const char *vl_phone_check(const char *s)
{
	size_t area, num, ext;
	const char *p;

	if (!s || !*s)
		return "length";
	if (s[0] != '0')
		return vl_cn_mobile_check(s);
	for (area = 0; is_digit(s[area]); area++)
		;
	if (area < 3 || area > 4 || s[area] != '-')
		return "area code";
	p = s + area + 1;
	for (num = 0; is_digit(p[num]); num++)
		;
	if (num < 7 || num > 8 || p[0] == '0')
		return "number";
	p += num;
	if (!*p)
		return 0;
	if (*p != '-')
		return "characters";
	p++;
	for (ext = 0; is_digit(p[ext]); ext++)
		;
	if (ext < 1 || ext > 6 || p[ext])
		return "extension";
	return 0;
}

/* ---- division codes ---------------------------------------------------- */

/* Group boundaries of PP CC DD TTT VVV: group g spans [start[g], start[g+1]). */
static const int group_start[6] = { 0, 2, 4, 6, 9, 12 };

static int group_zero(const char *code, int g)
{
	int i;

	for (i = group_start[g]; i < group_start[g + 1]; i++)
		if (code[i] != '0')
			return 0;
	return 1;
}

vl_div_level vl_division_level(const char *code)
{
	int g, last = -1;

	if (!code || strlen(code) != 12 || !all_digits(code, 12))
		return VL_DIV_INVALID;
	for (g = 0; g < 5; g++) {
		if (group_zero(code, g))
			continue;
		if (last != g - 1)
			return VL_DIV_INVALID; /* a non-zero group after a zero one */
		last = g;
	}
	if (last < 0)
		return VL_DIV_INVALID; /* province group 00 */
	return (vl_div_level)(VL_DIV_PROVINCE + last);
}

const char *vl_division_level_name(vl_div_level l)
{
	switch (l) {
	case VL_DIV_PROVINCE: return "province";
	case VL_DIV_CITY: return "city";
	case VL_DIV_COUNTY: return "county";
	case VL_DIV_TOWNSHIP: return "township";
	case VL_DIV_VILLAGE: return "village";
	case VL_DIV_INVALID: break;
	}
	return "invalid";
}

int vl_division_parent(const char *code, char out[13])
{
	vl_div_level l = vl_division_level(code);
	int g, i;

	if (l == VL_DIV_INVALID || l == VL_DIV_PROVINCE)
		return -1;
	g = (int)l - VL_DIV_PROVINCE; /* the last non-zero group */
	memcpy(out, code, 13);
	for (i = group_start[g]; i < group_start[g + 1]; i++)
		out[i] = '0';
	return 0;
}

int vl_division_covers(const char *ancestor, const char *code)
{
	vl_div_level la = vl_division_level(ancestor);
	vl_div_level lc = vl_division_level(code);
	int g;

	if (la == VL_DIV_INVALID || lc == VL_DIV_INVALID || la > lc)
		return 0;
	g = (int)la - VL_DIV_PROVINCE;
	/* The ancestor's groups after g are zero (it is valid), so comparing
	 * the prefix through group g is comparing the whole chain. */
	return memcmp(ancestor, code, (size_t)group_start[g + 1]) == 0;
}

const char *vl_division_kind(const char *code)
{
	int v;

	switch (vl_division_level(code)) {
	case VL_DIV_TOWNSHIP:
		v = digits_value(code + 6, 3);
		return v < 100 ? "street" : v < 200 ? "town" : v < 400 ? "township" : 0;
	case VL_DIV_VILLAGE:
		v = digits_value(code + 9, 3);
		return v < 200 ? "community" : v < 400 ? "village" : 0;
	default:
		return 0;
	}
}
