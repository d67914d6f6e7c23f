/*
 * vl_floor - the floor of any program that uses this system's libgit2: load
 * it (the dynamic linker resolves its libraries), git_libgit2_init(), and
 * git_libgit2_shutdown(); nothing else. Debian's libgit2 1.5 parses the
 * system CA bundle through mbedTLS inside git_libgit2_init, with no switch
 * to skip it, so no vledger command can start faster than this. The county
 * bench (bench/county.sh, row `show`) times it in the same run as
 * `vledger show` and `git cat-file -p` (bench/README.md).
 */
#include <git2.h>
#include <stdio.h>

int main(void)
{
	if (git_libgit2_init() < 0) {
		fprintf(stderr, "vl_floor: git_libgit2_init failed\n");
		return 1;
	}
	git_libgit2_shutdown();
	return 0;
}
