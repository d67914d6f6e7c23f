/*
 * test_i18n.c - store/i18n.c: the language follows the environment and
 * vl_i18n_set_lang, switching back and forth in one process (gettext's cache
 * of looked-up translations must not keep the other language's), and
 * vl_error_set/vl_error_wrap translate their formats. Uses the catalog the
 * build made (<build>/locale, found because this program is in the build
 * tree) and a message store/error.c owns: the "%s: %s" joint of
 * vl_error_wrap, "%s：%s" in Chinese. ctest runs it with LANGUAGE= and
 * LC_ALL=C.UTF-8 (English); this machine may have no zh_CN locale at all.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "store/error.h"
#include "store/i18n.h"

static void test_english_by_default(void **state)
{
	(void)state;
	setenv("LC_ALL", "C.UTF-8", 1);
	unsetenv("LANGUAGE");
	vl_i18n_init();
	assert_string_equal(vl_i18n_lang(), "en");
	assert_string_equal(_("%s: %s"), "%s: %s");
}

static void test_switch_back_and_forth(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		assert_string_equal(vl_i18n_set_lang("zh"), "zh");
		assert_string_equal(_("%s: %s"), "%s：%s");
		assert_string_equal(vl_i18n_set_lang("en"), "en");
		assert_string_equal(_("%s: %s"), "%s: %s");
	}
	/* "zh_CN", "zh-Hans": any Chinese; NULL: the environment's (English here). */
	assert_string_equal(vl_i18n_set_lang("zh_CN"), "zh");
	assert_string_equal(_("%s: %s"), "%s：%s");
	assert_string_equal(vl_i18n_set_lang(NULL), "en");
	assert_string_equal(_("%s: %s"), "%s: %s");
}

static void test_errors_translated(void **state)
{
	(void)state;
	vl_i18n_set_lang("zh");
	vl_error_set(VL_EINVALID, "%s", "inner");
	vl_error_wrap(VL_EINVALID, "%s", "outer");
	assert_string_equal(vl_error_last(), "outer：inner");
	vl_i18n_set_lang("en");
	vl_error_set(VL_EINVALID, "%s", "inner");
	vl_error_wrap(VL_EINVALID, "%s", "outer");
	assert_string_equal(vl_error_last(), "outer: inner");
}

/* The environment decides at vl_i18n_set_lang(NULL), by GNU's precedence:
 * LANGUAGE counts unless the message locale is C/POSIX. */
static void test_environment_rules(void **state)
{
	(void)state;
	setenv("LC_ALL", "zh_CN.UTF-8", 1);
	assert_string_equal(vl_i18n_set_lang(NULL), "zh");
	assert_string_equal(_("%s: %s"), "%s：%s");
	setenv("LC_ALL", "C", 1);
	assert_string_equal(vl_i18n_set_lang(NULL), "en");
	unsetenv("LC_ALL");
	setenv("LANG", "en_US.UTF-8", 1);
	assert_string_equal(vl_i18n_set_lang(NULL), "en");
	setenv("LC_ALL", "C.UTF-8", 1);
}

/* LANGUAGE is read as the process started: the value vl_i18n_set_lang
 * writes for Chinese does not make the environment's language Chinese. */
static void test_own_language_variable_ignored(void **state)
{
	(void)state;
	assert_string_equal(vl_i18n_set_lang("zh"), "zh");
	assert_string_equal(getenv("LANGUAGE"), "zh_CN");
	assert_string_equal(vl_i18n_set_lang(NULL), "en");
	assert_string_equal(_("%s: %s"), "%s: %s");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_english_by_default),
		cmocka_unit_test(test_switch_back_and_forth),
		cmocka_unit_test(test_errors_translated),
		cmocka_unit_test(test_environment_rules),
		cmocka_unit_test(test_own_language_variable_ignored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
