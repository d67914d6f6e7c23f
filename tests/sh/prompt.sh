#!/usr/bin/env bash
# The passphrase prompt (issue 12): a sealed key with no passphrase file and
# no VLEDGER_PASSPHRASE_FILE is unlocked by asking on the terminal, echo off.
# Driven through a real pseudo-terminal (tests/ptydrive.c): what is typed is
# never in the transcript, a wrong passphrase is refused and changes
# nothing, ^C leaves the terminal as it was, and files and the environment
# variable still work. Synthetic data only.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
: "${PTYDRIVE:?set PTYDRIVE to the ptydrive test tool}"
vl_workdir prompt
C() { "$VLEDGER" -C "$w/county" "$@"; }
V() { "$VLEDGER" -C "$w/village" "$@"; }
# drive STEP... -- ARGS: run vledger -C village ARGS on a pty; $out is the
# transcript, $res the driver's "exit=N echo=on|off".
drive() {
	local steps=() a
	while [ "$1" != "--" ]; do steps+=("$1"); shift; done
	shift
	out=$("$PTYDRIVE" -t 30 "${steps[@]}" -- "$VLEDGER" -C "$w/village" "$@" 2>"$w/drive.err")
	local rc=$?
	res=$(tail -1 "$w/drive.err")
	[ "$rc" -eq 0 ] || bad "ptydrive failed ($rc): $(cat "$w/drive.err") :: $out"
}
ADD=(add resident --set name=张三 --set residence_kind=registered --set address=x --set source=self_report)

# The driver's transcript does show echoed input: the negative control for
# every "not echoed" check below.
out=$("$PTYDRIVE" -x "?" -s "visible words" -- sh -c 'printf "?"; read x; echo "read $x"' 2>/dev/null)
contains "visible words"; contains "read visible words"

expect 0 C init --name 彭水县民政局 --role county --scope 500243000000 --new-network
expect 0 C export network --output "$w/network.yaml"
printf 'correct horse\n' > "$w/pass"
expect 0 V init --name 鼓楼社区 --role village --scope 500243001001 --network "$w/network.yaml" --passphrase-file "$w/pass"
expect 0 C roster add --name 鼓楼社区 --role village --scope 500243001001 --key "$(V key | head -1)"
expect 0 V fetch "$w/county/repo.git"

# Not a terminal, no passphrase: the clear error, nothing written.
before=$(refs village)
expect 1 V "${ADD[@]}" </dev/null
contains "passphrase-file"; contains "VLEDGER_PASSPHRASE_FILE"
[ "$(refs village)" = "$before" ] && ok || bad "refused add moved a ref"

# On a terminal: asked, not echoed, saved.
drive -x "Passphrase for this node's key" -s "correct horse" -- "${ADD[@]}"
[ "$res" = "ptydrive: exit=0 echo=on" ] && ok || bad "prompted add: $res :: $out"
lacks "correct horse"
[ "$(refs village)" != "$before" ] && ok || bad "prompted add wrote nothing"

# Wrong twice: refused, nothing changed, neither passphrase shown.
before=$(refs village); keybefore=$(sha256sum "$w/village/keys/node.key")
drive -x "Passphrase for this node's key" -s "wrong horse" -x "try again" -s "wrong pony" -- "${ADD[@]}"
[ "$res" = "ptydrive: exit=1 echo=on" ] && ok || bad "wrong passphrase: $res :: $out"
contains "wrong passphrase"; lacks "wrong horse"; lacks "wrong pony"
[ "$(refs village)" = "$before" ] && ok || bad "refused add moved a ref"
[ "$(sha256sum "$w/village/keys/node.key")" = "$keybefore" ] && ok || bad "node.key changed"

# Wrong once, then right: asked once more, saved.
drive -x "Passphrase for this node's key" -s "wrong horse" -x "try again" -s "correct horse" -- "${ADD[@]}"
[ "$res" = "ptydrive: exit=0 echo=on" ] && ok || bad "second try: $res :: $out"
lacks "horse"
[ "$(refs village)" != "$before" ] && ok || bad "second try wrote nothing"

# ^C at the prompt: killed by SIGINT, the terminal's echo back on, nothing written.
before=$(refs village)
drive -x "Passphrase for this node's key" -i -- "${ADD[@]}"
[ "$res" = "ptydrive: exit=130 echo=on" ] && ok || bad "^C at the prompt: $res :: $out"
[ "$(refs village)" = "$before" ] && ok || bad "interrupted add moved a ref"

# End of input (^D) or an empty line: refused, nothing written.
drive -x "Passphrase for this node's key" -d -- "${ADD[@]}"
[ "$res" = "ptydrive: exit=1 echo=on" ] && ok || bad "^D at the prompt: $res :: $out"
contains "no passphrase given"
drive -x "Passphrase for this node's key" -s "" -- "${ADD[@]}"
[ "$res" = "ptydrive: exit=1 echo=on" ] && ok || bad "empty passphrase: $res :: $out"
[ "$(refs village)" = "$before" ] && ok || bad "refused add moved a ref"

# The file and the environment variable still work, and win over the
# prompt even on a terminal.
drive -- "${ADD[@]}" --passphrase-file "$w/pass"
[ "$res" = "ptydrive: exit=0 echo=on" ] && ok || bad "--passphrase-file on a tty: $res :: $out"
lacks "Passphrase for"
VLEDGER_PASSPHRASE_FILE=$w/pass drive -- "${ADD[@]}"
[ "$res" = "ptydrive: exit=0 echo=on" ] && ok || bad "VLEDGER_PASSPHRASE_FILE on a tty: $res :: $out"
lacks "Passphrase for"
expect 0 V "${ADD[@]}" --passphrase-file "$w/pass" </dev/null

# Commands that do not need the key never ask.
drive -- list resident
[ "$res" = "ptydrive: exit=0 echo=on" ] && ok || bad "list on a tty: $res :: $out"
lacks "Passphrase"

# key rotate seals the new key with the current passphrase, asked and
# checked: a wrong one writes no new key.
drive -x "Passphrase for this node's key" -s "correct horse" -x "seal the new key" -s "wrong horse" -- key rotate --output "$w/req.yaml"
[ "$res" = "ptydrive: exit=1 echo=on" ] && ok || bad "rotate, wrong second passphrase: $res :: $out"
[ ! -e "$w/village/keys/node.key.next" ] && ok || bad "a refused rotation left a new key"
drive -x "Passphrase for this node's key" -s "correct horse" -x "seal the new key" -s "correct horse" -- key rotate --output "$w/req.yaml"
[ "$res" = "ptydrive: exit=0 echo=on" ] && ok || bad "rotate by prompt: $res :: $out"
lacks "horse"
grep -q sealed "$w/village/keys/node.key.next" && ok || bad "the new key is not sealed"

echo "prompt: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
