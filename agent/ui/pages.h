/*
 * pages.h - the handlers of the forms, conflicts, sync, aggregate and
 * report pages (helper "uipages"), listed in routes_pages.c. Each is a
 * vl_ui_handler (ui.h): it runs on the server's one request thread; POST
 * handlers run only after the server checked the session and CSRF token.
 */
#ifndef VL_UI_PAGES_H
#define VL_UI_PAGES_H

#include "agent/ui/ui.h"

/* pages_forms.c: /ledger/NAME/new, /record/ID/edit */
int vl_uip_new(vl_ui_req *q, vl_ui_resp *r);
int vl_uip_new_post(vl_ui_req *q, vl_ui_resp *r);
int vl_uip_edit(vl_ui_req *q, vl_ui_resp *r);
int vl_uip_edit_post(vl_ui_req *q, vl_ui_resp *r);

/* pages_more.c: /conflicts, /record/ID/resolve, /sync (and its posts),
 * /aggregate, /reports */
int vl_uip_conflicts(vl_ui_req *q, vl_ui_resp *r);
int vl_uip_resolve_post(vl_ui_req *q, vl_ui_resp *r);
int vl_uip_sync(vl_ui_req *q, vl_ui_resp *r);
int vl_uip_sync_post(vl_ui_req *q, vl_ui_resp *r);
int vl_uip_bundle_out_post(vl_ui_req *q, vl_ui_resp *r);
int vl_uip_bundle_in_post(vl_ui_req *q, vl_ui_resp *r);
int vl_uip_aggregate(vl_ui_req *q, vl_ui_resp *r);
int vl_uip_reports(vl_ui_req *q, vl_ui_resp *r);

#endif
