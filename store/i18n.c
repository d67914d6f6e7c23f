/*
 * i18n.c - gettext behind store/i18n.h.
 *
 * The catalogs are built from po/ by CMake; until a catalog is found every
 * message is its English msgid, so nothing depends on a catalog being there.
 */
#include "store/i18n.h"

#include <libintl.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#ifndef VL_LOCALEDIR
#define VL_LOCALEDIR "/usr/local/share/locale"
#endif

static const char *lang_now = "en";

static const char *env_lang(void)
{
	static const char *vars[] = { "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG" };
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);

		if (v && *v)
			return !strncmp(v, "zh", 2) ? "zh" : "en";
	}
	return "en";
}

void vl_i18n_init(void)
{
	const char *dir = getenv("VLEDGER_LOCALEDIR");

	setlocale(LC_MESSAGES, "");
	bindtextdomain(VL_TEXT_DOMAIN, dir && *dir ? dir : VL_LOCALEDIR);
	bind_textdomain_codeset(VL_TEXT_DOMAIN, "UTF-8");
	lang_now = env_lang();
}

const char *vl_tr(const char *msgid)
{
	if (!msgid || !*msgid)
		return msgid;
	return dgettext(VL_TEXT_DOMAIN, msgid);
}

const char *vl_i18n_set_lang(const char *lang)
{
	lang_now = lang ? (!strncmp(lang, "zh", 2) ? "zh" : "en") : env_lang();
	return lang_now;
}

const char *vl_i18n_lang(void)
{
	return lang_now;
}
