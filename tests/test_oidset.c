/*
 * test_oidset.c - the set of object ids (store/oidset.h): what is added is
 * found and nothing else is, across growth; the all-zero id is never in it;
 * ids crafted to share every byte a plain hash of their first bytes would
 * use still land apart (the slots come from a keyed hash), so looking them
 * up does not walk along all of them; a freed set is empty and reusable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <string.h>

#include "store/oidset.h"

/* An id from a number: its 4 bytes at the end, the rest fill (or zero). */
static void make_id(git_oid *id, uint32_t k, unsigned char fill)
{
	memset(id->id, fill, sizeof(id->id));
	id->id[16] = (unsigned char)(k >> 24);
	id->id[17] = (unsigned char)(k >> 16);
	id->id[18] = (unsigned char)(k >> 8);
	id->id[19] = (unsigned char)k;
}

static void test_add_has(void **state)
{
	vl_oidset s = VL_OIDSET_INIT;
	git_oid id;
	uint32_t k;

	(void)state;
	make_id(&id, 1, 0xab);
	assert_false(vl_oidset_has(&s, &id));
	/* 5,000 ids: the table grows from 1,024 slots several times. */
	for (k = 0; k < 5000; k++) {
		make_id(&id, k * 2, 0xab);
		assert_int_equal(vl_oidset_add(&s, &id), 0);
	}
	assert_int_equal(s.n, 5000);
	assert_true(s.cap >= 2 * s.n);
	for (k = 0; k < 5000; k++) {
		make_id(&id, k * 2, 0xab);
		assert_true(vl_oidset_has(&s, &id));
		make_id(&id, k * 2 + 1, 0xab);
		assert_false(vl_oidset_has(&s, &id));
	}
	/* Adding again changes nothing. */
	make_id(&id, 40, 0xab);
	assert_int_equal(vl_oidset_add(&s, &id), 0);
	assert_int_equal(s.n, 5000);
	/* The all-zero id marks an empty slot: never in the set. */
	memset(&id, 0, sizeof(id));
	assert_int_equal(vl_oidset_add(&s, &id), 0);
	assert_false(vl_oidset_has(&s, &id));
	assert_int_equal(s.n, 5000);
	vl_oidset_free(&s);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.cap, 0);
	make_id(&id, 2, 0xab);
	assert_false(vl_oidset_has(&s, &id));
	assert_int_equal(vl_oidset_add(&s, &id), 0);
	assert_true(vl_oidset_has(&s, &id));
	vl_oidset_free(&s);
}

/*
 * 2,000 ids that agree on their first 16 bytes: a slot taken from those
 * bytes would put them all in one run, each add and lookup walking it. The
 * longest run of taken slots stays short: a keyed hash spreads them.
 */
static void test_crafted_ids_spread(void **state)
{
	vl_oidset s = VL_OIDSET_INIT;
	git_oid id;
	size_t i, run = 0, longest = 0;
	uint32_t k;

	(void)state;
	for (k = 0; k < 2000; k++) {
		make_id(&id, k, 0x11);
		assert_int_equal(vl_oidset_add(&s, &id), 0);
	}
	for (i = 0; i < s.cap; i++) {
		run = git_oid_is_zero(&s.ids[i]) ? 0 : run + 1;
		if (run > longest)
			longest = run;
	}
	/* 2,000 in 4,096 slots at random: the longest run is a few dozen at
	 * most; all in one run would be 2,000. */
	if (longest > 200)
		fail_msg("a run of %zu taken slots among %zu", longest, s.cap);
	for (k = 0; k < 2000; k++) {
		make_id(&id, k, 0x11);
		assert_true(vl_oidset_has(&s, &id));
	}
	vl_oidset_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_has),
		cmocka_unit_test(test_crafted_ids_spread),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
