/*
 * i18n.c - gettext behind store/i18n.h.
 *
 * The catalogs are built from po/ by CMake (<build>/locale/LANG/LC_MESSAGES/
 * vledger.mo) and installed below CMAKE_INSTALL_FULL_LOCALEDIR; until a
 * catalog is found every message is its English msgid, so nothing depends on
 * a catalog being there.
 *
 * The language: Chinese when the environment asks for it (LANGUAGE, LC_ALL,
 * LC_MESSAGES or LANG starting with "zh", by GNU's precedence), English
 * otherwise. glibc's gettext translates nothing while LC_MESSAGES is "C",
 * and many machines (Debian containers, this project's CI) have only the C
 * and C.UTF-8 locales: setlocale(LC_MESSAGES, "zh_CN.UTF-8") fails there. So
 * Chinese is switched on the way glibc allows without that locale:
 * LC_MESSAGES = C.UTF-8 (which, unlike "C", lets LANGUAGE count) and
 * LANGUAGE = zh_CN. A real zh_* locale is used when it exists. The process's
 * LANGUAGE is therefore changed; children (git, ssh-keygen) see the same
 * language the user asked for.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "store/i18n.h"

#include <libintl.h>
#include <limits.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef VL_LOCALEDIR
#define VL_LOCALEDIR "/usr/local/share/locale"
#endif

static const char *lang_now = "en";
static int inited;
/* LANGUAGE as the process started, for vl_i18n_set_lang(NULL). */
static char *env_language;
static int env_language_set;

static int is_c_locale(const char *v)
{
	return !strcmp(v, "C") || !strcmp(v, "POSIX");
}

/* Which locale variable decides LC_MESSAGES: LC_ALL, LC_MESSAGES, LANG; "" when none. */
static const char *env_messages_locale(void)
{
	static const char *vars[] = { "LC_ALL", "LC_MESSAGES", "LANG" };
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);

		if (v && *v)
			return v;
	}
	return "";
}

/*
 * The language the environment asks for, by GNU gettext's rules: LANGUAGE
 * (a colon-separated list; its first entry we have, zh or en/C) unless the
 * message locale is C/POSIX, then the message locale itself.
 */
static const char *env_lang(void)
{
	const char *loc = env_messages_locale();
	/* LANGUAGE as the process started: apply() writes the variable itself. */
	const char *l = env_language_set ? env_language : NULL;

	if (l && *l && !is_c_locale(loc)) {
		while (*l) {
			size_t n = strcspn(l, ":");

			if (n >= 2 && !strncmp(l, "zh", 2))
				return "zh";
			if ((n >= 2 && !strncmp(l, "en", 2)) || (n == 1 && *l == 'C'))
				return "en";
			l += n;
			if (*l == ':')
				l++;
		}
	}
	return !strncmp(loc, "zh", 2) ? "zh" : "en";
}

/* 1 if path is a directory prefix of (or equal to) dir. */
static int dir_within(const char *dir, const char *path)
{
	size_t n = strlen(path);

	return n && !strncmp(dir, path, n) && (dir[n] == '/' || dir[n] == '\0');
}

static int has_catalog(const char *localedir)
{
	char p[PATH_MAX];
	struct stat st;
	size_t n = strlen(localedir);
	static const char tail[] = "/zh_CN/LC_MESSAGES/" VL_TEXT_DOMAIN ".mo";

	if (n + sizeof(tail) > sizeof(p))
		return 0;
	memcpy(p, localedir, n);
	memcpy(p + n, tail, sizeof(tail));
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/*
 * Where the catalogs are: $VLEDGER_LOCALEDIR; the build tree's when this
 * program is a file of the build tree (vledger, the tests); ../share/locale
 * beside the binary when it holds our catalog (an install moved to another
 * prefix, `cmake --install --prefix`); else the configured install dir.
 * Written to buf (PATH_MAX); returns buf or a constant.
 */
static const char *locale_dir(char *buf)
{
	const char *env = getenv("VLEDGER_LOCALEDIR");
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return VL_LOCALEDIR;
	exe[n] = '\0';
	if (!(slash = strrchr(exe, '/')))
		return VL_LOCALEDIR;
	*slash = '\0';
#ifdef VL_BUILD_DIR
	{
		char real_build[PATH_MAX];

		if (realpath(VL_BUILD_DIR, real_build) && dir_within(exe, real_build))
			return VL_BUILD_LOCALEDIR;
	}
#endif
	if ((size_t)(slash - exe) + sizeof("/../share/locale") <= PATH_MAX) {
		memcpy(buf, exe, (size_t)(slash - exe));
		memcpy(buf + (slash - exe), "/../share/locale", sizeof("/../share/locale"));
		if (has_catalog(buf))
			return buf;
	}
	return VL_LOCALEDIR;
}

/*
 * Point gettext at `lang`. setlocale() also bumps glibc's catalog counter,
 * so translations cached for the other language are looked up again.
 */
static void apply(const char *lang)
{
	if (!strcmp(lang, "zh")) {
		const char *loc = env_messages_locale();

		if (!(strncmp(loc, "zh", 2) == 0 && setlocale(LC_MESSAGES, loc)) &&
				!setlocale(LC_MESSAGES, "zh_CN.UTF-8") &&
				!setlocale(LC_MESSAGES, "C.UTF-8"))
			setlocale(LC_MESSAGES, "");
		setenv("LANGUAGE", "zh_CN", 1);
	} else {
		/* The msgids are the English. LANGUAGE as the user gave it when it
		 * names no Chinese (children such as git keep their language), else
		 * "en" so that no zh catalog is looked up. */
		if (!setlocale(LC_MESSAGES, "C.UTF-8"))
			setlocale(LC_MESSAGES, "C");
		if (env_language_set && !strstr(env_language, "zh"))
			setenv("LANGUAGE", env_language, 1);
		else if (!env_language_set)
			unsetenv("LANGUAGE");
		else
			setenv("LANGUAGE", "en", 1);
	}
	/* Done again for the LANGUAGE change alone (the locale may not have changed). */
	textdomain(textdomain(NULL));
	lang_now = lang;
}

void vl_i18n_init(void)
{
	char buf[PATH_MAX];
	const char *l;

	if (inited)
		return;
	inited = 1;
	if ((l = getenv("LANGUAGE"))) {
		env_language = strdup(l);
		env_language_set = env_language != NULL;
	}
	bindtextdomain(VL_TEXT_DOMAIN, locale_dir(buf));
	bind_textdomain_codeset(VL_TEXT_DOMAIN, "UTF-8");
	apply(env_lang());
}

const char *vl_tr(const char *msgid)
{
	if (!msgid || !*msgid)
		return msgid;
	return dgettext(VL_TEXT_DOMAIN, msgid);
}

const char *vl_i18n_set_lang(const char *lang)
{
	const char *want = lang ? (!strncmp(lang, "zh", 2) ? "zh" : "en") : env_lang();

	if (!inited)
		vl_i18n_init();
	apply(want);
	return lang_now;
}

const char *vl_i18n_lang(void)
{
	return lang_now;
}
