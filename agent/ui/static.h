/*
 * static.h - the UI's style sheet and script, compiled in (static.c) and
 * served as /ui.css and /ui.js: nothing is fetched from elsewhere.
 */
#ifndef VL_UI_STATIC_H
#define VL_UI_STATIC_H

extern const char vl_ui_css[];
extern const char vl_ui_js[];

#endif
