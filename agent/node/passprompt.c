/* passprompt.c - a passphrase read from the terminal with echo off (passprompt.h). */
#include "agent/node/passprompt.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "store/i18n.h"

/* What the signal handler needs to put the terminal back: set only while
 * echo is off. One prompt at a time (the CLI is single-threaded there). */
static volatile sig_atomic_t prompt_active;
static int prompt_fd = -1;
static struct termios prompt_saved;

static const int prompt_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define NSIG_PROMPT (sizeof(prompt_signals) / sizeof(prompt_signals[0]))
static struct sigaction prompt_old[NSIG_PROMPT];

static void restore_signals(void)
{
	size_t i;

	for (i = 0; i < NSIG_PROMPT; i++)
		sigaction(prompt_signals[i], &prompt_old[i], NULL);
}

/* Async-signal-safe: tcsetattr, write, sigaction and raise only. */
static void on_signal(int sig)
{
	if (prompt_active) {
		tcsetattr(prompt_fd, TCSAFLUSH, &prompt_saved);
		prompt_active = 0;
		if (write(prompt_fd, "\n", 1) < 0) {
			/* nothing more to do in a handler */
		}
	}
	restore_signals();
	raise(sig);
}

int vl_passphrase_can_prompt(void)
{
	return isatty(STDIN_FILENO) == 1;
}

int vl_passphrase_prompt(char **out, const char *prompt)
{
	struct termios t;
	struct sigaction sa;
	char *line = NULL;
	size_t len = 0, i;
	int fd = -1, own_fd = 0, out_fd, echo_off = 0, handlers = 0, done = 0, rc;
	char c;
	ssize_t r;

	*out = NULL;
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0)
		own_fd = 1;
	else
		fd = STDIN_FILENO;
	out_fd = own_fd ? fd : STDERR_FILENO;
	if (!isatty(fd)) {
		rc = vl_error_set(VL_EDENIED, "no terminal to ask for the passphrase on; give it with "
				"--passphrase-file FILE or VLEDGER_PASSPHRASE_FILE");
		goto out;
	}
	if (!(line = malloc(VL_PASSPHRASE_MAX + 1))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	if (tcgetattr(fd, &prompt_saved) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot read the terminal's settings: %s", strerror(errno));
		goto out;
	}
	/* Handlers first, so no signal can leave the terminal without echo. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NSIG_PROMPT; i++)
		sigaddset(&sa.sa_mask, prompt_signals[i]);
	for (i = 0; i < NSIG_PROMPT; i++)
		sigaction(prompt_signals[i], &sa, &prompt_old[i]);
	handlers = 1;
	t = prompt_saved;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
	t.c_lflag |= ECHONL | ICANON;
	prompt_fd = fd;
	prompt_active = 1;
	if (tcsetattr(fd, TCSAFLUSH, &t) < 0) {
		prompt_active = 0;
		rc = vl_error_set(VL_ERROR, "cannot turn the terminal's echo off: %s", strerror(errno));
		goto out;
	}
	echo_off = 1;
	if (write(out_fd, prompt, strlen(prompt)) < 0) {
		/* the prompt is a courtesy; reading goes on */
	}
	/* One line, byte by byte (canonical mode hands over whole lines);
	 * what is past the cap is read and dropped up to the newline. */
	while (!done) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n' || c == '\r') {
			done = r <= 0 ? -1 : 1;
			break;
		}
		if (len < VL_PASSPHRASE_MAX)
			line[len] = c;
		len++;
	}
	c = 0;
	if (len > VL_PASSPHRASE_MAX) {
		rc = vl_error_set(VL_ETOOBIG, "the passphrase is longer than %d bytes", VL_PASSPHRASE_MAX);
		goto out;
	}
	if (len == 0) {
		/* vl_error_set translates either; N_() lets xgettext see the second. */
		rc = vl_error_set(VL_EDENIED, done < 0 ? "no passphrase given: input ended; the key stays sealed" :
				N_("no passphrase given; the key stays sealed"));
		goto out;
	}
	line[len] = '\0';
	*out = line;
	line = NULL;
	rc = 0;
out:
	if (echo_off) {
		tcsetattr(fd, TCSAFLUSH, &prompt_saved);
		prompt_active = 0;
		if (done < 0 && write(out_fd, "\n", 1) < 0) {
			/* end of input left the cursor after the prompt; cosmetic */
		}
	}
	if (handlers)
		restore_signals();
	if (line) {
		sodium_memzero(line, VL_PASSPHRASE_MAX + 1);
		free(line);
	}
	if (own_fd)
		close(fd);
	return rc;
}
