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

/* Pick the language from the environment and bind the catalog directory
 * (the build tree's, then the installed one). Call once, early in main. */
void vl_i18n_init(void);

/* The translation of `msgid` in the current language, or `msgid` itself.
 * Borrowed: the catalog's string or the argument. */
const char *vl_tr(const char *msgid);

/* Switch the process's message language: "zh" (any zh_*), "en", or NULL for
 * what the environment says. Not thread-safe: callers serialise (the UI
 * handles one request at a time). Returns the language now in use ("zh"/"en"). */
const char *vl_i18n_set_lang(const char *lang);

/* The language now in use: "zh" or "en". */
const char *vl_i18n_lang(void);

#define _(s) vl_tr(s)
#define N_(s) (s)

#endif
