#!/usr/bin/env python3
"""Seeds of fuzz_packread (tests/fuzz/corpus/packread/): a pack and its v2
index, written byte by byte, as the target reads them: 4 bytes (big-endian)
of index length, the index, the pack. accept-* open and read every id;
reject-* do not. Usage: python3 tests/fuzz/packread_seeds.py tests/fuzz/corpus/packread
"""
import hashlib
import os
import struct
import sys
import zlib

BLOB, OFS, REF = 3, 6, 7
TIB = 1 << 40
CI_SIZE = 0x16383b1c84 - 1  # what libgit2 asked calloc for in CI, less its +1


def header(t, size):
    out = bytearray()
    c = (t & 7) << 4 | (size & 15)
    size >>= 4
    while size:
        out.append(c | 0x80)
        c = size & 0x7f
        size >>= 7
    out.append(c)
    return bytes(out)


def ofs(back):
    out = [back & 127]
    back >>= 7
    while back:
        back -= 1
        out.insert(0, 128 | (back & 127))
        back >>= 7
    return bytes(out)


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append(0x80 | (v & 0x7f))
        v >>= 7
    out.append(v)
    return bytes(out)


def copy(off, n):
    op, args = 0x80, bytearray()
    for i in range(4):
        if (off >> (8 * i)) & 0xff:
            op |= 1 << i
            args.append((off >> (8 * i)) & 0xff)
    for i in range(3):
        if (n >> (8 * i)) & 0xff:
            op |= 0x10 << i
            args.append((n >> (8 * i)) & 0xff)
    return bytes([op]) + bytes(args)


def insert(s):
    return bytes([len(s)]) + s


def blob_id(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).digest()


def fake_id(name):
    return blob_id(name.encode())


class Pack:
    def __init__(self, count):
        self.b = bytearray(b"PACK" + struct.pack(">II", 2, count))
        self.objs = []  # (id, offset, crc)

    def entry(self, oid, t, size, body):
        off = len(self.b)
        self.b += header(t, size) + body
        self.objs.append((oid, off, zlib.crc32(self.b[off:])))
        return off

    def seed(self, count_in_idx=None):
        pack = bytes(self.b) + hashlib.sha1(self.b).digest()
        objs = sorted(self.objs)
        idx = bytearray(b"\377tOc" + struct.pack(">I", 2))
        for i in range(256):
            idx += struct.pack(">I", sum(1 for o in objs if o[0][0] <= i))
        for o in objs:
            idx += o[0]
        for o in objs:
            idx += struct.pack(">I", o[2])
        for o in objs:
            idx += struct.pack(">I", o[1])
        idx += pack[-20:]
        idx += hashlib.sha1(idx).digest()
        return struct.pack(">I", len(idx)) + bytes(idx) + pack


BASE = (b"id: 01HV0000000000000000000000\nkind: zone\nzone_no: Z1\n"
        b"designation: sealed\narea: the north bank of the river\nstatus: active\n")


def good_chain():
    assert BASE[67:73] == b"sealed"
    r1 = BASE[:67] + b"lifted" + BASE[73:]
    r2 = r1 + b"lifted_at: 2022-05-01\n"
    d1 = varint(len(BASE)) + varint(len(r1)) + copy(0, 67) + insert(b"lifted") + copy(73, len(BASE) - 73)
    d2 = varint(len(r1)) + varint(len(r2)) + copy(0, len(r1)) + insert(b"lifted_at: 2022-05-01\n")
    p = Pack(3)
    b0 = p.entry(blob_id(BASE), BLOB, len(BASE), zlib.compress(BASE))
    at = len(p.b)
    p.entry(blob_id(r1), OFS, len(d1), ofs(at - b0) + zlib.compress(d1))
    p.entry(blob_id(r2), REF, len(d2), blob_id(r1) + zlib.compress(d2))
    return p


def ci_crash():
    # An earlier blob holding, stored verbatim, bytes that read as a ~95 GB
    # blob header; an OFS_DELTA pointing at them.
    content = b"zone record, part one: " + header(BLOB, CI_SIZE) + b" part two\n"
    p = Pack(2)
    p.entry(blob_id(content), BLOB, len(content), zlib.compress(content, 0))
    target = bytes(p.b).index(header(BLOB, CI_SIZE))
    d = varint(4) + varint(4) + copy(0, 4)
    at = len(p.b)
    p.entry(fake_id("mid"), OFS, len(d), ofs(at - target) + zlib.compress(d))
    return p


def main(out):
    seeds = {}
    seeds["accept-good-chain"] = good_chain().seed()
    seeds["reject-ci-crash"] = ci_crash().seed()
    p = Pack(1)
    p.entry(fake_id("big"), BLOB, TIB, zlib.compress(b"hi"))
    seeds["reject-blob-1tib"] = p.seed()
    p = Pack(2)
    b0 = p.entry(blob_id(BASE), BLOB, len(BASE), zlib.compress(BASE))
    d = varint(len(BASE)) + varint(TIB) + copy(0, 2)
    at = len(p.b)
    p.entry(fake_id("delta"), OFS, len(d), ofs(at - b0) + zlib.compress(d))
    seeds["reject-delta-result-1tib"] = p.seed()
    p = Pack(2)
    d = varint(1) + varint(1) + copy(0, 1)
    p.entry(fake_id("a"), REF, len(d), fake_id("b") + zlib.compress(d))
    p.entry(fake_id("b"), REF, len(d), fake_id("a") + zlib.compress(d))
    seeds["reject-ref-cycle"] = p.seed()
    p = Pack(1)
    p.entry(fake_id("t5"), 5, 5, zlib.compress(b"hello"))
    seeds["reject-type-5"] = p.seed()
    p = good_chain()
    p.b[11] = 4  # the pack counts one more than its index
    seeds["reject-count-mismatch"] = p.seed()
    for name, data in seeds.items():
        assert len(data) < 4096, name
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1])
