/*
 * i18n.h - message catalogs: Chinese under a Chinese locale, English otherwise.
 *
 * vledger's messages are written in English in the source and translated
 * through gettext catalogs (po/, text domain "vledger"). The language follows
 * the usual environment (LANGUAGE, LC_ALL, LC_MESSAGES, LANG); the web UI picks
 * one per request with vl_i18n_set_lang().
 *
 * _("...") translates a message now; N_("...") only marks a string for
 * extraction (tables of labels translated where they are printed).
 */
#ifndef VL_I18N_H
#define VL_I18N_H

#define VL_TEXT_DOMAIN "vledger"

/* Pick the language from the environment and bind the catalog directory:
 * $VLEDGER_LOCALEDIR, the build tree's (a program of the build tree),
 * ../share/locale beside the binary, the configured install dir. Call once,
 * early in main (again: no effect). Without it every message is English.
 * A Chinese environment works without a zh_CN locale installed: see i18n.c;
 * the process's LANGUAGE is set to the language chosen. */
void vl_i18n_init(void);

/* The translation of `msgid` in the current language, or `msgid` itself.
 * Borrowed: the catalog's string or the argument. format_arg: the compiler
 * checks printf(_("%s ..."), x) against the msgid; msgfmt --check-format
 * checks that every translation has the msgid's conversions. */
#if defined(__GNUC__)
const char *vl_tr(const char *msgid) __attribute__((format_arg(1)));
#else
const char *vl_tr(const char *msgid);
#endif

/* Switch the process's message language: "zh" (any zh_*), "en", or NULL for
 * what the environment says. Not thread-safe: callers serialise (the UI
 * handles one request at a time). Returns the language now in use ("zh"/"en"). */
const char *vl_i18n_set_lang(const char *lang);

/* The language now in use: "zh" or "en". */
const char *vl_i18n_lang(void);

#define _(s) vl_tr(s)
#define N_(s) (s)

#endif
