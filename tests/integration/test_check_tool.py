"""apiary-check, the offline log checker (persist/check_main.c), on log
files written here in Python with the record framing of persist/persist.h
(its own CRC32C, pinned by the same bytes as the C unit tests): clean logs
with every record kind, torn tails (cut records, a failing checksum at the
end, a file ending inside a transaction part) and their repair with --fix,
corruption in the middle (refused by --fix, salvaged by --fix --salvage),
VALUE records holding a real DUMP value from a running apiary-server (the
checker decodes values), bad values, compressed blocks of a snapshot
(made with the zstd command-line tool: expanded and counted; bad codecs,
lengths, streams, records and values inside are corruption at the block,
salvaged before it), several files, and usage errors.

The binary is looked for next to APIARY_SERVER.
"""
import os
import shutil
import struct
import subprocess

import pytest

from conftest import SERVER

CHECK = os.path.join(os.path.dirname(os.path.abspath(SERVER)), "apiary-check")

CMD, VALUE, DEL, TXN, ZBLOCK = 1, 2, 3, 4, 5
LZ4, ZSTD = 1, 2


@pytest.fixture(autouse=True)
def need_binary():
    if not os.access(CHECK, os.X_OK):
        pytest.skip("apiary-check not built next to %s" % SERVER)


# --- the record format ---------------------------------------------------------

def _crc_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
        table.append(c)
    return table


CRC_TABLE = _crc_table()


def crc32c(data, crc=0):
    """CRC32C (Castagnoli, reflected), zlib-style continuation."""
    c = crc ^ 0xFFFFFFFF
    for b in data:
        c = (c >> 8) ^ CRC_TABLE[(c ^ b) & 0xFF]
    return c ^ 0xFFFFFFFF


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def s(b):
    if isinstance(b, str):
        b = b.encode()
    return varint(len(b)) + b


def frame(payload):
    return struct.pack("<II", len(payload), crc32c(payload)) + payload


def rec_cmd(*args, db=0, txid=0):
    return frame(bytes([CMD]) + varint(txid) + varint(db) +
                 varint(len(args)) + b"".join(s(a) for a in args))


def rec_value(key, value, expire_ms=None, db=0, txid=0):
    ex = 0 if expire_ms is None else expire_ms + 1
    return frame(bytes([VALUE]) + varint(txid) + varint(db) + s(key) +
                 varint(ex) + value)


def rec_del(key, db=0, txid=0):
    return frame(bytes([DEL]) + varint(txid) + varint(db) + s(key))


def rec_txn(txid, shards, count):
    return frame(bytes([TXN]) + varint(txid) + varint(len(shards)) +
                 b"".join(varint(x) for x in shards) +
                 struct.pack("<I", count))


def str_value(b):
    """A string value in the serial format: type 0, STR, bytes."""
    return b"\x00\x00" + s(b)


def run(*args):
    p = subprocess.run([CHECK] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def write(tmp_path, data, name="shard-0.incr.1.log"):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def sample_log():
    """Every kind, a transaction part; returns (bytes, record offsets)."""
    recs = [
        rec_cmd("SET", "k", "v"),
        rec_cmd("HSET", "h", "f", "v", db=3),
        rec_value("s", str_value(b"hello"), expire_ms=1700000000000),
        rec_del("gone"),
        rec_txn(7, [0, 1], 2),
        rec_cmd("SET", "a", "1", txid=7),
        rec_del("b", txid=7),
        rec_cmd("INCR", "n"),
    ]
    offs, at = [], 0
    for r in recs:
        offs.append(at)
        at += len(r)
    return b"".join(recs), offs


# --- tests ---------------------------------------------------------------------

def test_crc_and_framing_match_the_c_encoder():
    assert crc32c(b"123456789") == 0xE3069283
    # The bytes test_log.c pins for the C encoder.
    assert rec_del("k") == bytes([0x05, 0, 0, 0, 0xef, 0x66, 0xac, 0xe6,
                                  0x03, 0x00, 0x00, 0x01, 0x6b])
    assert rec_txn(7, [0, 2], 1)[:8] == bytes([0x09, 0, 0, 0,
                                               0xe4, 0x83, 0x12, 0xe2])


def test_clean_log(tmp_path):
    data, _ = sample_log()
    path = write(tmp_path, data)
    rc, out, err = run(path)
    assert rc == 0, out + err
    assert out == ("%s: 8 records (CMD 4, VALUE 1, DEL 2, TXN 1) in %d "
                   "bytes\n%s: clean\n" % (path, len(data), path))


def test_empty_file_is_clean(tmp_path):
    path = write(tmp_path, b"")
    rc, out, _ = run(path)
    assert rc == 0
    assert out.endswith(": clean\n")


def test_every_cut_is_a_torn_tail_and_fix_truncates(tmp_path):
    data, offs = sample_log()
    ends = set(offs[1:])
    part_off, part_end = offs[4], offs[7]
    for cut in range(1, len(data)):
        path = write(tmp_path, data[:cut])
        rc, out, _ = run(path)
        inside_part = part_off < cut < part_end
        if cut in ends and not inside_part:
            assert rc == 0 and out.endswith(": clean\n"), (cut, out)
            continue
        assert rc == 1, (cut, out)
        start = max(o for o in offs if o <= cut)
        if cut in ends:
            start = cut
        assert "torn tail at offset %d:" % start in out, (cut, out)
        keep = part_off if inside_part else start
        rc, out, _ = run("--fix", path)
        assert rc == 0, (cut, out)
        assert ("truncated to %d bytes (%d bytes removed)" %
                (keep, cut - keep)) in out
        assert os.path.getsize(path) == keep
        rc, out, _ = run(path)
        assert rc == 0 and out.endswith(": clean\n")


def test_checksum_failing_in_last_record_is_torn(tmp_path):
    data, offs = sample_log()
    bad = bytearray(data)
    bad[-1] ^= 0x10
    path = write(tmp_path, bytes(bad))
    rc, out, _ = run(path)
    assert rc == 1
    assert ("torn tail at offset %d: checksum mismatch in the last record"
            % offs[-1]) in out
    assert "8 records" not in out and "7 records" in out


def test_corruption_in_the_middle(tmp_path):
    data, offs = sample_log()
    bad = bytearray(data)
    bad[offs[2] + 12] ^= 0x01  # inside the VALUE record's payload
    path = write(tmp_path, bytes(bad))
    rc, out, _ = run(path)
    assert rc == 1
    assert "corrupt at offset %d: checksum mismatch" % offs[2] in out
    # --fix alone leaves it alone.
    rc, out, _ = run("--fix", path)
    assert rc == 1
    assert ("not repaired: corruption before the end (--fix --salvage "
            "truncates to %d bytes, removing %d)" %
            (offs[2], len(data) - offs[2])) in out
    assert os.path.getsize(path) == len(data)
    rc, out, _ = run("--fix", "--salvage", path)
    assert rc == 0
    assert "truncated to %d bytes" % offs[2] in out
    assert os.path.getsize(path) == offs[2]
    rc, out, _ = run(path)
    assert rc == 0 and "2 records (CMD 2," in out


def test_corruption_inside_a_part_salvages_before_it(tmp_path):
    data, offs = sample_log()
    bad = bytearray(data)
    bad[offs[6] + 9] ^= 0x04  # the DEL inside the part
    path = write(tmp_path, bytes(bad))
    rc, out, _ = run(path)
    assert rc == 1
    assert "corrupt at offset %d" % offs[6] in out
    assert ("a transaction part is cut short: a repair keeps %d bytes"
            % offs[4]) in out
    rc, out, _ = run("--fix", "--salvage", path)
    assert rc == 0
    assert os.path.getsize(path) == offs[4]


def test_bad_fields_with_good_checksums(tmp_path):
    cases = [
        (frame(b"\x09\x00"), "unknown record kind"),
        (frame(bytes([DEL]) + b"\x80\x00" + varint(0) + s("k")),
         "varint not in shortest form"),
        (frame(bytes([CMD, 0]) + varint(0) + varint(0)),
         "command without arguments"),
        (frame(bytes([DEL, 0]) + varint(1024) + s("k")),
         "database out of range"),
        (rec_del("k", txid=5), "transaction record outside its part"),
        (frame(bytes([TXN]) + varint(3) + varint(2) + varint(4) +
               varint(4) + struct.pack("<I", 0)),
         "transaction shards not ascending"),
    ]
    for rec, why in cases:
        # Even as the last record: a good checksum means it is not torn.
        path = write(tmp_path, rec_del("first") + rec)
        rc, out, _ = run(path)
        assert rc == 1
        assert "corrupt at offset %d: %s" % (len(rec_del("first")), why) \
            in out, out


def test_values_are_decoded(tmp_path, server):
    # A real value from the server: DUMP without its 10-byte footer.
    server.hset("h", mapping={"f%d" % i: "v%d" % i for i in range(5)})
    server.rpush("l", *range(300))
    good = [rec_value(k, server.dump(k)[:-10]) for k in ("h", "l")]
    path = write(tmp_path, b"".join(good))
    rc, out, _ = run(path)
    assert rc == 0, out
    assert "2 records (CMD 0, VALUE 2, DEL 0, TXN 0)" in out
    # An unknown type byte; a hash listpack with an odd element count.
    bad_type = rec_value("x", b"\x09\x00\x01a")
    bad_hash = rec_value("x", server.dump("h")[:-10][:-4] + b"\xff")
    for bad in (bad_type, bad_hash):
        path = write(tmp_path, good[0] + bad + good[1])
        rc, out, _ = run(path)
        assert rc == 1
        assert "corrupt at offset %d:" % len(good[0]) in out, out
        assert "1 records (CMD 0, VALUE 1," in out


def test_several_files_worst_status(tmp_path):
    data, _ = sample_log()
    clean = write(tmp_path, data, "a.log")
    torn = write(tmp_path, data[:-2], "b.log")
    rc, out, _ = run(clean, torn)
    assert rc == 1
    assert "a.log: clean" in out and "b.log: torn tail" in out
    rc, out, err = run(clean, str(tmp_path / "missing.log"))
    assert rc == 2
    assert "missing.log: No such file or directory" in err
    rc, _, err = run(str(tmp_path))
    assert rc == 2 and "not a regular file" in err


def test_usage(tmp_path):
    path = write(tmp_path, b"")
    for args in ([], ["--salvage", path], ["--bogus", path], ["--fix"]):
        rc, _, err = run(*args)
        assert rc == 2, args
        assert "usage: apiary-check" in err
    rc, out, _ = run("--help")
    assert rc == 0 and "usage: apiary-check" in out
    rc, out, _ = run("--", path)
    assert rc == 0


# --- compressed blocks (base snapshots) ------------------------------------------

def rec_zblock(codec, raw_len, data, txid=0):
    return frame(bytes([ZBLOCK]) + varint(txid) + bytes([codec]) +
                 varint(raw_len) + data)


def zstd_frame(raw):
    p = subprocess.run(["zstd", "-q", "-c", "-3"], input=raw,
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout


def doc_records(n, start=0):
    return b"".join(
        rec_value("doc:%d" % i, str_value(
            b'{"id":%d,"name":"user%d","on":true}' % (i, i % 50)))
        for i in range(start, start + n))


@pytest.fixture
def need_zstd():
    if shutil.which("zstd") is None:
        pytest.skip("the zstd command-line tool is not installed")


def test_compressed_blocks_are_expanded(tmp_path, need_zstd):
    raw = doc_records(300)
    z = zstd_frame(raw)
    assert len(z) < len(raw) // 3
    data = doc_records(1) + rec_zblock(ZSTD, len(raw), z) + \
        doc_records(1, 1000)
    path = write(tmp_path, data, "shard-0.base.1.snap")
    rc, out, err = run(path)
    assert rc == 0, out + err
    assert out == ("%s: 302 records (CMD 0, VALUE 302, DEL 0, TXN 0) in %d "
                   "bytes\n%s: 300 records in 1 compressed blocks of %d "
                   "bytes\n%s: clean\n" % (path, len(data), path, len(raw),
                                           path))


def test_bad_compressed_blocks(tmp_path, need_zstd):
    raw = doc_records(200)
    z = zstd_frame(raw)
    first = doc_records(1)
    inner_bad_crc = bytearray(raw)
    inner_bad_crc[len(doc_records(1)) + 12] ^= 0x01
    inner_bad_value = doc_records(3) + rec_value("x", b"\x09\x00\x01a") + \
        doc_records(100, 3)
    cases = [
        (rec_zblock(7, len(raw), z), "unknown compression codec"),
        (rec_zblock(ZSTD, 1024 * 1024 + 1, z),
         "compressed block longer than AP_PERSIST_ZBLOCK_RAW_MAX"),
        (rec_zblock(ZSTD, len(raw), z, txid=3),
         "compressed block with a txid"),
        (rec_zblock(ZSTD, len(raw) - 1, z), "compressed block: bad zstd data"),
        (rec_zblock(ZSTD, len(raw) + 1, z),
         "compressed block: fewer bytes than its raw length"),
        (rec_zblock(LZ4, len(raw), z), "compressed block: bad lz4 data"),
        (rec_zblock(ZSTD, len(raw), zstd_frame(bytes(inner_bad_crc))),
         "compressed block: bad record at byte %d of its %d: checksum "
         "mismatch" % (len(doc_records(1)), len(raw))),
        (rec_zblock(ZSTD, len(inner_bad_value),
                    zstd_frame(inner_bad_value)),
         "compressed block: bad value at byte %d of it:" %
         len(doc_records(3))),
    ]
    for block, why in cases:
        data = first + block + doc_records(1, 500)
        path = write(tmp_path, data, "shard-0.base.1.snap")
        rc, out, _ = run(path)
        assert rc == 1, out
        assert "corrupt at offset %d: %s" % (len(first), why) in out, \
            (why, out)
        rc, out, _ = run("--fix", "--salvage", path)
        assert rc == 0, out
        assert os.path.getsize(path) == len(first)
        rc, out, _ = run(path)
        assert rc == 0 and "1 records (CMD 0, VALUE 1," in out, out
