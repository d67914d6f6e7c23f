/* cmd_remote.c - vledger remote add / list / remove, and sync / pull NAME:
 * parse, one operation (ops/remote_ops.h), print. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cmd/cli.h"
#include "store/i18n.h"
#include "agent/ops/remote_ops.h"
#include "store/yaml.h"

static int print_list(const vl_remote_list_result *l, int json)
{
	vl_buf b = VL_BUF_INIT;
	size_t i;
	int rc = 0;

	if (!json) {
		for (i = 0; i < l->n; i++)
			printf("%s\t%s\n", l->items[i].name, l->items[i].url);
		return VL_EXIT_OK;
	}
	rc = vl_buf_puts(&b, "[");
	for (i = 0; rc == 0 && i < l->n; i++)
		if ((rc = vl_buf_puts(&b, i ? ",{\"name\":" : "{\"name\":")) < 0 ||
				(rc = vl_json_str(&b, l->items[i].name, strlen(l->items[i].name))) < 0 ||
				(rc = vl_buf_puts(&b, ",\"url\":")) < 0 ||
				(rc = vl_json_str(&b, l->items[i].url, strlen(l->items[i].url))) < 0 ||
				(rc = vl_buf_puts(&b, "}")) < 0)
			break;
	if (rc == 0 && (rc = vl_buf_puts(&b, "]\n")) == 0)
		fputs(b.ptr, stdout);
	vl_buf_free(&b);
	return rc < 0 ? vl_cli_fail(rc) : VL_EXIT_OK;
}

/* remote add NAME URL and remote remove NAME: one shape (parse, open, one
 * operation, print), as peer list / status and sync / pull share theirs. */
static int remote_change(const vl_command *cmd, const vl_cli *cli, int argc, char **argv, int add)
{
	vl_remote_opts ro = VL_REMOTE_OPTS_INIT;
	vl_remote_list_result res = { NULL, 0 };
	const vl_opt opts[] = { { NULL, 0, NULL, NULL, NULL } };
	const char **pos = NULL;
	size_t npos;
	vl_node *n = NULL;
	int rc, exit_code = VL_EXIT_ERROR;

	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != (add ? 2u : 1u)) {
		free(pos);
		return add ? vl_cli_usage(cmd, "needs a name and a URL") : vl_cli_usage(cmd, "needs the name of the remote");
	}
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		goto out;
	ro.name = pos[0];
	ro.url = add ? pos[1] : NULL;
	if ((rc = add ? vl_remote_add(n, &ro, &res) : vl_remote_remove(n, &ro, &res)) < 0) {
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	if (add)
		printf(_("added remote %s: %s\n"), ro.name, ro.url);
	else
		printf(_("removed remote %s\n"), ro.name);
	exit_code = VL_EXIT_OK;
out:
	vl_remote_list_result_free(&res);
	vl_node_close(n);
	free(pos);
	return exit_code;
}

int vl_cmd_remote_add(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	return remote_change(cmd, cli, argc, argv, 1);
}

int vl_cmd_remote_remove(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	return remote_change(cmd, cli, argc, argv, 0);
}

int vl_cmd_remote_list(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	vl_remote_list_result res = { NULL, 0 };
	int json = 0;
	const vl_opt opts[] = { { "--json", 0, NULL, &json, NULL }, { NULL, 0, NULL, NULL, NULL } };
	vl_node *n = NULL;
	int rc, exit_code = VL_EXIT_ERROR;

	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0)
		return rc;
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		goto out;
	if ((rc = vl_remote_list(n, NULL, &res)) < 0) {
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	exit_code = print_list(&res, json);
out:
	vl_remote_list_result_free(&res);
	vl_node_close(n);
	return exit_code;
}

static const char *push_word(vl_push_state s)
{
	switch (s) {
	case VL_PUSH_UPTODATE: return _("up to date");
	case VL_PUSH_DONE: return _("pushed");
	case VL_PUSH_SKIPPED: return _("not pushed");
	case VL_PUSH_REJECTED: return _("refused by the server");
	}
	return "?";
}

/* sync / pull with a git remote; the worst outcome decides the exit code:
 * error 1 over refusal 4 over conflicts 3. */
static int remote_sync(const vl_cli *cli, const char *name, int push, int merge)
{
	vl_remote_sync_opts so = VL_REMOTE_SYNC_OPTS_INIT;
	vl_remote_sync_result res;
	vl_node *n = NULL;
	size_t i, pushed = 0;
	int rc, code = VL_EXIT_OK, exit_code = VL_EXIT_ERROR;

	memset(&res, 0, sizeof(res));
	/* libgit2's transports write with plain send(): a server or proxy that
	 * hangs up mid-push raised SIGPIPE, which killed the command before it
	 * removed its temporary repository (cache/remote-*). Ignored, the
	 * write fails with EPIPE and the transfer error is reported. */
	signal(SIGPIPE, SIG_IGN);
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		goto out;
	so.name = name;
	so.push = push;
	so.merge = merge;
	so.progress = vl_cli_progress();
	rc = vl_remote_sync(n, &so, &res);
	vl_cli_progress_done();
	if (res.received) {
		printf(_("%s: fetched %zu of %zu refs, %zu objects, %zu bytes\n"), name, res.fetched_refs, res.remote_refs,
				res.received_objects, res.received_bytes);
		code = vl_cli_print_receive(&res.receive);
	} else if (res.url && push && rc == 0) {
		printf(_("%s: holds no vledger branches yet\n"), name);
	}
	for (i = 0; i < res.npush; i++) {
		const vl_push_item *it = &res.push[i];
		if (it->state == VL_PUSH_UPTODATE)
			continue;
		if (it->state == VL_PUSH_DONE)
			pushed++;
		printf(_("push %s: %s%s%s\n"), it->ref, push_word(it->state), it->message ? ", " : "",
				it->message ? it->message : "");
	}
	if (res.pushed)
		printf(_("%s: %zu branch%s pushed\n"), name, pushed, pushed == 1 ? "" : "es");
	if (rc < 0) {
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	exit_code = code;
out:
	vl_remote_sync_result_free(&res);
	vl_node_close(n);
	return exit_code;
}

/*
 * sync NAME / pull NAME when NAME is a git remote of this node (cmd_net.c's
 * sync_or_pull asks here first; a network peer is its own). *handled = 1
 * when NAME named a remote and this ran the remote sync.
 */
int vl_cmd_remote_dispatch(const vl_command *cmd, const vl_cli *cli, int argc, char **argv, int push, int *handled)
{
	int no_merge = 0;
	const vl_opt opts_pull[] = { { "--no-merge", 0, NULL, &no_merge, NULL }, { NULL, 0, NULL, NULL, NULL } };
	const vl_opt opts_sync[] = { { NULL, 0, NULL, NULL, NULL } };
	const char **pos = NULL;
	const char *name = NULL;
	size_t npos;
	vl_node *n = NULL;
	int i, rc, is;

	*handled = 0;
	/* The one positional argument, skipping the network options' values. */
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;  /* cmd_net.c's parser handles what follows */
		if (!strcmp(argv[i], "--timeout") || !strcmp(argv[i], "--passphrase-file")) {
			i++;
			continue;
		}
		if (argv[i][0] == '-')
			continue;
		if (name)
			return 0;  /* two: cmd_net.c says what is wrong */
		name = argv[i];
	}
	if (!name || vl_remote_name_check(name) < 0)
		return 0;
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		return 0;  /* no node here: cmd_net.c says so */
	is = vl_remote_is(n, name);
	vl_node_close(n);
	if (is < 0) {
		*handled = 1;
		return vl_cli_fail(is);
	}
	if (!is)
		return 0;
	*handled = 1;
	if ((rc = vl_cli_parse(cmd, argc, argv, push ? opts_sync : opts_pull, &pos, &npos)) != 0)
		return rc;
	rc = remote_sync(cli, pos[0], push, !no_merge);
	free(pos);
	return rc;
}
