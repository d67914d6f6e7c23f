/* dynlib.c - libraries opened when a command needs them (see dynlib.h). */
#include "agent/node/dynlib.h"

#include <dlfcn.h>
#include <string.h>

int vl_dynlib_open(const char *soname, const char *package, const vl_dynsym *syms, size_t n)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL), *f = NULL;
	size_t i;

	if (!h)
		return vl_error_set(VL_ENOTFOUND, "cannot load '%s'; install %s", soname, package);
	for (i = 0; i < n; i++)
		if (!(f = dlsym(h, syms[i].name)))
			return vl_error_set(VL_ENOTFOUND, "'%s' lacks %s; install %s", soname, syms[i].name, package);
	/* POSIX: a function's address converts through void *. The handle
	 * stays open: the pointers live as long as the process. */
	for (i = 0; i < n; i++) {
		f = dlsym(h, syms[i].name);
		memcpy(syms[i].slot, &f, sizeof(f));
	}
	return 0;
}
