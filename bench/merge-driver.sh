#!/bin/sh
# bench/merge-driver.sh - the git merge driver of `vl_bench merge`
# (bench/README.md): a small stand-in for a schema-aware driver of vledger
# record files, registered for stock git as
#
#   git config merge.vledger.driver 'sh bench/merge-driver.sh %O %A %B'
#   echo '*.yaml merge=vledger' >> info/attributes
#
# and run by git once per file that both sides changed. It merges the lines
# of the record's `data:` map field by field, three-way (base %O, ours %A,
# theirs %B): one side changed a field -> take it; both made the same
# change -> take it; both changed it differently -> a flow set `[a, b]` is
# merged as a three-way set (vledger's `union`), anything else goes to the
# later `clock` (then the larger author: vledger's `lww`). Field order is
# the sides' order (the schema's). The result, written to %A, has the
# sides' schema/id/scope, the later clock, `author: merge` and `prev: []`:
# it is not signed and its prev does not name the parents' blob ids (that
# would need two more processes per file), so only its `data` is
# comparable with vledger's merge. Tombstones, `conflicts:` sections and
# the max/sum/order/manual/hook rules are not modelled: such a file exits 1
# (git then reports a conflict). No python, one sh and one awk process.
LC_ALL=C
export LC_ALL
exec awk -v out="$2" '
FNR == 1 { f++; sect = "" }
/^[^ ]/ {                               # a top-level key
	k = $0; sub(/:.*/, "", k); sect = k
	if (k == "deleted" || k == "conflicts") bad = 1
	if (k != "data") top[f, k] = substr($0, length(k) + 3)
	next
}
sect == "data" && /^  [^ ]/ {           # a data field
	k = substr($0, 3); sub(/:.*/, "", k); cur = k
	nk[f]++; key[f, nk[f]] = k; val[f, k] = $0
	next
}
sect == "data" { val[f, cur] = val[f, cur] "\n" $0 }   # continuation lines
function get(s, k) { return ((s, k) in val) ? val[s, k] : "\001" }
function isset(v) { return v == "\001" || (index(v, "\n") == 0 && v ~ /^  [^ :]+: \[[^]]*\]$/) }
function items(v, arr,   s, n, i, parts) {
	for (i in arr) delete arr[i]
	if (v == "\001") return 0
	s = v; sub(/^[^[]*\[/, "", s); sub(/\]$/, "", s)
	n = split(s, parts, /, /)
	for (i = 1; i <= n; i++) if (parts[i] != "") arr[parts[i]] = 1
	return n
}
# Both sides changed field k differently: the field rule.
function conflict(k, o, a, b,   ob, ab, bb, x, res, n, i, j, t, line) {
	if (isset(o) && isset(a) && isset(b)) {   # union
		items(o, ob); items(a, ab); items(b, bb)
		n = 0
		for (x in ab) if ((x in bb) || !(x in ob)) res[++n] = x
		for (x in bb) if (!(x in ab) && !(x in ob)) res[++n] = x
		for (i = 2; i <= n; i++)          # insertion sort, bytewise (LC_ALL=C)
			for (j = i; j > 1 && res[j - 1] > res[j]; j--) { t = res[j]; res[j] = res[j - 1]; res[j - 1] = t }
		if (n == 0 && (a == "\001" || b == "\001")) return "\001"
		line = "  " k ": ["
		for (i = 1; i <= n; i++) line = line (i > 1 ? ", " : "") res[i]
		return line "]"
	}
	if (top[3, "clock"] > top[2, "clock"] || \
	    (top[3, "clock"] == top[2, "clock"] && top[3, "author"] > top[2, "author"]))
		return b                              # lww
	return a
}
END {
	if (f != 3 || bad || !((2, "clock") in top) || !((3, "clock") in top)) exit 1
	clock = top[3, "clock"] > top[2, "clock"] ? top[3, "clock"] : top[2, "clock"]
	printf "schema: %s\nid: %s\nscope: %s\nclock: %s\nauthor: merge\nprev: []\ndata:\n", \
		top[2, "schema"], top[2, "id"], top[2, "scope"], clock > out
	i = 1; j = 1
	while (i <= nk[2] || j <= nk[3]) {       # the union of both orders
		if (i <= nk[2] && j <= nk[3] && key[2, i] == key[3, j]) { k = key[2, i]; i++; j++ }
		else if (j <= nk[3] && !((2, key[3, j]) in val)) { k = key[3, j]; j++ }
		else if (i <= nk[2]) { k = key[2, i]; i++ }
		else { k = key[3, j]; j++ }
		if (k in done) continue
		done[k] = 1
		o = get(1, k); a = get(2, k); b = get(3, k)
		if (a == b) r = a
		else if (a == o) r = b
		else if (b == o) r = a
		else r = conflict(k, o, a, b)
		if (r != "\001") print r > out
	}
	close(out)
}
' "$1" "$2" "$3"
