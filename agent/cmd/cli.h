/*
 * cli.h - the vledger command line: a table of commands (agent/cmd/cmd_*.c),
 * shared option parsing, exit codes and output helpers. Nothing else: a
 * command parses its arguments, calls one operation (agent/ops/, ops.h),
 * prints the result as text or --json, masking personal fields unless
 * --reveal, and maps the operation's VL_E* code to an exit code
 * (vl_cli_fail). Library code never returns exit codes and never calls a
 * command.
 *
 * Exit codes (as README.md lists them): 0 ok, 1 error, 2 usage, 3 conflicts left for a
 * person, 4 verification failed.
 */
#ifndef VL_CLI_H
#define VL_CLI_H

#include <stddef.h>
#include "store/buf.h"
#include "agent/node/node.h"
#include "agent/ops/node_ops.h"
#include "agent/ops/ops.h"
#include "agent/sync/receive.h"

enum { VL_EXIT_OK = 0, VL_EXIT_ERROR = 1, VL_EXIT_USAGE = 2, VL_EXIT_CONFLICTS = 3, VL_EXIT_VERIFY = 4 };

/* Global options, given before the command. */
typedef struct {
	const char *home;            /* -C DIR */
	const char *operator_name;   /* --operator NAME (vl_node_set_operator), or NULL */
} vl_cli;

typedef struct vl_command vl_command;
struct vl_command {
	const char *name;            /* "add", "roster add" */
	const char *usage;           /* arguments after the name */
	const char *help;            /* one line, marked N_() and printed with _() */
	int (*fn)(const vl_command *cmd, const vl_cli *cli, int argc, char **argv);
};

/* One option of a command. A flag sets *flag = 1; an option with an
 * argument stores it in *val (last wins) or appends it to *list. */
typedef struct {
	const char *name;            /* "--scope" */
	int has_arg;
	const char **val;
	int *flag;
	struct vl_strlist *list;
} vl_opt;

typedef struct vl_strlist {
	const char **items;
	size_t n, cap;
} vl_strlist;

void vl_strlist_free(vl_strlist *l);

/*
 * Parse argv (argv[0] is the first argument after the command name) into
 * opts and positional arguments (borrowed from argv, NULL-terminated array
 * the caller frees). Prints a usage error and returns VL_EXIT_USAGE
 * on an unknown option or a missing argument; 0 otherwise.
 */
int vl_cli_parse(const vl_command *cmd, int argc, char **argv, const vl_opt *opts,
		const char ***pos, size_t *npos);

/* vl_cli_parse for a command that takes options only: any positional
 * argument is a usage error ("takes no arguments" when the command has no
 * options either). Returns 0 or the exit code to return. */
int vl_cli_parse_options(const vl_command *cmd, int argc, char **argv, const vl_opt *opts);

/* Print "vledger: <message>" for the last error; return the exit code for
 * rc (VL_EBADSIG -> 4, else 1). */
int vl_cli_fail(int rc);
/* Print "usage: vledger <name> <usage>" with a reason; return 2. The reason's
 * format is translated (store/i18n.h; xgettext keyword vl_cli_usage:2). */
int vl_cli_usage(const vl_command *cmd, const char *fmt, ...) VL_PRINTF(2, 3);

/* Open the node of cli->home (see vl_node_open) with cli->operator_name
 * when given, printing the error. */
int vl_cli_node(vl_node **out, const vl_cli *cli, int need_key, const char *passphrase_file);

/* Directory of the shipped schemas: $VLEDGER_SCHEMA_DIR, else the install
 * or source directory fixed at build time. Borrowed. */
const char *vl_cli_schema_dir(void);

/* Display width of UTF-8 text (CJK wide characters count 2). */
size_t vl_text_width(const char *s);
/* Append s to out cut to at most w terminal columns (vl_text_width), a
 * cut marked by "…" (one column); whole UTF-8 sequences only. */
int vl_text_fit(vl_buf *out, const char *s, size_t w) VL_MUST_CHECK;
/* Print s padded with spaces to width w (no truncation). */
void vl_print_padded(const char *s, size_t w);

/*
 * Progress of long work (import, fetch, bundle apply, sync, pull, aggregate)
 * for the operation's vl_progress: when stderr is a terminal, one line on
 * stderr ("import 1200/5000"), redrawn in place at most every 100 ms and
 * whenever the stage changes or finishes; when it is not (a pipe, a file, a
 * script), fn is NULL and nothing is written. vl_cli_progress_done ends the
 * line (erases it) before the command prints its result; vl_cli_fail calls
 * it too. One progress line per process.
 */
vl_progress vl_cli_progress(void);
void vl_cli_progress_done(void);

/* Results printed the same way by more than one command. */
/* A made node: init, join (cmd_init.c). */
void vl_cli_print_init(const vl_init_result *r);
/* What a receive did: fetch, join (cmd_fetch.c). Returns the exit code it
 * means: 4 when branches were refused, 3 when fields were left for a
 * person, else 0. */
int vl_cli_print_receive(const vl_receive_result *r);
/* The exit code vl_cli_print_receive returns, without printing. */
int vl_cli_receive_code(const vl_receive_result *r);
/* --json of a receive (fetch, bundle apply; docs/formats.md "--json of
 * verify, fetch, import, bundle apply"): one object appended to out. */
int vl_cli_receive_json(vl_buf *out, const vl_receive_result *r) VL_MUST_CHECK;
/* Text of lines ("a\nb\n") appended to out as a JSON array of strings,
 * one a line, empty lines left out. */
int vl_cli_json_lines(vl_buf *out, const char *text, size_t len) VL_MUST_CHECK;

/* The commands, defined in cmd_*.c. */
int vl_cmd_init(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_key(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_roster_add(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_roster_list(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_roster_revoke(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_roster_approve(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_key_rotate(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_export_allowed_signers(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_export_network(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_schema_list(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_schema_show(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_schema_check(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_add(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_edit(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_rm(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_show(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_list(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_log(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_history(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_blame(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_audit_export(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_verify(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_fetch(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_bundle_create(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_bundle_apply(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_remote_add(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_remote_list(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_remote_remove(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_remote_dispatch(const vl_command *, const vl_cli *, int, char **, int push, int *handled);
int vl_cmd_invite(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_ui(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_join(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_incidents(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_import(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_export(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_reports(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_merge(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_conflicts(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_resolve(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_join_records(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_aggregate(const vl_command *, const vl_cli *, int, char **);
/* cmd_net.c */
int vl_cmd_serve(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_sync(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_pull(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_peer_add(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_operator_set(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_operator_show(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_peer_list(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_status(const vl_command *, const vl_cli *, int, char **);
/* cmd_lan.c: `peer list --lan` and `sync --lan`; the table's `peer list` and `sync`
 * entries call the dispatchers, which hand other arguments to cmd_net.c. */
int vl_cmd_peer_list_lan(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_peer_list_or_lan(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_sync_lan(const vl_command *, const vl_cli *, int, char **);
int vl_cmd_sync_or_lan(const vl_command *, const vl_cli *, int, char **);

#endif
