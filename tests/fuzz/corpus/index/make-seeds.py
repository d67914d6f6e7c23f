#!/usr/bin/env python3
"""Seeds for fuzz_index (the record index file, agent/node/idindex.c):
accept-* are well-formed files, reject-* each break one rule. Run from
this directory: python3 make-seeds.py"""
import hashlib, struct

def h(data, n):
    return hashlib.blake2b(data, digest_size=n).digest()

def build(branches, ledgers, entries, fix=lambda e: e, raw_sort=True):
    """entries: (id16, branch, ledger); sorted by the writer's order."""
    if raw_sort:
        entries = sorted(entries, key=lambda e: (e[0][15], e[0], e[1], e[2]))
    ent = b"".join(i + struct.pack("<HH", b, l) for i, b, l in entries)
    starts, k, i = [], 0, 0
    for k in range(257):
        while i < len(entries) and entries[i][0][15] < k:
            i += 1
        starts.append(len(entries) if k == 256 else i)
    head = b"VLIDX\0\0\1" + struct.pack("<IIII", len(branches), len(ledgers), len(entries), 0)
    for scope, oid in branches:
        head += scope + oid
    for name in ledgers:
        head += name.ljust(32, b"\0")
    head += b"".join(struct.pack("<I", s) for s in starts)
    head += b"".join(h(ent[starts[k] * 20:starts[k + 1] * 20], 16) for k in range(256))
    head += h(head, 32)
    return head + ent

B = [(b"500243001001", bytes(range(20))), (b"500243001002", bytes(range(1, 21)))]
L = [b"household", b"zone"]
ids = [bytes([1, 0x8a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]),
       bytes([1, 0x8b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]),
       bytes([1, 0x8c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 200])]
E = [(ids[0], 0, 1), (ids[1], 1, 0), (ids[2], 0, 0), (ids[2], 1, 1)]

def put(name, data):
    with open(name, "wb") as f:
        f.write(data)

put("accept-empty", build([], [], []))
good = build(B, L, E)
put("accept-small", good)
put("reject-truncated", good[:-1])
put("reject-longer", good + b"\0")
flipped = bytearray(good); flipped[-3] ^= 1
put("reject-entry-checksum", bytes(flipped))
hdr = bytearray(good); hdr[30] ^= 1
put("reject-header-checksum", bytes(hdr))
unordered = sorted(E, key=lambda e: (e[0][15], e[0], e[1], e[2]))
unordered[0], unordered[1] = unordered[1], unordered[0]
put("reject-unordered", build(B, L, unordered, raw_sort=False))
put("reject-duplicate-entry", build(B, L, E + [E[0]]))
put("reject-branch-out-of-range", build(B, L, [(ids[0], 2, 0)]))
put("reject-ledger-out-of-range", build(B, L, [(ids[0], 0, 2)]))
put("reject-ledger-name", build(B, [b"Zone"], []))
put("reject-ledger-twice", build(B, [b"zone", b"zone"], []))
put("reject-branches-unordered", build(list(reversed(B)), L, []))
put("reject-branch-nul", build([(b"50024300100\0", bytes(20))], L, []))
put("reject-magic", b"VLIDX\0\0\2" + good[8:])
put("reject-ledger-padding", build(B, [b"zone\0x"], []))
