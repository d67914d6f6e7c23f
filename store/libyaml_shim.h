/*
 * libyaml_shim.h - reach libyaml's <yaml.h> from inside store/.
 *
 * store/ is on the -I path (the vlstore target's public include directory),
 * so there `#include <yaml.h>` finds vledger's own store/yaml.h first and
 * libyaml's header is shadowed. This header is included as
 * <libyaml_shim.h> (so that it is itself found through the -I path) and
 * continues the search after store/ with #include_next, a GCC/Clang
 * extension. Only yaml.c includes it. Dropping it needs either a rename of
 * store/yaml.h or store/ on the quote path only (-iquote).
 */
#ifndef VL_LIBYAML_SHIM_H
#define VL_LIBYAML_SHIM_H
#include_next <yaml.h>
#endif
