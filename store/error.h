/*
 * error.h - vledger's error codes and the thread-local last error.
 *
 * Every fallible function in vledger returns int: 0 on success or one of the
 * negative codes below. The human-readable message goes to a thread-local
 * slot set with vl_error_set() and read with vl_error_last(). Decide whether
 * something failed from the return code, never from the slot.
 *
 * Messages are lower case, quote the subject, have no trailing period, and say
 * what to do when that is known. They never contain personal data (ID
 * numbers, phones, health): name the field and the rule, not the value.
 */
#ifndef VL_ERROR_H
#define VL_ERROR_H

#include <stdarg.h>

enum {
	VL_OK = 0,
	VL_ERROR = -1,     /* anything else: I/O, a dependency failed */
	VL_ENOTFOUND = -2, /* no such record, ref, file, key */
	VL_EEXISTS = -3,   /* already there */
	VL_EINVALID = -4,  /* input breaks a rule: syntax, schema, canonical form */
	VL_EBADSIG = -5,   /* signature missing, malformed or not valid */
	VL_EDENIED = -6,   /* not authorised: scope, role, passphrase */
	VL_ECONFLICT = -7, /* a ref moved under us, or a conflict left for a person */
	VL_ETOOBIG = -8,   /* a hard size/depth/count cap was hit */
	VL_EPROTO = -9,    /* a peer broke the protocol */
	VL_ENOMEM = -10    /* out of memory */
};

/* The size of the last-error slot: vl_error_last() is at most
 * VL_ERRMSG_MAX - 1 bytes; a longer message is cut there. A copy of a
 * message kept this size is whole. */
#define VL_ERRMSG_MAX 2048

#if defined(__GNUC__)
#define VL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define VL_MUST_CHECK __attribute__((warn_unused_result))
#else
#define VL_PRINTF(a, b)
#define VL_MUST_CHECK
#endif

/* Set the last error to `code` and a formatted message; returns `code`. */
int vl_error_set(int code, const char *fmt, ...) VL_PRINTF(2, 3);
int vl_error_setv(int code, const char *fmt, va_list ap) VL_PRINTF(2, 0);

/*
 * Prefix the current message with "<fmt>: " (adding context on the way up);
 * returns `code` unchanged so callers can write `return vl_error_wrap(rc, ...)`.
 */
int vl_error_wrap(int code, const char *fmt, ...) VL_PRINTF(2, 3);

/* Record a libgit2 failure: `rc` is libgit2's return code, `what` says what we
 * were doing. Guards against git_error_last() being NULL (libgit2 1.5.1).
 * Maps GIT_ENOTFOUND -> VL_ENOTFOUND, GIT_EEXISTS -> VL_EEXISTS,
 * GIT_EMODIFIED/GIT_ELOCKED -> VL_ECONFLICT, else VL_ERROR. Returns the code. */
int vl_error_git(int rc, const char *what);

/* The last message (never NULL; "" when none). Borrowed: valid until the next
 * vl_error_* call on this thread. */
const char *vl_error_last(void);
/* The code passed with the last message (0 when none). */
int vl_error_code(void);
void vl_error_clear(void);
/* A short name for a code: "EINVALID" etc. */
const char *vl_error_name(int code);

#endif
