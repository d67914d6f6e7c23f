/*
 * fault.c - the fault-injection layer of vledger-fault (cmake -DVL_FAULT=ON).
 *
 * vledger-fault is vledger linked with libgit2 and libyaml statically and with
 * -Wl,--wrap for malloc, calloc, realloc, strdup, strndup, write and fsync, so
 * every call of those from our code, libgit2 and libyaml lands here first
 * (calls made inside libc, libsodium and libqrencode are not seen). The n-th
 * call of a kind can be made to fail, as SQLite's malloc and I/O fault
 * sweeps do; tests/fault/sweep.sh drives it. Environment, read once at start:
 *
 *   VL_FAULT_MALLOC=N   the N-th allocation (1-based) returns NULL, ENOMEM
 *   VL_FAULT_IO=N       the N-th write or fsync returns -1 (ENOSPC / EIO)
 *   VL_FAULT_PERSIST=1  every later call of that kind fails too
 *   VL_FAULT_REPORT=F   at exit, write "malloc CALLS io CALLS injected K" to F
 *   VL_FAULT_GIT=1      count libgit2's own allocations too (see below)
 *   VL_FAULT_SITES=F    at exit, write "m N" / "i N" to F for the first call N
 *                       of each distinct call site (the three callers above
 *                       the wrapper), so a sweep can fail each site once
 *
 * libgit2 1.5 does not survive its own failed allocations (it dereferences
 * what it did not make in repository_alloc, the config parser and
 * git_error_vset, and leaks on many error paths): not ours to fix. So by
 * default libgit2 allocates through an uncounted allocator and only the
 * allocations of vledger's own code and libyaml fail; libgit2's writes and
 * fsyncs do fail, and libgit2 must report them. VL_FAULT_GIT=1 counts
 * libgit2's allocations too, to explore.
 *
 * With ASan, __real_malloc is the sanitizer's malloc (the wrap applies to the
 * references in our link only), so leak reports stay exact.
 */
#include <errno.h>
#include <execinfo.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <git2.h>
#include <git2/sys/alloc.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
ssize_t __real_write(int fd, const void *p, size_t n);
int __real_fsync(int fd);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
ssize_t __wrap_write(int fd, const void *p, size_t n);
int __wrap_fsync(int fd);

enum { KIND_MALLOC, KIND_IO, NKINDS };

static long fault_at[NKINDS];    /* 0: never */
static long calls[NKINDS];
static long injected;
static int armed, persist, tracing;
static const char *report_path, *sites_path;

/* Distinct call sites, first call number of each: a fixed table, since
 * this code runs inside malloc and may not allocate. */
#define NSITES 65536
static struct site { uintptr_t key; long first; int kind; } sites[NSITES];
static long nsites;

/* libgit2's allocator when its allocations are not to fail (git_allocator
 * of git2/sys/alloc.h): straight to the real allocator, uncounted. */
static void *git_malloc(size_t n, const char *file, int line)
{
	(void)file, (void)line;
	return __real_malloc(n);
}

static void *git_calloc(size_t k, size_t n, const char *file, int line)
{
	(void)file, (void)line;
	return __real_calloc(k, n);
}

static char *git_strdup(const char *s, const char *file, int line)
{
	(void)file, (void)line;
	return __real_strdup(s);
}

static char *git_strndup(const char *s, size_t n, const char *file, int line)
{
	(void)file, (void)line;
	return __real_strndup(s, n);
}

static char *git_substrdup(const char *s, size_t n, const char *file, int line)
{
	char *p;

	(void)file, (void)line;
	if (n == SIZE_MAX || !(p = __real_malloc(n + 1)))
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static void *git_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file, (void)line;
	return __real_realloc(p, n);
}

static void *git_reallocarray(void *p, size_t k, size_t n, const char *file, int line)
{
	(void)file, (void)line;
	if (n && k > SIZE_MAX / n)
		return NULL;
	return __real_realloc(p, k * n);
}

static void *git_mallocarray(size_t k, size_t n, const char *file, int line)
{
	return git_reallocarray(NULL, k, n, file, line);
}

static void git_free(void *p)
{
	free(p);
}

static git_allocator uncounted = {
	git_malloc, git_calloc, git_strdup, git_strndup, git_substrdup,
	git_realloc, git_reallocarray, git_mallocarray, git_free,
};

static long env_long(const char *name)
{
	const char *s = getenv(name);
	char *end = NULL;
	long v;

	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	return (errno || *end || v < 0) ? 0 : v;
}

__attribute__((constructor)) static void fault_init(void)
{
	fault_at[KIND_MALLOC] = env_long("VL_FAULT_MALLOC");
	fault_at[KIND_IO] = env_long("VL_FAULT_IO");
	persist = env_long("VL_FAULT_PERSIST") != 0;
	report_path = getenv("VL_FAULT_REPORT");
	sites_path = getenv("VL_FAULT_SITES");
	tracing = sites_path && *sites_path;
	/* libgit2 1.5's global init does not survive a failed allocation
	 * (clear_cache and git_error_vset dereference what was not made): not
	 * ours to fix, so it runs here, before counting starts. vledger's own
	 * git_libgit2_init then only takes a reference. */
	if (!env_long("VL_FAULT_GIT"))
		git_libgit2_opts(GIT_OPT_SET_ALLOCATOR, &uncounted);
	git_libgit2_init();
	armed = 1;
}

/* Inlined into the wrapper at every optimisation level, so frame 0 of the
 * backtrace is the wrapper and frames 1-3 are its callers. */
__attribute__((always_inline)) static inline void note_site(int kind, long n)
{
	void *frames[4];
	uintptr_t key;
	size_t i;
	int got;

	/* glibc's backtrace allocates inside libc only (not through here). */
	got = backtrace(frames, 4);
	key = (uintptr_t)kind * 0x9e3779b97f4a7c15u;
	for (i = 1; i < (size_t)got; i++)
		key = (key ^ (uintptr_t)frames[i]) * 0x100000001b3u;
	if (!key)
		key = 1;
	for (i = key % NSITES; sites[i].key; i = (i + 1) % NSITES)
		if (sites[i].key == key)
			return;
	if (nsites >= NSITES - 1)
		return;
	sites[i].key = key;
	sites[i].first = n;
	sites[i].kind = kind;
	nsites++;
}

/* Count one call of KIND; nonzero if it is to fail. */
__attribute__((always_inline)) static inline int should_fail(int kind)
{
	long n;

	if (!armed)
		return 0;
	n = __atomic_add_fetch(&calls[kind], 1, __ATOMIC_RELAXED);

	if (tracing)
		note_site(kind, n);
	if (fault_at[kind] && (n == fault_at[kind] || (persist && n > fault_at[kind]))) {
		__atomic_add_fetch(&injected, 1, __ATOMIC_RELAXED);
		return 1;
	}
	return 0;
}

void *__wrap_malloc(size_t n)
{
	if (should_fail(KIND_MALLOC)) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_malloc(n);
}

void *__wrap_calloc(size_t k, size_t n)
{
	if (should_fail(KIND_MALLOC)) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_calloc(k, n);
}

void *__wrap_realloc(void *p, size_t n)
{
	if (should_fail(KIND_MALLOC)) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	if (should_fail(KIND_MALLOC)) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	if (should_fail(KIND_MALLOC)) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_strndup(s, n);
}

ssize_t __wrap_write(int fd, const void *p, size_t n)
{
	if (should_fail(KIND_IO)) {
		errno = ENOSPC;
		return -1;
	}
	return __real_write(fd, p, n);
}

int __wrap_fsync(int fd)
{
	if (should_fail(KIND_IO)) {
		errno = EIO;
		return -1;
	}
	return __real_fsync(fd);
}

__attribute__((destructor)) static void fault_report(void)
{
	FILE *f;
	size_t i;

	if (report_path && *report_path && (f = fopen(report_path, "w"))) {
		fprintf(f, "malloc %ld io %ld injected %ld\n", calls[KIND_MALLOC], calls[KIND_IO], injected);
		fclose(f);
	}
	if (tracing && (f = fopen(sites_path, "w"))) {
		for (i = 0; i < NSITES; i++)
			if (sites[i].key)
				fprintf(f, "%c %ld\n", sites[i].kind == KIND_MALLOC ? 'm' : 'i', sites[i].first);
		fclose(f);
	}
}
