/*
 * hook.c - running a merge hook program (see merge.h and hooks/README.md).
 *
 * A hook is a local program, <home>/hooks/NAME, that the schema pins by
 * sha256. It is run only when it is a regular executable file (not a
 * symlink), not writable by group or others, and hashes to the pin. It runs
 * in its own process group with stdin and stderr on /dev/null, stdout on a
 * pipe read up to VL_HOOK_MAX_OUTPUT bytes, no inherited descriptors, a
 * fixed environment (PATH, LC_ALL=C, HOME and TMPDIR = its private temp
 * dir) and a deadline; past it, the whole group is killed. Whatever goes
 * wrong on the hook's side is "leave it to a person" (1), so a merge never
 * fails because of a hook; only local trouble (no fork, no memory, no temp
 * dir) is an error.
 *
 * The hash is taken before the exec: a hooks directory writable by someone
 * other than the node's owner would allow a swap in between, which is why
 * group/other-writable hooks are refused (the directory is the owner's).
 * Not thread safe against concurrent fork()s that inherit the pipe.
 */
#include "hooks/merge.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "store/yaml.h"

#define HOOK_MAX_FD 65536 /* descriptors closed in the child */

/* rm -r without following symlinks: the inputs and whatever the hook left
 * in its temp dir. Best effort; depth-capped. Names are taken relative to
 * their directory's descriptor, so nothing of ours is allocated: a failed
 * allocation must not leave the inputs (a record's data) behind. */
static void rmtree_at(int dfd, const char *name, int depth)
{
	struct stat st;
	struct dirent *e;
	DIR *d = NULL;
	int fd;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		(void)unlinkat(dfd, name, 0);
		return;
	}
	if (depth < 16 && (fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0 &&
			!(d = fdopendir(fd)))
		close(fd);
	if (d) {
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
				rmtree_at(dirfd(d), e->d_name, depth + 1);
		closedir(d);
	}
	(void)unlinkat(dfd, name, AT_REMOVEDIR);
}

static void rmtree(const char *path)
{
	rmtree_at(AT_FDCWD, path, 0);
}

/* A hook exit status or failure that leaves the field to a person. */
static int decline(const char *name, const char *why)
{
	(void)vl_error_set(VL_ECONFLICT, "hook '%.64s': %s; the field is left to a person", name, why);
	return 1;
}

int vl_file_sha256(char out[65], const char *path)
{
	crypto_hash_sha256_state st;
	unsigned char buf[16384], h[crypto_hash_sha256_BYTES];
	static const char hex[] = "0123456789abcdef";
	ssize_t n;
	size_t i;
	int fd, rc = 0;

	out[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return vl_error_set(errno == ENOENT ? VL_ENOTFOUND : VL_ERROR, "cannot open '%s': %s",
				path, strerror(errno));
	crypto_hash_sha256_init(&st);
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = vl_error_set(VL_ERROR, "cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		crypto_hash_sha256_update(&st, buf, (unsigned long long)n);
	}
	crypto_hash_sha256_final(&st, h);
	for (i = 0; i < sizeof(h); i++) {
		out[2 * i] = hex[h[i] >> 4];
		out[2 * i + 1] = hex[h[i] & 15];
	}
	out[64] = '\0';
out:
	close(fd);
	return rc;
}

/* Write one input file: {field, schema, id, value, data} (value and data
 * only when there is data / a value). */
static int write_input(const char *path, const char *field, const char *schema,
		const char *id, const vl_value *data)
{
	vl_value *m = vl_value_new(VL_V_MAP);
	const vl_value *v = data ? vl_value_map_get(data, field) : NULL;
	vl_buf b = VL_BUF_INIT;
	size_t off = 0;
	int fd = -1, rc = 0;

	if (!m || vl_value_map_set(m, "field", vl_value_str(field)) < 0 ||
			vl_value_map_set(m, "schema", vl_value_str(schema)) < 0 ||
			vl_value_map_set(m, "id", vl_value_str(id)) < 0 ||
			(v && vl_value_map_set(m, "value", vl_value_clone(v)) < 0) ||
			(data && vl_value_map_set(m, "data", vl_value_clone(data)) < 0)) {
		rc = vl_error_set(VL_ENOMEM, "out of memory writing hook input");
		goto out;
	}
	if ((rc = vl_yaml_emit(&b, m)) < 0)
		goto out;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = vl_error_set(VL_ERROR, "cannot create '%s': %s", path, strerror(errno));
		goto out;
	}
	while (off < b.len) {
		ssize_t n = write(fd, b.ptr + off, b.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = vl_error_set(VL_ERROR, "cannot write '%s': %s", path, strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
out:
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = vl_error_set(VL_ERROR, "cannot write '%s': %s", path, strerror(errno));
	vl_buf_free(&b);
	vl_value_free(m);
	return rc;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void child(const char *path, char *const argv[], char *const envp[], const char *dir,
		int devnull, int out_fd, int maxfd)
{
	struct sigaction sa;
	sigset_t none;
	int fd;

	(void)setpgid(0, 0);
	if (dup2(devnull, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(devnull, 2) < 0)
		_exit(127);
	for (fd = 3; fd < maxfd; fd++)
		(void)close(fd);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if (chdir(dir) < 0)
		_exit(127);
	execve(path, argv, envp);
	_exit(127);
}

/* Kill the hook's process group and reap the hook. */
static void kill_and_reap(pid_t pid, int *status)
{
	(void)kill(-pid, SIGKILL);
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
}

int vl_hook_run(vl_value **out, const char *hooks_dir, const char *name, const char *pin,
		const char *field, const char *schema, const char *id,
		const vl_value *base_data, const vl_value *a_data, const vl_value *b_data,
		int timeout_ms)
{
	static const vl_yaml_limits lim = { VL_HOOK_MAX_OUTPUT, VL_YAML_MAX_DEPTH, VL_YAML_MAX_NODES };
	vl_buf path = VL_BUF_INIT, dir = VL_BUF_INIT, files[3] = { VL_BUF_INIT, VL_BUF_INIT, VL_BUF_INIT };
	vl_buf envs[4] = { VL_BUF_INIT, VL_BUF_INIT, VL_BUF_INIT, VL_BUF_INIT };
	vl_buf outb = VL_BUF_INIT;
	vl_value *doc = NULL;
	const vl_value *datas[3];
	static const char *const fnames[3] = { "base.yaml", "a.yaml", "b.yaml" };
	char sha[65], *argv[5], *envp[5], chunk[4096];
	const char *tmp;
	struct stat st;
	pid_t pid = -1;
	int pfd[2] = { -1, -1 }, devnull = -1, made_dir = 0, status = 0;
	int rc = 0, timed_out = 0, too_big = 0, reaped = 0, maxfd, i;
	long long deadline;
	long sc;

	*out = NULL;
	datas[0] = base_data;
	datas[1] = a_data;
	datas[2] = b_data;
	if (timeout_ms <= 0)
		timeout_ms = VL_HOOK_TIMEOUT_MS;
	if (!hooks_dir || !*hooks_dir)
		return decline(name ? name : "", "no hooks directory");
	if (!vl_hook_name_valid(name))
		return decline("", "the name must match [a-z0-9][a-z0-9_-]*");
	if (!field || !schema || !id)
		return vl_error_set(VL_EINVALID, "hook '%s': field, schema and id are needed", name);
	if ((rc = vl_buf_printf(&path, "%s/%s", hooks_dir, name)) < 0)
		goto out;

	/* The program: a regular, executable file the owner alone may change,
	 * with the pinned hash. */
	if (lstat(path.ptr, &st) < 0) {
		rc = decline(name, errno == ENOENT ? "not installed in the hooks directory"
				: "cannot be examined");
		goto out;
	}
	if (!S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR)) {
		rc = decline(name, "not a regular executable file (symlinks are refused)");
		goto out;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		rc = decline(name, "writable by group or others; chmod go-w it");
		goto out;
	}
	if (vl_file_sha256(sha, path.ptr) < 0) {
		rc = decline(name, "cannot be read");
		goto out;
	}
	if (!pin || strcmp(sha, pin) != 0) {
		rc = decline(name, "its sha256 differs from the schema's hook_sha256 pin");
		goto out;
	}

	/* Inputs in a private directory. */
	tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	if ((rc = vl_buf_printf(&dir, "%s/vlhook-XXXXXX", tmp)) < 0)
		goto out;
	if (!mkdtemp(dir.ptr)) {
		rc = vl_error_set(VL_ERROR, "cannot create a temporary directory under '%s': %s",
				tmp, strerror(errno));
		goto out;
	}
	made_dir = 1;
	for (i = 0; i < 3; i++) {
		if ((rc = vl_buf_printf(&files[i], "%s/%s", dir.ptr, fnames[i])) < 0 ||
				(rc = write_input(files[i].ptr, field, schema, id, datas[i])) < 0)
			goto out;
	}
	if ((rc = vl_buf_puts(&envs[0], "PATH=/usr/local/bin:/usr/bin:/bin")) < 0 ||
			(rc = vl_buf_puts(&envs[1], "LC_ALL=C")) < 0 ||
			(rc = vl_buf_printf(&envs[2], "HOME=%s", dir.ptr)) < 0 ||
			(rc = vl_buf_printf(&envs[3], "TMPDIR=%s", dir.ptr)) < 0)
		goto out;
	argv[0] = path.ptr;
	for (i = 0; i < 3; i++)
		argv[i + 1] = files[i].ptr;
	argv[4] = NULL;
	for (i = 0; i < 4; i++)
		envp[i] = envs[i].ptr;
	envp[4] = NULL;
	sc = sysconf(_SC_OPEN_MAX);
	maxfd = sc < 0 || sc > HOOK_MAX_FD ? HOOK_MAX_FD : (int)sc;

	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0 || pipe(pfd) < 0 || fcntl(pfd[0], F_SETFD, FD_CLOEXEC) < 0 ||
			fcntl(pfd[1], F_SETFD, FD_CLOEXEC) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot set up a hook's input and output: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = vl_error_set(VL_ERROR, "cannot start hook '%s': %s", name, strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(path.ptr, argv, envp, dir.ptr, devnull, pfd[1], maxfd);
	(void)setpgid(pid, pid); /* also in the child: whichever runs first */
	close(pfd[1]);
	pfd[1] = -1;

	/* Read stdout until EOF, the cap, or the deadline. */
	outb.max = VL_HOOK_MAX_OUTPUT;
	deadline = now_ms() + timeout_ms;
	for (;;) {
		struct pollfd p = { pfd[0], POLLIN, 0 };
		long long left = deadline - now_ms();
		ssize_t n;
		int pr;

		if (left <= 0) {
			timed_out = 1;
			break;
		}
		pr = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0) {
			rc = vl_error_set(VL_ERROR, "waiting for hook '%s': %s", name, strerror(errno));
			break;
		}
		if (pr == 0) {
			timed_out = 1;
			break;
		}
		n = read(pfd[0], chunk, sizeof(chunk));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break; /* EOF (or a broken pipe: the status decides) */
		if (outb.len + (size_t)n > VL_HOOK_MAX_OUTPUT) {
			too_big = 1;
			break;
		}
		if ((rc = vl_buf_put(&outb, chunk, (size_t)n)) < 0)
			break;
	}
	/* Output closed: wait for the exit, still within the deadline. */
	while (!timed_out && !too_big && rc == 0) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid) {
			reaped = 1;
			break;
		}
		if (w < 0 && errno != EINTR) {
			rc = vl_error_set(VL_ERROR, "waiting for hook '%s': %s", name, strerror(errno));
			break;
		}
		if (now_ms() >= deadline) {
			timed_out = 1;
			break;
		}
		(void)poll(NULL, 0, 5);
	}
	if (reaped)
		(void)kill(-pid, SIGKILL); /* leftovers of its group; the id stays
					     * reserved while the group exists */
	else
		kill_and_reap(pid, &status);
	pid = -1;
	if (rc < 0)
		goto out;

	if (timed_out) {
		rc = decline(name, "timed out");
	} else if (too_big) {
		rc = decline(name, "printed more than the output limit");
	} else if (WIFSIGNALED(status)) {
		rc = decline(name, "was killed by a signal");
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		rc = decline(name, WIFEXITED(status) && WEXITSTATUS(status) == 1
				? "declined (exit 1)" : "failed (exit status other than 0 or 1)");
	} else if ((rc = vl_yaml_load(&doc, outb.ptr ? outb.ptr : "", outb.len, &lim, "hook output")) < 0 ||
			doc->n != 1 || strcmp(doc->keys[0], "value") != 0) {
		/* Out of memory reading the output is ours: an error, never a
		 * hook that declined (verify's replay would differ from the merge). */
		if (rc != VL_ENOMEM)
			rc = decline(name, "output is not one YAML map 'value: V'");
	} else if (!(*out = vl_value_clone(doc->items[0]))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
	} else {
		rc = 0;
	}
out:
	if (pid > 0)
		kill_and_reap(pid, &status);
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (devnull >= 0)
		close(devnull);
	if (made_dir)
		rmtree(dir.ptr);
	for (i = 0; i < 3; i++)
		vl_buf_free(&files[i]);
	for (i = 0; i < 4; i++)
		vl_buf_free(&envs[i]);
	vl_value_free(doc);
	vl_buf_free(&outb);
	vl_buf_free(&dir);
	vl_buf_free(&path);
	return rc;
}
