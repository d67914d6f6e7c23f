/*
 * static.c - /ui.css and /ui.js. The layout fits a 1024x600 screen; system
 * fonts only (the CJK one the system has). The script only enhances: every
 * page works without it (the CSP allows only this file).
 */
#include "agent/ui/static.h"

const char vl_ui_css[] =
	"*{box-sizing:border-box}\n"
	"body{margin:0;font:15px/1.45 \"Noto Sans CJK SC\",\"WenQuanYi Micro Hei\",\"Microsoft YaHei\",sans-serif;"
	"color:#1d1d1f;background:#f6f7f9}\n"
	"nav.top{background:#24476b;padding:6px 12px;display:flex;gap:18px;flex-wrap:wrap}\n"
	"nav.top a{color:#fff;text-decoration:none;font-weight:600}\n"
	"nav.top a:hover{text-decoration:underline}\n"
	"main{padding:8px 14px;max-width:1200px}\n"
	"h1{font-size:20px;margin:6px 0 10px}\n"
	"h2{font-size:17px;margin:14px 0 6px}\n"
	"table{border-collapse:collapse;background:#fff;width:100%}\n"
	"th,td{border:1px solid #d5d9e0;padding:3px 7px;text-align:left;vertical-align:top}\n"
	"th{background:#e9edf3;font-weight:600}\n"
	"tr:nth-child(even) td{background:#fafbfc}\n"
	"td.num{text-align:right}\n"
	"a{color:#1a5fb4}\n"
	"form.inline{display:inline;margin:0}\n"
	"form.filter{margin:6px 0 8px;display:flex;gap:6px;flex-wrap:wrap;align-items:center}\n"
	"input[type=text],input[type=password],input[type=date],select,textarea{font:inherit;padding:3px 5px;"
	"border:1px solid #9aa3af;border-radius:3px}\n"
	"input.where{min-width:340px}\n"
	"button{font:inherit;padding:3px 10px;border:1px solid #24476b;border-radius:3px;background:#fff;"
	"color:#24476b;cursor:pointer}\n"
	"button.primary{background:#24476b;color:#fff}\n"
	".error{color:#a51d2d;font-weight:600}\n"
	".field-error{color:#a51d2d;font-size:13px;display:block}\n"
	".ok{color:#26a269;font-weight:600}\n"
	".muted{color:#5e6673;font-size:13px}\n"
	".masked{font-family:monospace;color:#5e6673}\n"
	".pager{margin:8px 0;display:flex;gap:12px;align-items:center}\n"
	".rule{font-family:monospace;font-size:13px}\n"
	"@media (max-width:700px){input.where{min-width:0;width:100%}}\n";

const char vl_ui_js[] =
	"'use strict';\n"
	"/* Only comfort: a confirm on buttons that say data-confirm. */\n"
	"document.addEventListener('click', function (e) {\n"
	"  var t = e.target;\n"
	"  if (t && t.getAttribute && t.getAttribute('data-confirm') &&\n"
	"      !window.confirm(t.getAttribute('data-confirm')))\n"
	"    e.preventDefault();\n"
	"});\n";
