/*
 * dynlib.h - libraries that only one command uses, opened when it runs.
 *
 * libmicrohttpd (the web UI, `vledger ui`) brings GnuTLS, p11-kit,
 * libcrypto and a dozen more libraries with it, and libqrencode is only
 * for the invitation's QR code: linked into vledger, the dynamic loader
 * maps and relocates all of them at the start of every command (about 7 M
 * instructions, as much as the rest of `vledger show` above libgit2's own
 * start). So the commands that need them open them here instead, by the
 * soname the build found (CMake: VL_SONAME_MHD, VL_SONAME_QRENCODE), and
 * call them through pointers whose types the caller checks against the
 * library's header at compile time (VL_DYNSYM_CHECK).
 */
#ifndef VL_DYNLIB_H
#define VL_DYNLIB_H

#include <stddef.h>

#include "store/error.h"

/* One function to resolve: its name and the pointer variable to set
 * (the address of a function pointer, of whatever function type). */
typedef struct {
	const char *name;
	void *slot;
} vl_dynsym;

/*
 * Open the library `soname` (once: the handle is kept for the process)
 * and set every syms[i].slot to its function. `package` names what to
 * install, for the message. 0; VL_ENOTFOUND when the library or one of the
 * functions is not there (no slot is set then). Not thread safe: call it
 * from the thread that starts the work, before any other thread uses the
 * pointers.
 */
int vl_dynlib_open(const char *soname, const char *package, const vl_dynsym *syms, size_t n) VL_MUST_CHECK;

/* Compile-time check that pointer p has the type of a pointer to function
 * f as the header declares it: a comparison of distinct pointer types is
 * an error under -Werror. Unevaluated: it makes no reference to f. */
#define VL_DYNSYM_CHECK(f, p) ((void)sizeof(&(f) == (p)))

#endif
