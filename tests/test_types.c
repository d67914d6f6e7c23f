/*
 * test_types.c - the domain types of schemas/types.h: resident ID numbers
 * (every rule, the X check character, leap days, birth dates relative to a
 * given `today`), mobile and landline numbers, division codes against the
 * real 彭水 code list, and dates.
 *
 * All ID numbers are synthetic: region 500243 (彭水), made-up birth dates and
 * sequence numbers, check characters computed independently of the code
 * under test (see id_check_ref below).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/types.h"

#ifndef VL_SOURCE_DIR
#error "VL_SOURCE_DIR must name the project's source directory"
#endif
#ifndef VL_DATA_DIR
#define VL_DATA_DIR VL_SOURCE_DIR "/data"
#endif

/* The check character computed the long way: weights 2^(17-i) mod 11,
 * then the character c with (sum + value(c)) mod 11 == 1, X standing for 10. */
static char id_check_ref(const char *first17)
{
	int sum = 0, i, w = 1, c;
	int weights[17];

	for (i = 16; i >= 0; i--) {
		w = (w * 2) % 11;
		weights[i] = w;
	}
	for (i = 0; i < 17; i++)
		sum += (first17[i] - '0') * weights[i];
	for (c = 0; c <= 10; c++)
		if ((sum + c) % 11 == 1)
			return c == 10 ? 'X' : (char)('0' + c);
	return '?';
}

/* first17 + the correct check character into out[19]. */
static const char *make_id(char out[19], const char *first17)
{
	memcpy(out, first17, 17);
	out[17] = id_check_ref(first17);
	out[18] = '\0';
	return out;
}

#define TODAY "2024-06-01"

static void test_check_char(void **state)
{
	static const char *const ids[] = {
		"50024319800229001X", /* leap day and an X */
		"500243198507150012",
		"50024319540512002X",
		"500243196011110034",
		"500243190001010016",
		"11010519491231002X", /* the worked example of GB 11643-1999 */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		assert_int_equal(vl_cn_id_check_char(ids[i]), ids[i][17]);
		assert_int_equal(id_check_ref(ids[i]), ids[i][17]);
		assert_null(vl_cn_id_check(ids[i], TODAY, NULL));
	}
}

static void test_cn_id_good(void **state)
{
	vl_cn_id_info info;
	char id[19];

	(void)state;
	memset(&info, 0, sizeof(info));
	assert_null(vl_cn_id_check("50024319800229001X", TODAY, &info));
	assert_string_equal(info.region, "500243");
	assert_string_equal(info.birth, "1980-02-29");
	assert_int_equal(info.sex, 1); /* 17th digit 1: odd */
	assert_null(vl_cn_id_check("50024319540512002X", TODAY, &info));
	assert_int_equal(info.sex, 2); /* 17th digit 2: even */
	assert_string_equal(info.birth, "1954-05-12");
	/* 2000 is a leap year (divisible by 400). */
	assert_null(vl_cn_id_check(make_id(id, "50024320000229001"), TODAY, NULL));
	/* The earliest birth date accepted. */
	assert_null(vl_cn_id_check(make_id(id, "50024319000101001"), TODAY, NULL));
	/* Born today is not the future. */
	assert_null(vl_cn_id_check(make_id(id, "50024320240601002"), TODAY, NULL));
	/* today = NULL: the current date. */
	assert_null(vl_cn_id_check("500243198507150012", NULL, NULL));
}

static void test_cn_id_bad(void **state)
{
	char id[19];

	(void)state;
	assert_string_equal(vl_cn_id_check(NULL, TODAY, NULL), "length");
	assert_string_equal(vl_cn_id_check("", TODAY, NULL), "length");
	assert_string_equal(vl_cn_id_check("50024319800229001", TODAY, NULL), "length");
	assert_string_equal(vl_cn_id_check("50024319800229001X0", TODAY, NULL), "length");
	/* lower-case x is not the check character */
	assert_string_equal(vl_cn_id_check("50024319800229001x", TODAY, NULL), "characters");
	assert_string_equal(vl_cn_id_check("5002431980022900AX", TODAY, NULL), "characters");
	assert_string_equal(vl_cn_id_check("50024319800229 01X", TODAY, NULL), "characters");
	/* X only in the last place */
	assert_string_equal(vl_cn_id_check("50024319800229X012", TODAY, NULL), "characters");
	/* region: first digit 0 (000000 included) */
	assert_string_equal(vl_cn_id_check(make_id(id, "00000019800101001"), TODAY, NULL), "region");
	assert_string_equal(vl_cn_id_check(make_id(id, "05024319800101001"), TODAY, NULL), "region");
	/* 1981 is not a leap year, nor is 1900 (divisible by 100, not 400). */
	assert_string_equal(vl_cn_id_check(make_id(id, "50024319810229001"), TODAY, NULL), "birth date");
	assert_string_equal(vl_cn_id_check(make_id(id, "50024319000229001"), TODAY, NULL), "birth date");
	assert_string_equal(vl_cn_id_check(make_id(id, "50024319801301001"), TODAY, NULL), "birth date");
	assert_string_equal(vl_cn_id_check(make_id(id, "50024319800431001"), TODAY, NULL), "birth date");
	assert_string_equal(vl_cn_id_check(make_id(id, "50024319800100001"), TODAY, NULL), "birth date");
	/* before 1900-01-01 */
	assert_string_equal(vl_cn_id_check(make_id(id, "50024318991231001"), TODAY, NULL), "birth date");
	/* after today, whatever today is */
	make_id(id, "50024320240602001");
	assert_string_equal(vl_cn_id_check(id, TODAY, NULL), "future birth date");
	assert_null(vl_cn_id_check(id, "2024-06-02", NULL));
	assert_string_equal(vl_cn_id_check(make_id(id, "50024320500101001"), NULL, NULL),
			"future birth date");
	/* every wrong check character is refused */
	{
		const char *cs = "0123456789X";
		size_t i;

		make_id(id, "50024319850715001");
		for (i = 0; cs[i]; i++) {
			id[17] = cs[i];
			if (cs[i] == id_check_ref(id))
				assert_null(vl_cn_id_check(id, TODAY, NULL));
			else
				assert_string_equal(vl_cn_id_check(id, TODAY, NULL), "check digit");
		}
	}
	/* one digit changed breaks the check */
	assert_string_equal(vl_cn_id_check("500243198507150013", TODAY, NULL), "check digit");
	assert_string_equal(vl_cn_id_check("500243198507151012", TODAY, NULL), "check digit");
}

static void test_mobile(void **state)
{
	(void)state;
	assert_null(vl_cn_mobile_check("13812345678"));
	assert_null(vl_cn_mobile_check("19912345678"));
	assert_null(vl_cn_mobile_check("+8613812345678"));
	assert_null(vl_cn_mobile_check("8613812345678"));
	assert_non_null(vl_cn_mobile_check(NULL));
	assert_non_null(vl_cn_mobile_check(""));
	assert_non_null(vl_cn_mobile_check("12812345678"));  /* 1[3-9] */
	assert_non_null(vl_cn_mobile_check("23812345678"));
	assert_non_null(vl_cn_mobile_check("1381234567"));   /* 10 digits */
	assert_non_null(vl_cn_mobile_check("138123456789")); /* 12 digits */
	assert_non_null(vl_cn_mobile_check("1381234567a"));
	assert_non_null(vl_cn_mobile_check("138 1234 5678"));
	assert_non_null(vl_cn_mobile_check("+85213812345678"));
	assert_non_null(vl_cn_mobile_check("023-12345678"));
}

static void test_phone(void **state)
{
	(void)state;
	assert_null(vl_phone_check("13812345678"));
	assert_null(vl_phone_check("+8613812345678"));
	assert_null(vl_phone_check("023-12345678"));
	assert_null(vl_phone_check("023-7844123"));
	assert_null(vl_phone_check("010-12345678"));
	assert_null(vl_phone_check("0755-1234567"));
	assert_null(vl_phone_check("023-12345678-1"));
	assert_null(vl_phone_check("023-12345678-123456"));
	assert_non_null(vl_phone_check(NULL));
	assert_non_null(vl_phone_check(""));
	assert_non_null(vl_phone_check("02312345678"));        /* no dash */
	assert_non_null(vl_phone_check("02-12345678"));        /* area too short */
	assert_non_null(vl_phone_check("02345-1234567"));      /* area too long */
	assert_non_null(vl_phone_check("023-123456"));         /* 6 digits */
	assert_non_null(vl_phone_check("023-123456789"));      /* 9 digits */
	assert_non_null(vl_phone_check("023-02345678"));       /* local number from 0 */
	assert_non_null(vl_phone_check("023-12345678-"));
	assert_non_null(vl_phone_check("023-12345678-1234567"));
	assert_non_null(vl_phone_check("023-12345678x12"));
	assert_non_null(vl_phone_check("23-12345678"));
	assert_non_null(vl_phone_check("12812345678"));
}

static void test_division_levels(void **state)
{
	char p[13];

	(void)state;
	assert_int_equal(vl_division_level("500243001001"), VL_DIV_VILLAGE);
	assert_int_equal(vl_division_level("500243001000"), VL_DIV_TOWNSHIP);
	assert_int_equal(vl_division_level("500243000000"), VL_DIV_COUNTY);
	assert_int_equal(vl_division_level("500200000000"), VL_DIV_CITY);
	assert_int_equal(vl_division_level("500000000000"), VL_DIV_PROVINCE);
	assert_int_equal(vl_division_level("000000000000"), VL_DIV_INVALID);
	assert_int_equal(vl_division_level("000243001001"), VL_DIV_INVALID);
	assert_int_equal(vl_division_level("500043000000"), VL_DIV_INVALID); /* gap */
	assert_int_equal(vl_division_level("500243000001"), VL_DIV_INVALID); /* gap */
	assert_int_equal(vl_division_level("50024300100"), VL_DIV_INVALID);
	assert_int_equal(vl_division_level("5002430010011"), VL_DIV_INVALID);
	assert_int_equal(vl_division_level("50024300100a"), VL_DIV_INVALID);
	assert_int_equal(vl_division_level(NULL), VL_DIV_INVALID);
	assert_string_equal(vl_division_level_name(VL_DIV_VILLAGE), "village");
	assert_string_equal(vl_division_level_name(VL_DIV_TOWNSHIP), "township");
	assert_string_equal(vl_division_level_name(VL_DIV_COUNTY), "county");
	assert_string_equal(vl_division_level_name(VL_DIV_CITY), "city");
	assert_string_equal(vl_division_level_name(VL_DIV_PROVINCE), "province");
	assert_string_equal(vl_division_level_name(VL_DIV_INVALID), "invalid");

	assert_int_equal(vl_division_parent("500243001001", p), 0);
	assert_string_equal(p, "500243001000");
	assert_int_equal(vl_division_parent(p, p), 0);
	assert_string_equal(p, "500243000000");
	assert_int_equal(vl_division_parent(p, p), 0);
	assert_string_equal(p, "500200000000");
	assert_int_equal(vl_division_parent(p, p), 0);
	assert_string_equal(p, "500000000000");
	assert_int_equal(vl_division_parent(p, p), -1);
	assert_int_equal(vl_division_parent("500043000000", p), -1);
	assert_int_equal(vl_division_parent("x", p), -1);
}

static void test_division_covers_kind(void **state)
{
	(void)state;
	assert_true(vl_division_covers("500243000000", "500243001001"));
	assert_true(vl_division_covers("500243001000", "500243001001"));
	assert_true(vl_division_covers("500243001001", "500243001001"));
	assert_true(vl_division_covers("500000000000", "500243228201"));
	assert_false(vl_division_covers("500243001000", "500243002001"));
	assert_false(vl_division_covers("500243001001", "500243001000"));
	assert_false(vl_division_covers("500243001001", "500243001002"));
	assert_false(vl_division_covers("500242000000", "500243001001"));
	assert_false(vl_division_covers("500043000000", "500243001001"));
	assert_false(vl_division_covers("500243000000", "bogus"));

	assert_string_equal(vl_division_kind("500243001000"), "street");   /* 汉葭街道 */
	assert_string_equal(vl_division_kind("500243117000"), "town");     /* 梅子垭镇 */
	assert_string_equal(vl_division_kind("500243201000"), "township"); /* 岩东乡 */
	assert_string_equal(vl_division_kind("500243001001"), "community");
	assert_string_equal(vl_division_kind("500243001200"), "village");  /* 亭子村 */
	assert_null(vl_division_kind("500243400000"));
	assert_null(vl_division_kind("500243001400"));
	assert_null(vl_division_kind("500243000000"));
	assert_null(vl_division_kind("nonsense"));
}

/* Every row of the real code list: level, parent and kind agree with the
 * names (街道/镇/乡; 村 or not). */
static void test_division_csv(void **state)
{
	char *csv, *line, *next;
	size_t rows = 0, len;

	(void)state;
	csv = vt_read(VL_DATA_DIR "/divisions/pengshui_divisions.csv", &len);
	line = strchr(csv, '\n');
	assert_non_null(line);
	for (line++; *line; line = next) {
		char code[13], parent[13], level[16], name[128], p[13];
		const char *kind;
		char *f[4];
		int i;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (!*line)
			continue;
		f[0] = line;
		for (i = 1; i < 4; i++) {
			f[i] = strchr(f[i - 1], ',');
			assert_non_null(f[i]);
			*f[i]++ = '\0';
		}
		snprintf(code, sizeof(code), "%s", f[0]);
		snprintf(name, sizeof(name), "%s", f[1]);
		snprintf(level, sizeof(level), "%s", f[2]);
		snprintf(parent, sizeof(parent), "%s", f[3]);
		assert_string_equal(vl_division_level_name(vl_division_level(code)), level);
		assert_int_equal(vl_division_parent(code, p), 0);
		assert_string_equal(p, parent);
		assert_true(vl_division_covers(parent, code));
		assert_true(vl_division_covers("500243000000", code));
		kind = vl_division_kind(code);
		if (strcmp(level, "township") == 0) {
			const char *suffix = strstr(name, "街道") ? "street" :
				strstr(name, "镇") ? "town" : "township";

			assert_string_equal(kind, suffix);
		} else if (strcmp(level, "village") == 0) {
			assert_string_equal(kind, strstr(name, "村") ? "village" : "community");
		}
		rows++;
	}
	assert_int_equal(rows, 1 + 39 + 296);
	free(csv);
}

static void test_dates(void **state)
{
	char today[11];

	(void)state;
	assert_true(vl_date_valid("2022-04-07"));
	assert_true(vl_date_valid("2000-02-29"));
	assert_true(vl_date_valid("2024-02-29"));
	assert_false(vl_date_valid("2023-02-29"));
	assert_false(vl_date_valid("1900-02-29"));
	assert_false(vl_date_valid("2022-04-31"));
	assert_false(vl_date_valid("2022-13-01"));
	assert_false(vl_date_valid("2022-00-10"));
	assert_false(vl_date_valid("2022-4-7"));
	assert_false(vl_date_valid("2022/04/07"));
	assert_false(vl_date_valid("0000-01-01"));
	assert_false(vl_date_valid("2022-04-07 "));
	assert_false(vl_date_valid(""));
	assert_false(vl_date_valid(NULL));

	assert_true(vl_datetime_valid("2022-04-07T01:12:33Z"));
	assert_true(vl_datetime_valid("2022-04-07T01:12:33.120Z"));
	assert_true(vl_datetime_valid("2022-04-07T23:59:59.123456789Z"));
	assert_false(vl_datetime_valid("2022-04-07T01:12:33.Z"));
	assert_false(vl_datetime_valid("2022-04-07T01:12:33.1234567890Z"));
	assert_false(vl_datetime_valid("2022-04-07T24:00:00Z"));
	assert_false(vl_datetime_valid("2022-04-07T01:60:00Z"));
	assert_false(vl_datetime_valid("2022-04-07T01:12:60Z"));
	assert_false(vl_datetime_valid("2022-04-07T01:12:33"));
	assert_false(vl_datetime_valid("2022-04-07T01:12:33+08:00"));
	assert_false(vl_datetime_valid("2022-04-07t01:12:33z"));
	assert_false(vl_datetime_valid("2022-04-07 01:12:33Z"));
	assert_false(vl_datetime_valid("2022-02-30T01:12:33Z"));
	assert_false(vl_datetime_valid(NULL));

	vl_date_today(today);
	assert_true(vl_date_valid(today));
	assert_true(strcmp(today, "2024-01-01") > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_char),
		cmocka_unit_test(test_cn_id_good),
		cmocka_unit_test(test_cn_id_bad),
		cmocka_unit_test(test_mobile),
		cmocka_unit_test(test_phone),
		cmocka_unit_test(test_division_levels),
		cmocka_unit_test(test_division_covers_kind),
		cmocka_unit_test(test_division_csv),
		cmocka_unit_test(test_dates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
