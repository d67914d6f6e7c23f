/*
 * replay.c - runs a libFuzzer target over files without libFuzzer, so that
 * ctest (gcc, sanitizers) replays the seed corpus and every crash input that
 * was ever fixed. Usage: fuzz_X_replay FILE|DIR...
 *
 * Seeds may also carry an expectation in their name, for targets that
 * define vl_fuzz_accepts (1 when the target's parser accepts the input):
 * reject-* must be refused, accept-* must be accepted. A named seed given
 * to a target without vl_fuzz_accepts is an error, so that an expectation
 * is never silently ignored.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Weak: defined only by the targets whose seeds carry expectations. */
int vl_fuzz_accepts(const uint8_t *data, size_t size) __attribute__((weak));

/* 0 when the seed meets the expectation its name carries (if any). */
static int check_expectation(const char *path, const uint8_t *data, size_t size)
{
	const char *base = strrchr(path, '/');
	int want;

	base = base ? base + 1 : path;
	if (!strncmp(base, "reject-", 7))
		want = 0;
	else if (!strncmp(base, "accept-", 7))
		want = 1;
	else
		return 0;
	if (!vl_fuzz_accepts) {
		fprintf(stderr, "%s: named for an expectation, but this target defines no vl_fuzz_accepts\n", path);
		return 1;
	}
	if (vl_fuzz_accepts(data, size) != want) {
		fprintf(stderr, "%s: %s, but its name says it must be %s\n", path, want ? "refused" : "accepted",
				want ? "accepted" : "refused");
		return 1;
	}
	return 0;
}

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long len;
	int rc;

	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		return 1;
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(len > 0 ? (size_t)len : 1);
	if (!buf || (len > 0 && fread(buf, 1, (size_t)len, f) != (size_t)len)) {
		fclose(f);
		free(buf);
		fprintf(stderr, "cannot read %s\n", path);
		return 1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	rc = check_expectation(path, buf, (size_t)len);
	free(buf);
	return rc;
}

int main(int argc, char **argv)
{
	int i, bad = 0, n = 0;

	for (i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *de;
			while (d && (de = readdir(d))) {
				char p[4096];
				if (de->d_name[0] == '.')
					continue;
				snprintf(p, sizeof(p), "%s/%s", argv[i], de->d_name);
				bad |= run_file(p);
				n++;
			}
			if (d)
				closedir(d);
		} else {
			bad |= run_file(argv[i]);
			n++;
		}
	}
	printf("replayed %d inputs\n", n);
	return bad || n == 0;
}
