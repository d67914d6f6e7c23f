/*
 * cmd_ui.c - vledger ui: serve the local web interface (agent/ui/,
 * docs/ui.md) until SIGINT or SIGTERM. The first line of standard output is
 * the URL to open, with the start token; the rest of the run logs one line
 * per request on standard error (method, path, status; never a value).
 */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/cmd/cli.h"
#include "agent/ui/ui.h"
#include "store/i18n.h"

extern char **environ;

/* Try xdg-open quietly (no output, no wait for the browser; errors ignored:
 * the URL is printed anyway). */
static void open_browser(const char *url)
{
	posix_spawn_file_actions_t fa;
	char *argv[3];
	pid_t pid;

	argv[0] = (char *)"xdg-open";
	argv[1] = (char *)url;
	argv[2] = NULL;
	if (posix_spawn_file_actions_init(&fa) != 0)
		return;
	if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) == 0 &&
			posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) == 0 &&
			posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0) == 0 &&
			posix_spawnp(&pid, "xdg-open", &fa, NULL, argv, environ) == 0)
		(void)waitpid(pid, NULL, WNOHANG);
	posix_spawn_file_actions_destroy(&fa);
}

int vl_cmd_ui(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *listen = NULL, *passfile = NULL;
	int no_open = 0, allow_remote = 0, sig = 0, rc;
	const vl_opt opts[] = {
		{ "--listen", 1, &listen, NULL, NULL },
		{ "--no-open", 0, NULL, &no_open, NULL },
		{ "--allow-remote", 0, NULL, &allow_remote, NULL },
		{ "--passphrase-file", 1, &passfile, NULL, NULL },
		{ NULL, 0, NULL, NULL, NULL }
	};
	vl_ui_opts uo = { NULL, NULL, 0, NULL, NULL };
	vl_node *n = NULL;
	vl_ui *ui = NULL;
	sigset_t set;
	char *home = NULL;

	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0)
		return rc;
	/* the node must exist (and its operator parse) before anything listens */
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		return VL_EXIT_ERROR;
	vl_node_close(n);
	if (!(home = vl_node_home_path(cli->home))) {
		fprintf(stderr, "%s", _("vledger: out of memory\n"));
		return VL_EXIT_ERROR;
	}
	uo.home = home;
	uo.listen = listen;
	uo.allow_remote = allow_remote;
	uo.passphrase_file = passfile;
	uo.operator_name = cli->operator_name;
	/* every thread, MHD's included, leaves these signals to sigwait below */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((rc = vl_ui_start(&ui, &uo)) < 0) {
		free(home);
		return vl_cli_fail(rc);
	}
	if (allow_remote)
		fprintf(stderr, "%s", _("vledger ui: listening beyond this computer: anyone who can reach this address "
				"and learns the token can read and change the ledgers; use it only on a network you trust\n"));
	printf("%s\n", vl_ui_url(ui));
	fflush(stdout);
	if (!no_open)
		open_browser(vl_ui_url(ui));
	while (sigwait(&set, &sig) == 0 && sig != SIGINT && sig != SIGTERM && sig != SIGHUP)
		;
	vl_ui_stop(ui);
	free(home);
	return VL_EXIT_OK;
}
