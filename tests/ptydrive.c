/*
 * ptydrive - run a command on a fresh pseudo-terminal and type into it, as
 * a person would (tests/sh/prompt.sh drives the passphrase prompt with it).
 *
 *   ptydrive [-t SECONDS] STEP... -- COMMAND [ARG...]
 *   STEP: -x TEXT  wait until TEXT has appeared in the output (since the last -x)
 *         -s TEXT  type TEXT and Enter
 *         -i       type the interrupt character (^C: SIGINT through the tty)
 *         -d       type the end-of-file character (^D)
 *
 * Everything the command writes to the terminal, echo included, goes to
 * stdout (the transcript). Then one line on stderr:
 *   "ptydrive: exit=N echo=on|off" (N = 128+signal when killed), echo being
 * the terminal's ECHO flag after the command ended, so a test sees whether
 * the terminal was restored. Exit status: 0 when the command ran (its own
 * status is in that line), 124 when a -x timed out, 2 on a usage error.
 */
#define _XOPEN_SOURCE 600
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static char seen[1 << 16];
static size_t nseen, mark;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read what is there within ms milliseconds; 0 when nothing came. */
static int pump(int m, int ms)
{
	struct pollfd p = { m, POLLIN, 0 };
	char b[4096];
	ssize_t r;

	if (poll(&p, 1, ms) <= 0)
		return 0;
	r = read(m, b, sizeof(b));
	if (r <= 0)
		return 0;
	fwrite(b, 1, (size_t)r, stdout);
	fflush(stdout);
	if (nseen + (size_t)r < sizeof(seen)) {
		memcpy(seen + nseen, b, (size_t)r);
		nseen += (size_t)r;
	}
	return 1;
}

static int found(const char *text)
{
	size_t n = strlen(text), i;

	for (i = mark; i + n <= nseen; i++)
		if (!memcmp(seen + i, text, n)) {
			mark = i + n;
			return 1;
		}
	return 0;
}

int main(int argc, char **argv)
{
	int m, s, i, cmd = 0, status = 0, timeout = 20, code;
	long long end;
	struct termios t;
	pid_t pid;
	char *name;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			cmd = i + 1;
			break;
		}
	if (!cmd || cmd >= argc) {
		fprintf(stderr, "usage: ptydrive [-t S] [-x TEXT|-s TEXT|-i|-d]... -- COMMAND [ARG...]\n");
		return 2;
	}
	if ((m = posix_openpt(O_RDWR | O_NOCTTY)) < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || !(name = ptsname(m))) {
		perror("ptydrive: pty");
		return 2;
	}
	/* The driver keeps the slave open, so the terminal's settings can be
	 * read after the command ended. */
	if ((s = open(name, O_RDWR | O_NOCTTY)) < 0) {
		perror("ptydrive: slave");
		return 2;
	}
	if ((pid = fork()) < 0)
		return 2;
	if (pid == 0) {
		int c;
		setsid();
		if ((c = open(name, O_RDWR)) < 0)
			_exit(126);
		ioctl(c, TIOCSCTTY, 0);
		dup2(c, 0);
		dup2(c, 1);
		dup2(c, 2);
		if (c > 2)
			close(c);
		close(s);
		close(m);
		execvp(argv[cmd], argv + cmd);
		_exit(127);
	}
	for (i = 1; i < cmd - 1; i++) {
		if (!strcmp(argv[i], "-t") && i + 1 < cmd - 1) {
			timeout = (int)strtol(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "-x") && i + 1 < cmd - 1) {
			end = now_ms() + timeout * 1000LL;
			while (!found(argv[i + 1])) {
				if (now_ms() > end) {
					fprintf(stderr, "ptydrive: timed out waiting for '%s'\n", argv[i + 1]);
					kill(pid, SIGKILL);
					waitpid(pid, NULL, 0);
					return 124;
				}
				pump(m, 100);
			}
			i++;
		} else if (!strcmp(argv[i], "-s") && i + 1 < cmd - 1) {
			/* Typed as a person types: after the prompt, then Enter. */
			if (write(m, argv[i + 1], strlen(argv[i + 1])) < 0 || write(m, "\r", 1) < 0)
				return 2;
			i++;
		} else if (!strcmp(argv[i], "-i") || !strcmp(argv[i], "-d")) {
			tcgetattr(s, &t);
			if (write(m, &t.c_cc[argv[i][1] == 'i' ? VINTR : VEOF], 1) < 0)
				return 2;
		} else {
			fprintf(stderr, "ptydrive: unknown step '%s'\n", argv[i]);
			kill(pid, SIGKILL);
			return 2;
		}
	}
	end = now_ms() + timeout * 1000LL;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (now_ms() > end) {
			fprintf(stderr, "ptydrive: the command did not end\n");
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return 124;
		}
		pump(m, 50);
	}
	while (pump(m, 50))
		;
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	tcgetattr(s, &t);
	fprintf(stderr, "ptydrive: exit=%d echo=%s\n", code, (t.c_lflag & ECHO) ? "on" : "off");
	return 0;
}
