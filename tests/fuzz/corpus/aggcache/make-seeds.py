#!/usr/bin/env python3
# Seeds for fuzz_aggcache: files in the format cache_save writes
# (agent/ops/aggregate.c): a header line, then per entry
# "<tree oid> <digest hex32> <n> <v1..vn> <blake2b-64 hex of the text before it>".
import hashlib
H = b"vledger-aggregate-cache 1\n"
def line(oid, dig, vals, corrupt=False):
    body = ("%s %s %d%s" % (oid, dig, len(vals), "".join(" %d" % v for v in vals))).encode()
    chk = hashlib.blake2b(body, digest_size=8).hexdigest().encode()
    if corrupt:
        body = body.replace(b" 1000000", b" 9000000")
    return body + b" " + chk + b"\n"
OID = "e40afc910c2a547674a60db44cfbb5b025fc03b3"
DIG = "00112233445566778899aabbccddeeff"
seeds = {
    "accept-header-only": H,
    "accept-two": H + line(OID, DIG, [1000000, 0, 2500000]) + line(OID[::-1], DIG, []),
    "accept-negative": H + line(OID, DIG, [-1500000]),
    "reject-checksum": H + line(OID, DIG, [1000000, 2], corrupt=True),
    "reject-header": b"vledger-aggregate-cache 2\n",
    "reject-truncated": (H + line(OID, DIG, [1000000]))[:-1],
    "reject-count": H + line(OID, DIG, [1, 2]).replace(b" 2 1 2 ", b" 3 1 2 "),
    "reject-too-many": H + line(OID, DIG, [0] * 4097),
    "reject-bad-oid": H + line("z" * 40, DIG, [1]),
    "reject-number": H + line(OID, DIG, [1]).replace(b" 1 1 ", b" 1 1x "),
    "reject-overflow": H + line(OID, DIG, [1]).replace(b" 1 1 ", b" 1 99999999999999999999 "),
}
for name, data in seeds.items():
    with open(name, "wb") as f:
        f.write(data)
