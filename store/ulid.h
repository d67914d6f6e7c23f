/*
 * ulid.h - record ids: lowercase ULIDs (docs/formats.md §3).
 *
 * 26 characters of Crockford base32 (0-9 a-h j k m n p-t v-z): 48 bits of
 * UTC milliseconds then 80 random bits from libsodium. The last character
 * is random and names the record's bucket directory. Thread safe.
 */
#ifndef VL_ULID_H
#define VL_ULID_H

#include <stdint.h>

#define VL_ULID_LEN 26

/* A new id for time `ms` (UTC milliseconds) into out[27]. */
void vl_ulid_new(char out[VL_ULID_LEN + 1], uint64_t ms);
/* 1 if s is exactly 26 lowercase Crockford base32 characters with a first
 * character of at most '7' (a 128-bit value), else 0. */
int vl_ulid_valid(const char *s);
/* The millisecond time encoded in a valid id. */
uint64_t vl_ulid_time(const char *id);

#endif
