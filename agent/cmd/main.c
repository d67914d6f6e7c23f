/* main.c - vledger's entry point: global options and the command table. */
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cmd/cli.h"
#include "store/i18n.h"
#include "store/repo.h"

#ifdef __SANITIZE_ADDRESS__
/*
 * LeakSanitizer: libgit2 1.5.1 (Debian 12) leaks a pcre2 match block for
 * every config entry a regexp does not match (git_regexp_search; fixed
 * upstream by libgit2 PR #6382, after 1.5), which every remote URL lookup
 * hits (url.*.insteadof). vledger itself does not use pcre2, so leaks
 * inside libpcre2 are not ours to report.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libpcre2-8.so\n";
}
#endif

static const vl_command commands[] = {
	{ "init", "--name NAME --role ROLE --scope CODE12 (--new-network [--timezone +HH:MM] | --network FILE) [--passphrase-file F]",
	  N_("create a node home: key, repository, and (county) a new network, whose times show in --timezone "
	  "(default Asia/Shanghai, +08:00); --network takes network.key from beside FILE"),
	  vl_cmd_init },
	{ "key", "[--json]", N_("print this node's public key and fingerprint"), vl_cmd_key },
	{ "roster add", "--name N --role R --scope CODE12 --key \"ssh-ed25519 ...\" [--json]",
	  N_("add a key to the roster (admins only; a signed commit on config)"), vl_cmd_roster_add },
	{ "roster list", "[--json]", N_("list the keys of the roster"), vl_cmd_roster_list },
	{ "roster revoke", "FINGERPRINT --reason TEXT [--passphrase-file F] [--json]",
	  N_("revoke a key: its later writes are refused, earlier ones stay valid (admins only)"), vl_cmd_roster_revoke },
	{ "roster approve", "FILE [--passphrase-file F]",
	  N_("approve a request: key rotation (add the new key, revoke the old) or join (add the invited key); admins only"),
	  vl_cmd_roster_approve },
	{ "invite", "--role R --scope CODE12 --name N [--expires HOURS] [--address HOST:PORT] [--source PATH] [--no-qr]",
	  N_("print a one-time invitation for a new node, as a line and a QR code"), vl_cmd_invite },
	{ "join", "TOKEN [--name N] [--passphrase-file F] [--no-fetch]",
	  N_("create this node from an invitation and write the join request the inviter approves"), vl_cmd_join },
	{ "key rotate", "[--output FILE] [--finish] [--passphrase-file F]",
	  N_("make a new key pair for this node and retire the old one"), vl_cmd_key_rotate },
	{ "export allowed-signers", "[--output FILE] [--revocations FILE]",
	  N_("write the allowed_signers file for git and ssh-keygen"), vl_cmd_export_allowed_signers },
	{ "export network", "[--output FILE]",
	  N_("write network.yaml (and, with --output, the network key as network.key beside it), for 'vledger init --network'"),
	  vl_cmd_export_network },
	{ "export", "LEDGER --format csv [--scope CODE12] [--output FILE] [--reveal]",
	  N_("a ledger as an Excel-ready CSV (Chinese headers; personal fields masked unless --reveal, "
	  "which is logged in log/reveal.log)"), vl_cmd_export },
	{ "reports", "[--call ID] [--due DATE] [--scope CODE12] [--today DATE] [--format table|json|html] "
	  "[--output FILE] [--divisions FILE] [--reveal]",
	  N_("upward-report tracker: per unit called on, reported, late, missing or open, with the contact "
	  "(masked unless --reveal)"), vl_cmd_reports },
	{ "schema list", "[--json]", N_("list the ledgers and their labels"), vl_cmd_schema_list },
	{ "schema show", "NAME [--json]", N_("show a ledger's fields, types and rules"), vl_cmd_schema_show },
	{ "schema check", "FILE... [--json]", N_("check schema files, reporting every error with file:line:column"),
	  vl_cmd_schema_check },
	{ "schema install", "FILE...|--shipped [--json]",
	  N_("install or upgrade ledger schemas on config (county admin): a higher version only, no change to how "
	  "existing fields merge, and every record held must stay valid"), vl_cmd_schema_install },
	{ "add", "LEDGER [--scope CODE12] (--set FIELD=VALUE... | --file F) [--json]",
	  N_("add a record; says what was saved (its id alone when the output is not a terminal)"), vl_cmd_add },
	{ "import", "LEDGER --file F [--scope CODE12] [--batch N] [--json]",
	  N_("add many records from a YAML list or a CSV file (F.csv: headers in Chinese or English), "
	  "N per signed commit (default 500); one bad row writes nothing"), vl_cmd_import },
	{ "edit", "ID [--set FIELD=VALUE...] [--unset FIELD...] [--add FIELD=VALUE...] [--remove FIELD=VALUE...] "
	  "[--replace] [--allow-backwards --reason TEXT] [--json]",
	  N_("change a record; --add/--remove edit a set or list by element, --replace lets --set drop elements"),
	  vl_cmd_edit },
	{ "rm", "ID --reason TEXT [--json]", N_("delete a record (a tombstone; history keeps it)"), vl_cmd_rm },
	{ "show", "ID [--json] [--reveal]", N_("show a record (personal fields masked unless --reveal)"),
	  vl_cmd_show },
	{ "list", "SCHEMA [--scope CODE12] [--no-children] [--where FIELD(=|!=|<|<=|>|>=)VALUE...] [--deleted] [--json] [--reveal]",
	  N_("list the records of a ledger"), vl_cmd_list },
	{ "aggregate", "[--scope CODE12] [--by village|township|county] [--ledger NAME] [--where EXPR...] "
	  "[--format table|json|csv|html] [--output FILE] [--stale-after DURATION] [--divisions FILE] [--no-cache] [--as-of YYYY-MM-DD] [--ages] "
	  "| --from-published | --publish | --check RECORD_ID",
	  N_("the schemas' counts and sums over every branch held, rolled up village -> township -> county; "
	  "--publish signs this unit's figures (small counts suppressed), --from-published sums those of the "
	  "units below, --check recomputes a published report"),
	  vl_cmd_aggregate },
	{ "log", "[--scope CODE12] [--record ID] [--json]", N_("show the history of a branch"), vl_cmd_log },
	{ "history", "ID [--field FIELD] [--json] [--reveal]",
	  N_("every version of a record field by field: signer, commit, merge rules"), vl_cmd_history },
	{ "blame", "ID [--json] [--reveal]", N_("which version set each field's current value"), vl_cmd_blame },
	{ "audit export", "--format html|json [--scope CODE12] [--from DATE --to DATE] [--output FILE] [--reveal]",
	  N_("an offline audit report: changes, signers, merge rules, conflicts, verification"), vl_cmd_audit_export },
	{ "verify", "[--scope CODE12] [--since REV] [--quiet] [--json]",
	  N_("verify every commit and record on every branch; exit 4 on any failure"), vl_cmd_verify },
	{ "merge", "REF [--scope CODE12] [--json]",
	  N_("merge another head of its scope branch into ours, verified first (exit 3: fields left for a person; 4: refused)"),
	  vl_cmd_merge },
	{ "conflicts", "[--scope CODE12] [--duplicates] [--json] [--reveal]",
	  N_("list fields a merge left for a person, or records that share a natural key"), vl_cmd_conflicts },
	{ "resolve", "ID FIELD (--take N | --value V) [--json]", N_("settle a conflict with a signed edit"), vl_cmd_resolve },
	{ "join-records", "KEEP OTHER [--json]", N_("join two records of one person: fields by the merge rules, OTHER deleted"),
	  vl_cmd_join_records },
	{ "incidents", "[--json]", N_("list keys caught signing two histories (evidence kept under refs/evidence/)"),
	  vl_cmd_incidents },
	{ "fetch", "SOURCE [--no-merge] [--json]",
	  N_("bring config and the scope branches we may read from another node's repo.git (a path): verified "
	  "in a quarantine, then merged"), vl_cmd_fetch },
	{ "bundle create", "FILE|DIR [--for PEER | --scope CODE12] [--full] [--seal-to FP|PEER] [--json]",
	  N_("write a git bundle of what a peer may read and has not acknowledged (a USB stick's load), "
	  "optionally sealed to one key"), vl_cmd_bundle_create },
	{ "remote add", "NAME URL",
	  N_("name a git server as a remote (file://, ssh://, https://, http://, git://, host:path)"), vl_cmd_remote_add },
	{ "remote list", "[--json]", N_("list this node's git remotes"), vl_cmd_remote_list },
	{ "remote remove", "NAME", N_("forget a git remote"), vl_cmd_remote_remove },
	{ "bundle apply", "FILE|DIR [--no-merge] [--passphrase-file F] [--json]",
	  N_("take a bundle (or every bundle in a directory meant for this node) through the receive path"),
	  vl_cmd_bundle_apply },
	/* Network sync and git remotes (cmd_net.c, cmd_remote.c): one `sync` /
	 * `pull` entry each; a git remote's name is asked about first. */
	{ "serve", "[--listen ADDR:PORT] [--sync-every DURATION] [--max-sessions N] [--idle-timeout S] "
	  "[--max-bytes N] [--passphrase-file F]",
	  N_("serve this node to its roster peers over the secret handshake; with --sync-every also sync with "
	  "node.yaml's peers on that schedule"), vl_cmd_serve },
	{ "sync", "(PEER | REMOTE | --lan [--wait SECONDS]) [--json] [--timeout S] [--passphrase-file F]",
	  N_("exchange what each side may read with a peer (HOST[:PORT] or a peer name), both directions in one "
	  "session; with a git remote: fetch (verified, merged), then push back, never forced; --lan: with every "
	  "roster peer announcing itself on the LAN"), vl_cmd_sync_or_lan },
	{ "pull", "PEER|REMOTE [--json] [--timeout S] [--passphrase-file F] [--no-merge (a remote)]",
	  N_("receive what this node may read from a peer or a git remote, sending nothing"), vl_cmd_pull },
	{ "operator set", "NAME | --clear", N_("name the person at this laptop; commits carry it (kept in node.yaml)"),
	  vl_cmd_operator_set },
	{ "operator show", "[--json]", N_("print the operator name commits carry"), vl_cmd_operator_show },
	{ "peer add", "NAME HOST[:PORT] [--key FINGERPRINT]", N_("name a peer to sync with (kept in node.yaml)"),
	  vl_cmd_peer_add },
	{ "peer list", "[--json] | --lan [--wait SECONDS] [--json]",
	  N_("list the peers of node.yaml; --lan: the nodes of this network announcing themselves on the LAN "
	  "(a claim the handshake checks)"), vl_cmd_peer_list_or_lan },
	{ "status", "[--json]", N_("each peer's last success, last error and what is waiting to go to it"),
	  vl_cmd_status },
	{ "ui", "[--listen 127.0.0.1:PORT] [--no-open] [--allow-remote] [--passphrase-file F]",
	  N_("serve the local web interface; prints the address to open (with its one-time token) first"),
	  vl_cmd_ui },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_help(FILE *f)
{
	size_t i;

	fputs(_("usage: vledger [-C HOME] [--operator NAME] COMMAND [ARGS]\n\n"
			"vledger keeps village, township and county ledgers as signed YAML records\n"
			"in a git repository. HOME defaults to $VLEDGER_HOME or ~/.local/share/vledger.\n\n"
			"commands:\n"), f);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-24s %s\n", commands[i].name, _(commands[i].help));
	fputs(_("\n'vledger help COMMAND' (or 'vledger COMMAND --help') shows a command's arguments.\n"
			"exit codes: 0 ok, 1 error, 2 usage, 3 conflicts left for a person, 4 verification failed\n"), f);
}

/* The command named by argv[arg] (and argv[arg + 1] for two-word names,
 * the longest match: "roster add" before "roster"); *words gets how many
 * words it took. NULL if none. */
static const vl_command *find_command(int argc, char **argv, int arg, size_t *words)
{
	const vl_command *best = NULL;
	size_t i, best_words = 0;

	for (i = 0; i < NCOMMANDS; i++) {
		const char *name = commands[i].name, *sp = strchr(name, ' ');
		if (sp) {
			size_t l1 = (size_t)(sp - name);
			if (arg + 1 < argc && strlen(argv[arg]) == l1 && !strncmp(argv[arg], name, l1) &&
					!strcmp(argv[arg + 1], sp + 1) && best_words < 2) {
				best = &commands[i];
				best_words = 2;
			}
		} else if (!strcmp(argv[arg], name) && best_words < 1) {
			best = &commands[i];
			best_words = 1;
		}
	}
	*words = best_words;
	return best;
}

static void print_command_help(const vl_command *c)
{
	/* TRANSLATORS: 1: the command, 2: its arguments (as they are), 3: what it does. */
	printf(_("usage: vledger %s %s\n%s\n"), c->name, c->usage, _(c->help));
}

/* `vledger help` lists the commands; `vledger help COMMAND` shows one (and
 * `vledger help roster` every "roster ..." command). */
static int help_command(int argc, char **argv, int arg)
{
	const vl_command *c;
	size_t i, words, shown = 0;

	if (arg >= argc) {
		print_help(stdout);
		return VL_EXIT_OK;
	}
	if ((c = find_command(argc, argv, arg, &words))) {
		print_command_help(c);
		return VL_EXIT_OK;
	}
	for (i = 0; i < NCOMMANDS; i++) {
		size_t l = strlen(argv[arg]);

		if (!strncmp(commands[i].name, argv[arg], l) && commands[i].name[l] == ' ') {
			print_command_help(&commands[i]);
			shown++;
		}
	}
	if (shown)
		return VL_EXIT_OK;
	fprintf(stderr, _("vledger: no command '%s'; 'vledger help' lists the commands\n"), argv[arg]);
	return VL_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	vl_cli cli = { NULL };
	const vl_command *best = NULL;
	size_t i, best_words = 0;
	int arg = 1, rc;

	setlocale(LC_CTYPE, "C.UTF-8");
	vl_i18n_init();
	while (arg < argc && argv[arg][0] == '-') {
		if (!strcmp(argv[arg], "-C") && arg + 1 < argc) {
			cli.home = argv[arg + 1];
			arg += 2;
		} else if (!strcmp(argv[arg], "--operator") && arg + 1 < argc) {
			cli.operator_name = argv[arg + 1];
			arg += 2;
		} else if (!strcmp(argv[arg], "--help") || !strcmp(argv[arg], "-h")) {
			print_help(stdout);
			return VL_EXIT_OK;
		} else if (!strcmp(argv[arg], "--version")) {
			printf("vledger 0.1.0\n");
			return VL_EXIT_OK;
		} else {
			fprintf(stderr, _("vledger: unknown option '%s'\n\n"), argv[arg]);
			print_help(stderr);
			return VL_EXIT_USAGE;
		}
	}
	if (arg >= argc) {
		print_help(stderr);
		return VL_EXIT_USAGE;
	}
	if (!strcmp(argv[arg], "help"))
		return help_command(argc, argv, arg + 1);
	best = find_command(argc, argv, arg, &best_words);
	if (!best) {
		if (arg + 1 < argc)
			fprintf(stderr, _("vledger: unknown command '%s' '%s'; 'vledger --help' lists the commands\n"),
					argv[arg], argv[arg + 1]);
		else
			fprintf(stderr, _("vledger: unknown command '%s'; 'vledger --help' lists the commands\n"),
					argv[arg]);
		return VL_EXIT_USAGE;
	}
	arg += (int)best_words;
	/* --operator NAME may also follow the command (every command that
	 * commits takes it): taken out here, before the command parses. */
	for (i = (size_t)arg; i + 1 < (size_t)argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--operator")) {
			cli.operator_name = argv[i + 1];
			memmove(&argv[i], &argv[i + 2], (size_t)(argc - (int)i - 2) * sizeof(*argv));
			argc -= 2;
			argv[argc] = NULL;
			i--;
		}
	}
	for (i = (size_t)arg; i < (size_t)argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			print_command_help(best);
			return VL_EXIT_OK;
		}
	}
	/* Output for programs is never translated: with --json (or --format
	 * json) every message, those inside the JSON and those on stderr, is
	 * the English a script was written against (docs/formats.md). */
	for (i = (size_t)arg; i < (size_t)argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "--format=json") ||
				(!strcmp(argv[i], "--format") && i + 1 < (size_t)argc && !strcmp(argv[i + 1], "json"))) {
			vl_i18n_set_lang("en");
			break;
		}
	}
	rc = best->fn(best, &cli, argc - arg, argv + arg);
	git_libgit2_shutdown();
	return rc;
}
