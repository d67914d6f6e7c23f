/*
 * types.h - vledger's domain types: resident ID numbers, phone numbers,
 * division codes, dates. Pure functions, thread safe. None of them puts the
 * checked value into an error message.
 */
#ifndef VL_TYPES_H
#define VL_TYPES_H

#include <stddef.h>

typedef struct {
	char region[7];     /* first 6 digits */
	char birth[11];     /* YYYY-MM-DD */
	int sex;            /* 1 male, 2 female (17th digit odd/even) */
} vl_cn_id_info;

/*
 * Check an 18-character resident ID (GB 11643-1999): 17 digits + check
 * character (digit or uppercase X) by ISO 7064 MOD 11-2; region code not
 * 000000 and first digit 1-9; birth date a real calendar date, not after
 * `today` (YYYY-MM-DD, NULL = the current UTC date) and not before
 * 1900-01-01. Returns 0 or a static string naming the rule broken
 * ("length", "characters", "region", "birth date", "future birth date",
 * "check digit"). info may be NULL.
 */
const char *vl_cn_id_check(const char *s, const char *today, vl_cn_id_info *info);
/* The check character for the first 17 digits ('0'-'9' or 'X'). */
char vl_cn_id_check_char(const char *first17);

/* Mobile: optional "+86" or "86" prefix, then ^1[3-9][0-9]{9}$. NULL if ok,
 * else the rule broken. */
const char *vl_cn_mobile_check(const char *s);
/* Mobile, or landline: 0 + 2-3 digit area code, '-', 7-8 digits, optional
 * "-" extension of 1-6 digits (023-12345678). */
const char *vl_phone_check(const char *s);

/* Division codes: 12 digits PPCCDD TTT VVV (docs/formats.md §1). */
typedef enum {
	VL_DIV_INVALID = 0, VL_DIV_PROVINCE, VL_DIV_CITY, VL_DIV_COUNTY,
	VL_DIV_TOWNSHIP, VL_DIV_VILLAGE
} vl_div_level;
/* Level from trailing zero groups; VL_DIV_INVALID unless 12 digits with a
 * non-zero province and no non-zero group after a zero one. */
vl_div_level vl_division_level(const char *code);
/* "province" "city" "county" "township" "village", or "invalid". */
const char *vl_division_level_name(vl_div_level l);
/* Parent code (zero-fill the last non-zero group) into out[13]; -1 for a
 * province or an invalid code, else 0. */
int vl_division_parent(const char *code, char out[13]);
/* 1 if `ancestor` is `code` or one of its ancestors, else 0. */
int vl_division_covers(const char *ancestor, const char *code);
/* Township group kind: "street" (001-099), "town" (100-199), "township"
 * (200-399) or NULL; village group: "community" (001-199), "village"
 * (200-399) or NULL. */
const char *vl_division_kind(const char *code);

/*
 * Input forgiveness (docs/schemas.md, "Input rules"): fold the full-width
 * forms a Chinese input method types (U+FF01-U+FF5E to ASCII 0x21-0x7E,
 * U+3000 ideographic space to ' ') in s[0..len) into out, which may be s
 * itself: the result is never longer. out gets a NUL; returns its length.
 * Other bytes are copied unchanged.
 */
size_t vl_fold_fullwidth(char *out, const char *s, size_t len);

/* YYYY-MM-DD, a real calendar date. 1 ok, 0 not. */
int vl_date_valid(const char *s);
/* RFC 3339 UTC "YYYY-MM-DDTHH:MM:SS[.fff]Z". 1 ok, 0 not. */
int vl_datetime_valid(const char *s);
/* Today's UTC date into out[11]. */
void vl_date_today(char out[11]);

#endif
