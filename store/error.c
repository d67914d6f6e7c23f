/*
 * error.c - the thread-local last error (see error.h).
 *
 * Format strings are translated here (store/i18n.h), so every message of
 * every vl_error_set/vl_error_setv/vl_error_wrap call is in the user's
 * language without its call site doing anything; xgettext extracts them by
 * those names (scripts/update-po.sh).
 */
#include "store/error.h"
#include "store/i18n.h"

#include <git2.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_msg[VL_ERRMSG_MAX];
static _Thread_local int last_code;

int vl_error_setv(int code, const char *fmt, va_list ap)
{
	vsnprintf(last_msg, sizeof(last_msg), vl_tr(fmt), ap);
	last_code = code;
	return code;
}

int vl_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vl_error_setv(code, fmt, ap);
	va_end(ap);
	return code;
}

int vl_error_wrap(int code, const char *fmt, ...)
{
	char prefix[VL_ERRMSG_MAX];
	char old[VL_ERRMSG_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), vl_tr(fmt), ap);
	va_end(ap);
	memcpy(old, last_msg, sizeof(old));
	/* A message cut at the slot's size is still useful; the length is
	 * looked at only to tell the compiler truncation is expected. */
	if (old[0])
		/* TRANSLATORS: context added to an error on its way up: "what we were
		 * doing: what went wrong" (Chinese: a full-width colon). */
		n = snprintf(last_msg, sizeof(last_msg), _("%s: %s"), prefix, old);
	else
		n = snprintf(last_msg, sizeof(last_msg), "%s", prefix);
	if (n >= (int)sizeof(last_msg))
		last_msg[sizeof(last_msg) - 1] = '\0';
	last_code = code;
	return code;
}

int vl_error_git(int rc, const char *what)
{
	const git_error *e = git_error_last();
	int code;

	switch (rc) {
	case GIT_ENOTFOUND: code = VL_ENOTFOUND; break;
	case GIT_EEXISTS: code = VL_EEXISTS; break;
	case GIT_EMODIFIED:
	case GIT_ELOCKED: code = VL_ECONFLICT; break;
	default: code = VL_ERROR; break;
	}
	/* Out of memory (ours or libgit2's) stays itself, so that no caller
	 * takes it for a fault of the data. */
	if (rc < 0 && e && e->klass == GIT_ERROR_NOMEMORY)
		code = VL_ENOMEM;
	/* `what` is translated as vl_error_set's format is (xgettext keyword
	 * vl_error_git:2); libgit2's own message stays English. */
	return vl_error_set(code, "%s: %s", vl_tr(what),
			e && e->message ? e->message : _("libgit2 gave no message"));
}

const char *vl_error_last(void) { return last_msg; }
int vl_error_code(void) { return last_code; }

void vl_error_clear(void)
{
	last_msg[0] = '\0';
	last_code = 0;
}

const char *vl_error_name(int code)
{
	switch (code) {
	case VL_OK: return "OK";
	case VL_ERROR: return "ERROR";
	case VL_ENOTFOUND: return "ENOTFOUND";
	case VL_EEXISTS: return "EEXISTS";
	case VL_EINVALID: return "EINVALID";
	case VL_EBADSIG: return "EBADSIG";
	case VL_EDENIED: return "EDENIED";
	case VL_ECONFLICT: return "ECONFLICT";
	case VL_ETOOBIG: return "ETOOBIG";
	case VL_EPROTO: return "EPROTO";
	case VL_ENOMEM: return "ENOMEM";
	default: return "E?";
	}
}
