/*
 * Loading a Debian library at run time (dlopen), in the one process and at the moment that
 * needs it: libcurl for the first HTTP request (common/http.c), libxgboost for the first
 * xgboost model (trainer/xgb.c), cairo and fontconfig for a backtest report
 * (trainer/report.c).  A process that never needs one never maps it (bench/README.md,
 * "Memory"); HACKING.md lists what each program loads so, debian/control depends on it.
 */
#ifndef AW_DYNLIB_H
#define AW_DYNLIB_H

#include <stddef.h>

struct dynlib_sym {
	const char	*name;
	void		**ptr;
};

/*
 * Opens soname (once per process: a later call answers from the first) and resolves every
 * symbol into *ptr.  Returns 0, or -1 with err naming the library and what failed (the
 * library missing, or a symbol it lacks).
 */
int	dynlib_load(const char *soname, const struct dynlib_sym *syms, size_t nsyms,
	    char *err, size_t errlen);

/*
 * Declares the pointers of a symbol list and its table: DYNLIB_TABLE(curl, CURL_SYMS)
 * gives static pointers dl_<name> (typed from the library's header) and
 * curl_dynsyms[]/curl_ndynsyms for dynlib_load().
 */
#define DYNLIB_PTR_(n)		static __typeof__(n) *dl_##n;
#define DYNLIB_ENTRY_(n)	{ #n, (void **)&dl_##n },
#define DYNLIB_TABLE(tag, LIST)						\
	LIST(DYNLIB_PTR_)						\
	static const struct dynlib_sym tag##_dynsyms[] = { LIST(DYNLIB_ENTRY_) }; \
	static const size_t tag##_ndynsyms = sizeof(tag##_dynsyms) / sizeof(tag##_dynsyms[0]);

#endif
