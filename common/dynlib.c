/*
 * Owns run-time loading of the libraries only some processes need (common/dynlib.h).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "dynlib.h"

struct loaded {
	const char	*soname;
	int		 state;		/* 0 not tried, 1 loaded, -1 failed */
	char		 err[300];
};

static struct loaded	tab[8];

int
dynlib_load(const char *soname, const struct dynlib_sym *syms, size_t nsyms, char *err,
    size_t errlen)
{
	struct loaded *l = NULL;
	const char *e;
	void *h;
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].soname == NULL || strcmp(tab[i].soname, soname) == 0) {
			l = &tab[i];
			break;
		}
	if (l != NULL && l->state != 0) {
		if (l->state < 0 && err != NULL)
			snprintf(err, errlen, "%s", l->err);
		return l->state > 0 ? 0 : -1;
	}
	if (l == NULL) {
		if (err != NULL)
			snprintf(err, errlen, "%s: too many libraries loaded at run time", soname);
		return -1;
	}
	l->soname = soname;
	l->state = -1;
	if ((h = dlopen(soname, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		e = dlerror();
		snprintf(l->err, sizeof(l->err), "cannot load %s: %s (is its Debian package "
		    "installed?)", soname, e != NULL ? e : "dlopen failed");
		goto fail;
	}
	for (i = 0; i < nsyms; i++) {
		dlerror();
		*syms[i].ptr = dlsym(h, syms[i].name);
		if (*syms[i].ptr == NULL) {
			e = dlerror();
			snprintf(l->err, sizeof(l->err), "%s has no %s: %s", soname,
			    syms[i].name, e != NULL ? e : "a NULL symbol");
			dlclose(h);
			goto fail;
		}
	}
	l->state = 1;
	return 0;
fail:
	for (i = 0; i < nsyms; i++)
		*syms[i].ptr = NULL;
	if (err != NULL)
		snprintf(err, errlen, "%s", l->err);
	return -1;
}
