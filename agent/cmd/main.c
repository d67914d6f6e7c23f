/* main.c - vledger's entry point: global options and the command table. */
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cmd/cli.h"
#include "store/repo.h"

static const vl_command commands[] = {
	{ "init", "--name NAME --role ROLE --scope CODE12 (--new-network | --network FILE) [--passphrase-file F]",
	  "create a node home: key, repository, and (county) a new network; --network takes network.key from beside FILE",
	  vl_cmd_init },
	{ "key", "", "print this node's public key and fingerprint", vl_cmd_key },
	{ "roster add", "--name N --role R --scope CODE12 --key \"ssh-ed25519 ...\"",
	  "add a key to the roster (admins only; a signed commit on config)", vl_cmd_roster_add },
	{ "roster list", "[--json]", "list the keys of the roster", vl_cmd_roster_list },
	{ "roster revoke", "FINGERPRINT --reason TEXT [--passphrase-file F]",
	  "revoke a key: its later writes are refused, earlier ones stay valid (admins only)", vl_cmd_roster_revoke },
	{ "roster approve", "FILE [--passphrase-file F]",
	  "approve a request: key rotation (add the new key, revoke the old) or join (add the invited key); admins only",
	  vl_cmd_roster_approve },
	{ "invite", "--role R --scope CODE12 --name N [--expires HOURS] [--address HOST:PORT] [--source PATH] [--no-qr]",
	  "print a one-time invitation for a new node, as a line and a QR code", vl_cmd_invite },
	{ "join", "TOKEN [--name N] [--passphrase-file F] [--no-fetch]",
	  "create this node from an invitation and write the join request the inviter approves", vl_cmd_join },
	{ "key rotate", "[--output FILE] [--finish] [--passphrase-file F]",
	  "make a new key pair for this node and retire the old one", vl_cmd_key_rotate },
	{ "export allowed-signers", "[--output FILE] [--revocations FILE]",
	  "write the allowed_signers file for git and ssh-keygen", vl_cmd_export_allowed_signers },
	{ "export network", "[--output FILE]",
	  "write network.yaml (and, with --output, the network key as network.key beside it), for 'vledger init --network'",
	  vl_cmd_export_network },
	{ "schema list", "[--json]", "list the ledgers and their labels", vl_cmd_schema_list },
	{ "schema show", "NAME [--json]", "show a ledger's fields, types and rules", vl_cmd_schema_show },
	{ "schema check", "FILE...", "check schema files, reporting every error with file:line:column",
	  vl_cmd_schema_check },
	{ "add", "SCHEMA [--scope CODE12] (--set FIELD=VALUE... | --file F)",
	  "add a record; prints its id", vl_cmd_add },
	{ "import", "SCHEMA --file F [--scope CODE12] [--batch N]",
	  "add many records from a YAML list, N per signed commit (default 500)", vl_cmd_import },
	{ "edit", "ID [--set FIELD=VALUE...] [--unset FIELD...]", "change a record", vl_cmd_edit },
	{ "rm", "ID --reason TEXT", "delete a record (a tombstone; history keeps it)", vl_cmd_rm },
	{ "show", "ID [--json] [--reveal]", "show a record (personal fields masked unless --reveal)",
	  vl_cmd_show },
	{ "list", "SCHEMA [--scope CODE12] [--where FIELD=VALUE...] [--deleted] [--json] [--reveal]",
	  "list the records of a ledger", vl_cmd_list },
	{ "log", "[--scope CODE12] [--record ID] [--json]", "show the history of a branch", vl_cmd_log },
	{ "history", "ID [--json] [--reveal]",
	  "every version of a record field by field: signer, commit, merge rules", vl_cmd_history },
	{ "blame", "ID [--json] [--reveal]", "which version set each field's current value", vl_cmd_blame },
	{ "audit export", "--format html|json [--scope CODE12] [--from DATE --to DATE] [--output FILE] [--reveal]",
	  "an offline audit report: changes, signers, merge rules, conflicts, verification", vl_cmd_audit_export },
	{ "verify", "[--scope CODE12] [--since REV] [--quiet]",
	  "verify every commit and record on every branch; exit 4 on any failure", vl_cmd_verify },
	{ "merge", "REF [--scope CODE12]",
	  "merge another head of its scope branch into ours, verified first (exit 3: fields left for a person; 4: refused)",
	  vl_cmd_merge },
	{ "conflicts", "[--scope CODE12] [--duplicates] [--json] [--reveal]",
	  "list fields a merge left for a person, or records that share a natural key", vl_cmd_conflicts },
	{ "resolve", "ID FIELD (--take N | --value V)", "settle a conflict with a signed edit", vl_cmd_resolve },
	{ "join-records", "KEEP OTHER", "join two records of one person: fields by the merge rules, OTHER deleted",
	  vl_cmd_join_records },
	{ "incidents", "[--json]", "list keys caught signing two histories (evidence kept under refs/evidence/)",
	  vl_cmd_incidents },
	{ "fetch", "SOURCE [--no-merge]",
	  "bring config and the scope branches we may read from another node's repo.git (a path): verified "
	  "in a quarantine, then merged", vl_cmd_fetch },
	{ "bundle create", "FILE|DIR [--for PEER | --scope CODE12] [--full] [--seal-to FP|PEER]",
	  "write a git bundle of what a peer may read and has not acknowledged (a USB stick's load), "
	  "optionally sealed to one key", vl_cmd_bundle_create },
	{ "bundle apply", "FILE|DIR [--no-merge] [--passphrase-file F]",
	  "take a bundle (or every bundle in a directory meant for this node) through the receive path",
	  vl_cmd_bundle_apply },
	/* Network sync (cmd_net.c). HOOK (h-remote): one `sync` / `pull` entry
	 * each; the command asks "is NAME a git remote?" first (cmd_net.c). */
	{ "serve", "[--listen ADDR:PORT] [--sync-every DURATION] [--max-sessions N] [--idle-timeout S] "
	  "[--max-bytes N] [--passphrase-file F]",
	  "serve this node to its roster peers over the secret handshake; with --sync-every also sync with "
	  "node.yaml's peers on that schedule", vl_cmd_serve },
	{ "sync", "(PEER | --lan [--wait SECONDS]) [--json] [--timeout S] [--passphrase-file F]",
	  "exchange what each side may read with a peer (HOST[:PORT] or a peer name), both directions in one "
	  "session; --lan: with every roster peer announcing itself on the LAN", vl_cmd_sync_or_lan },
	{ "pull", "PEER [--json] [--timeout S] [--passphrase-file F]",
	  "receive what this node may read from a peer, sending nothing", vl_cmd_pull },
	{ "peer add", "NAME HOST[:PORT] [--key FINGERPRINT]", "name a peer to sync with (kept in node.yaml)",
	  vl_cmd_peer_add },
	{ "peer list", "[--json] | --lan [--wait SECONDS] [--json]",
	  "list the peers of node.yaml; --lan: the nodes of this network announcing themselves on the LAN "
	  "(a claim the handshake checks)", vl_cmd_peer_list_or_lan },
	{ "status", "[--json]", "each peer's last success, last error and what is waiting to go to it",
	  vl_cmd_status },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_help(FILE *f)
{
	size_t i;

	fprintf(f, "usage: vledger [-C HOME] COMMAND [ARGS]\n\n"
			"vledger keeps village, township and county ledgers as signed YAML records\n"
			"in a git repository. HOME defaults to $VLEDGER_HOME or ~/.local/share/vledger.\n\n"
			"commands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-24s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n'vledger COMMAND --help' shows a command's arguments.\n"
			"exit codes: 0 ok, 1 error, 2 usage, 3 conflicts left for a person, 4 verification failed\n");
}

int main(int argc, char **argv)
{
	vl_cli cli = { NULL };
	const vl_command *best = NULL;
	size_t i, best_words = 0;
	int arg = 1, rc;

	setlocale(LC_CTYPE, "C.UTF-8");
	while (arg < argc && argv[arg][0] == '-') {
		if (!strcmp(argv[arg], "-C") && arg + 1 < argc) {
			cli.home = argv[arg + 1];
			arg += 2;
		} else if (!strcmp(argv[arg], "--help") || !strcmp(argv[arg], "-h")) {
			print_help(stdout);
			return VL_EXIT_OK;
		} else if (!strcmp(argv[arg], "--version")) {
			printf("vledger 0.1.0\n");
			return VL_EXIT_OK;
		} else {
			fprintf(stderr, "vledger: unknown option '%s'\n\n", argv[arg]);
			print_help(stderr);
			return VL_EXIT_USAGE;
		}
	}
	if (arg >= argc) {
		print_help(stderr);
		return VL_EXIT_USAGE;
	}
	/* Longest match of one or two words ("roster add" before "roster"). */
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
	if (!best) {
		fprintf(stderr, "vledger: unknown command '%s'", argv[arg]);
		if (arg + 1 < argc)
			fprintf(stderr, " '%s'", argv[arg + 1]);
		fprintf(stderr, "; 'vledger --help' lists the commands\n");
		return VL_EXIT_USAGE;
	}
	arg += (int)best_words;
	for (i = (size_t)arg; i < (size_t)argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: vledger %s %s\n%s\n", best->name, best->usage, best->help);
			return VL_EXIT_OK;
		}
	}
	rc = best->fn(best, &cli, argc - arg, argv + arg);
	git_libgit2_shutdown();
	return rc;
}
