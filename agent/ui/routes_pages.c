/*
 * routes_pages.c - the routes of the forms, conflicts, sync and aggregate
 * pages (helper "uipages" owns this file and the pages it lists).
 */
#include <stddef.h>

#include "agent/ui/ui.h"

const vl_ui_route vl_ui_routes_pages[] = {
	{ NULL, NULL, NULL }
};
