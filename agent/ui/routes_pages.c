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
	{ "GET", "/conflicts", vl_uip_conflicts },
	{ "POST", "/record/*/resolve", vl_uip_resolve_post },
	{ "GET", "/sync", vl_uip_sync },
	{ "POST", "/sync", vl_uip_sync_post },
	{ "POST", "/sync/bundle-out", vl_uip_bundle_out_post },
	{ "POST", "/sync/bundle-in", vl_uip_bundle_in_post },
	{ "GET", "/aggregate", vl_uip_aggregate },
	{ "GET", "/reports", vl_uip_reports },
	{ NULL, NULL, NULL }
};
