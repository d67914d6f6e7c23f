/*
 * routes_pages.c - the routes of the forms, conflicts, sync and aggregate
 * pages (helper "uipages" owns this file and the pages it lists; the
 * handlers: pages.h).
 */
#include <stddef.h>

#include "agent/ui/pages.h"
#include "agent/ui/ui.h"

const vl_ui_route vl_ui_routes_pages[] = {
	{ "GET", "/ledger/*/new", vl_uip_new },
	{ "POST", "/ledger/*/new", vl_uip_new_post },
	{ "GET", "/record/*/edit", vl_uip_edit },
	{ "POST", "/record/*/edit", vl_uip_edit_post },
	{ NULL, NULL, NULL }
};
