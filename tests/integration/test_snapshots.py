"""Forkless snapshots and log rewrites (docs/persistence.md, shards/psnap.c)
with a real apiary-server restarted on the same data directory:

1. BGREWRITEAOF of every type, then more writes: a restart restores all
   of it; the manifest names one base and one log per shard, and the old
   files are gone;
2. a snapshot is one instant: MULTI/EXEC transfers between accounts on
   every shard run while BGSAVE walks a big keyspace (appendonly no);
   after kill -9 only the snapshot survives, and the sum is exact;
3. SAVE, LASTSAVE and INFO persistence; save rules start a snapshot by
   themselves;
4. kill -9 while rewrites run under appendfsync always: every
   acknowledged write survives;
5. bad arguments answer errors; a second BGSAVE while one runs is refused
   and BGSAVE SCHEDULE queues one;
6. snapshot-compression: BGSAVE then a restart with each codec (no, lz4,
   zstd), the restart under another setting (loading never depends on
   it), CONFIG SET between saves switching what the next base holds and
   shrinking it; a damaged compressed block (bad checksum, or a good
   checksum over bad compressed bytes) refuses the start naming the file
   and the block's offset, and apiary-check --fix --salvage keeps the
   records before it.
"""
import json
import os
import random
import struct
import subprocess
import threading
import time

import pytest
import redis

from conftest import Server, cmd, key_on
from test_check_tool import CHECK, crc32c
from test_persistence import (DataDir, assert_same, dump, kill9, manifest,
                              populate, shutdown)

ZBLOCK = 5
CODECS = {1: "lz4", 2: "zstd"}


@pytest.fixture
def ddir(tmp_path):
    d = DataDir(tmp_path / "data")
    os.makedirs(d.path)
    yield d
    d.stop_all()


def dump_loaded(s):
    """dump(s), with a short string's raw encoding read as embstr: values
    loaded from a snapshot are stored afresh (as Redis does after loading
    an RDB), so a string SETRANGE made raw comes back embstr."""
    out = {}
    for k, (t, enc, v, exp) in dump(s).items():
        if t == "string" and enc == b"raw" and len(v) <= 44:
            enc = b"embstr"
        out[k] = (t, enc, v, exp)
    return out


def start_plain(d, shards, extra=()):
    """A server on d without the log (snapshots only)."""
    s = Server("--dir", d.path, *[str(a) for a in extra], shards=shards)
    s.nshards = shards
    d.servers.append(s)
    return s


def wait_idle(c, timeout=30):
    """Waits until no snapshot or rewrite runs."""
    end = time.time() + timeout
    while time.time() < end:
        info = c.info("persistence")
        if not info["rdb_bgsave_in_progress"] and \
                not info["aof_rewrite_in_progress"]:
            return info
        time.sleep(0.02)
    raise AssertionError("a snapshot still runs after %d s" % timeout)


def fill(c, n, prefix="fill", size=64):
    pipe = c.pipeline(transaction=False)
    for i in range(n):
        pipe.set("%s:%d" % (prefix, i), "x" * size)
        if i % 1000 == 999:
            pipe.execute()
    pipe.execute()


@pytest.mark.parametrize("shards", [1, 3])
def test_bgrewriteaof_then_restart(ddir, shards):
    s = ddir.start(shards)
    names = populate(s)
    assert names
    c = s.client()
    assert c.bgrewriteaof() in (True, b"Background append only file "
                                      b"rewriting started")
    info = wait_idle(c)
    assert info["aof_last_bgrewrite_status"] == "ok"
    assert info["aof_rewrites"] >= 1
    c.set("after-rewrite", "yes")
    c.rpush("after-list", *range(50))
    c.close()
    nshards, files = manifest(ddir)
    assert nshards == shards
    for i in range(shards):
        mine = sorted(f for f in files if f.startswith("shard-%d." % i))
        assert len(mine) == 2 and mine[0].startswith("shard-%d.base." % i) \
            and mine[1].startswith("shard-%d.incr." % i), mine
        assert mine[0].split(".")[2] == mine[1].split(".")[2], mine
    present = sorted(f for f in os.listdir(ddir.aof) if f != "manifest")
    assert present == sorted(files), (present, files)
    before = dump_loaded(s)
    shutdown(s, "sigterm")
    s = ddir.start(shards)
    assert_same(before, dump_loaded(s), "after BGREWRITEAOF and a restart")
    # A second rewrite over the first one, and a restart again.
    c = s.client()
    c.bgrewriteaof()
    wait_idle(c)
    c.close()
    shutdown(s, "shutdown")
    s = ddir.start(shards)
    assert_same(before, dump_loaded(s), "after a second rewrite")


def test_snapshot_is_one_instant(ddir):
    """Transfers keep the sum of the accounts constant; BGSAVE runs while
    they do, over enough keys that its walk spans many ticks. The
    snapshot alone (the server is killed, there is no log) must hold a
    state where the sum is exact."""
    shards = 2
    s = start_plain(ddir, shards)
    c = s.client()
    fill(c, 60000)
    accounts = ["acct:%d:%s" % (i, key_on(i % shards, "a%d" % i, shards))
                for i in range(16)]
    for a in accounts:
        c.set(a, 1000)
    total = 1000 * len(accounts)
    stop = threading.Event()
    errors = []

    def transfer(seed):
        import random
        rnd = random.Random(seed)
        w = s.client()
        try:
            while not stop.is_set():
                a, b = rnd.sample(accounts, 2)
                p = w.pipeline(transaction=True)
                p.decrby(a, 7)
                p.incrby(b, 7)
                p.execute()
        except Exception as e:  # reported below
            errors.append(repr(e))
        finally:
            w.close()

    threads = [threading.Thread(target=transfer, args=(i,))
               for i in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    c.bgsave()
    info = wait_idle(c)
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors
    assert info["rdb_last_bgsave_status"] == "ok"
    c.close()
    kill9(s)
    s = start_plain(ddir, shards)
    c = s.client()
    vals = [int(v) for v in c.mget(accounts)]
    assert sum(vals) == total, "sum %d in the snapshot, want %d (%s)" % (
        sum(vals), total, vals)
    assert c.dbsize() == 60000 + len(accounts)
    c.close()


def test_save_lastsave_and_save_rules(ddir):
    s = start_plain(ddir, 2, extra=("--save", "1 1"))
    c = s.client()
    t0 = c.lastsave()
    c.set("a", "1")
    # The save rule (1 change in 1 second) snapshots by itself.
    end = time.time() + 5
    while time.time() < end and c.info("persistence")["rdb_saves"] == 0:
        time.sleep(0.05)
    info = c.info("persistence")
    assert info["rdb_saves"] >= 1, info
    c.set("b", "2")
    assert c.save() is True
    assert c.lastsave() >= t0
    assert c.info("persistence")["rdb_changes_since_last_save"] >= 0
    c.close()
    kill9(s)
    s = start_plain(ddir, 3)  # another shard count, from bases only
    c = s.client()
    assert c.mget("a", "b") == [b"1", b"2"]
    c.close()
    _, files = manifest(ddir)
    assert all(".base." in f for f in files), files


def test_kill9_during_rewrites(ddir):
    for rnd in range(3):
        s = ddir.start(2)
        c = s.client()
        acked = []
        stop = threading.Event()

        def writer():
            w = s.client()
            i = 0
            try:
                while not stop.is_set():
                    k = "r%d:%d" % (rnd, i)
                    w.set(k, k)
                    acked.append(k)
                    i += 1
            except redis.ConnectionError:
                pass
            finally:
                w.close()

        t = threading.Thread(target=writer)
        t.start()
        fill(c, 20000, prefix="f%d" % rnd)
        try:
            c.bgrewriteaof()
            time.sleep(0.05 + 0.1 * rnd)
        except redis.ResponseError:
            pass  # one still runs: fine
        c.close()
        kill9(s)
        stop.set()
        t.join()
        s = ddir.start(2)
        c = s.client()
        missing = [k for k, v in zip(acked, c.mget(acked) if acked else [])
                   if v != k.encode()]
        assert not missing, "%d acknowledged writes lost, e.g. %s" % (
            len(missing), missing[:5])
        c.close()
        shutdown(s, "sigterm")


def test_bad_arguments_and_busy(ddir):
    s = start_plain(ddir, 2)
    c = s.client()
    with pytest.raises(redis.ResponseError, match="syntax error"):
        c.execute_command("BGSAVE", "NOW")
    with pytest.raises(redis.ResponseError, match="wrong number"):
        c.execute_command("SAVE", "x")
    with pytest.raises(redis.ResponseError, match="wrong number"):
        c.execute_command("LASTSAVE", "x")
    # 200 MB in big values: the snapshot takes a while to write.
    fill(c, 2000, prefix="big", size=100000)
    # Pipelined on a raw socket (redis-py turns any BGSAVE reply into
    # True): the second and third arrive while the first runs.
    sock = s.connect()
    sock.sendall(cmd("BGSAVE") + cmd("BGSAVE") + cmd("BGSAVE", "SCHEDULE"))
    want = (b"+Background saving started\r\n"
            b"-ERR Background save already in progress\r\n"
            b"+Background saving scheduled\r\n")
    got = b""
    end = time.time() + 10
    while len(got) < len(want) and time.time() < end:
        got += sock.recv(4096)
    sock.close()
    assert got == want, got
    end = time.time() + 30
    while time.time() < end and c.info("persistence")["rdb_saves"] < 2:
        time.sleep(0.05)
    assert c.info("persistence")["rdb_saves"] >= 2
    wait_idle(c)
    c.close()


# --- compressed snapshots ------------------------------------------------------


def base_paths(d):
    """The base snapshot files the manifest names."""
    _, files = manifest(d)
    return [os.path.join(d.aof, f) for f in files if ".base." in f]


def top_records(path):
    """[(offset, size, codec or None)] of a file's top-level records: a
    ZBLOCK's codec, None for a plain record."""
    with open(path, "rb") as f:
        data = f.read()
    out, off = [], 0
    while off < len(data):
        n, _ = struct.unpack_from("<II", data, off)
        assert off + 8 + n <= len(data), "%s: torn at %d" % (path, off)
        kind = data[off + 8]
        codec = CODECS.get(data[off + 10]) if kind == ZBLOCK else None
        if kind == ZBLOCK:
            assert data[off + 9] == 0 and codec, (path, off)
        out.append((off, 8 + n, codec))
        off += 8 + n
    return out


def codecs_in(d):
    """The set of codecs of every block of the current bases (empty: no
    block at all), and their total size."""
    found, size = set(), 0
    for p in base_paths(d):
        size += os.path.getsize(p)
        found |= {c for _, _, c in top_records(p) if c}
    return found, size


def fill_mixed(c, n, prefix="m"):
    """n JSON-like documents (compressible) and n/10 random 100-byte hex
    strings (not much), as a cache or a session store holds."""
    rnd = random.Random(7)
    pipe = c.pipeline(transaction=False)
    for i in range(n):
        doc = {"id": i, "user": "user%d" % (i % 5000), "active": i % 3 == 0,
               "email": "user%d@example.com" % i, "tags": ["a", "b"],
               "score": i * 7 % 1000}
        pipe.set("%s:doc:%d" % (prefix, i), json.dumps(doc))
        if i % 10 == 0:
            pipe.set("%s:rnd:%d" % (prefix, i),
                     "%032x" % rnd.getrandbits(128) * 3)
        if i % 1000 == 999:
            pipe.execute()
    pipe.execute()


def bgsave(c):
    c.bgsave()
    info = wait_idle(c)
    assert info["rdb_last_bgsave_status"] == "ok", info


def check_clean(path):
    r = subprocess.run([CHECK, path], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


@pytest.mark.parametrize("codec,then", [("no", "zstd"), ("lz4", "no"),
                                        ("zstd", "lz4")])
def test_codec_bgsave_and_restart(ddir, codec, then):
    s = start_plain(ddir, 2, extra=("--snapshot-compression", codec))
    populate(s)
    c = s.client()
    assert c.config_get("snapshot-compression") == \
        {"snapshot-compression": codec}
    fill_mixed(c, 20000)
    bgsave(c)
    found, _ = codecs_in(ddir)
    assert found == (set() if codec == "no" else {codec}), found
    for p in base_paths(ddir):
        out = check_clean(p)
        assert ("compressed blocks" in out) == (codec != "no"), out
    c.close()
    before = dump_loaded(s)
    kill9(s)
    # Another setting at the restart: each block names its codec.
    s = start_plain(ddir, 2, extra=("--snapshot-compression", then))
    assert_same(before, dump_loaded(s), "after a %s snapshot" % codec)
    c = s.client()
    assert c.config_get("snapshot-compression") == \
        {"snapshot-compression": then}
    c.close()


def test_config_set_switches_the_codec(ddir):
    s = start_plain(ddir, 1, extra=("--snapshot-compression", "no"))
    c = s.client()
    fill_mixed(c, 30000)
    bgsave(c)
    found, size_no = codecs_in(ddir)
    assert found == set()
    sizes = {}
    for codec, level in (("lz4", 1), ("zstd", 1), ("zstd", 6)):
        assert c.config_set("snapshot-compression", codec)
        assert c.config_set("snapshot-compression-level", level)
        c.set("written-under", "%s-%d" % (codec, level))
        bgsave(c)
        found, sizes[(codec, level)] = codecs_in(ddir)
        assert found == {codec}, (codec, found)
    assert sizes[("lz4", 1)] < size_no * 0.6, (size_no, sizes)
    assert sizes[("zstd", 1)] < sizes[("lz4", 1)], sizes
    assert sizes[("zstd", 6)] <= sizes[("zstd", 1)] * 1.02, sizes
    with pytest.raises(redis.ResponseError):
        c.config_set("snapshot-compression", "gzip")
    with pytest.raises(redis.ResponseError):
        c.config_set("snapshot-compression-level", 20)
    c.close()
    before = dump_loaded(s)
    kill9(s)
    s = start_plain(ddir, 1, extra=("--snapshot-compression", "no"))
    assert_same(before, dump_loaded(s), "zstd base loaded under 'no'")
    c = s.client()
    assert c.get("written-under") == b"zstd-6"
    c.close()


def saved_blocks(ddir, n=30000):
    """A one-shard lz4 base of n documents; the server is gone. Returns
    the base's path and its top-level records."""
    s = start_plain(ddir, 1, extra=("--snapshot-compression", "lz4"))
    c = s.client()
    fill_mixed(c, n)
    bgsave(c)
    c.close()
    kill9(s)
    (path,) = base_paths(ddir)
    recs = top_records(path)
    assert sum(1 for r in recs if r[2]) >= 3, recs[:5]
    return path, recs


def salvage_and_restart(ddir, path, off):
    """apiary-check reports the block at off, --fix --salvage cuts there,
    and a start loads what is left: only good documents."""
    r = subprocess.run([CHECK, path], capture_output=True, text=True)
    assert r.returncode == 1 and "corrupt at offset %d:" % off in r.stdout, \
        r.stdout + r.stderr
    r = subprocess.run([CHECK, "--fix", "--salvage", path],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert os.path.getsize(path) == off
    out = check_clean(path)
    kept = int(out.split(": ")[1].split()[0])
    assert kept > 0
    s = start_plain(ddir, 1)
    c = s.client()
    assert c.dbsize() == kept
    for k in c.scan_iter("m:doc:*", count=1000):
        i = int(k.split(b":")[2])
        assert json.loads(c.get(k))["id"] == i
    c.close()


def test_corrupt_block_refused_and_salvaged(ddir):
    path, recs = saved_blocks(ddir)
    off, size, _ = [r for r in recs if r[2]][1]
    with open(path, "r+b") as f:
        f.seek(off + size // 2)
        b = f.read(1)
        f.seek(off + size // 2)
        f.write(bytes([b[0] ^ 0x08]))
    rc, out = ddir.start_fails(1)
    assert rc != 0, out
    assert os.path.basename(path) in out and "offset %d" % off in out, out
    assert "checksum mismatch" in out, out
    salvage_and_restart(ddir, path, off)


def test_bad_compressed_bytes_with_a_good_checksum(ddir):
    """A block whose checksum matches bytes that do not decompress to its
    records (what a writer bug would leave): refused all the same."""
    path, recs = saved_blocks(ddir)
    off, size, _ = [r for r in recs if r[2]][1]
    with open(path, "r+b") as f:
        f.seek(off)
        rec = bytearray(f.read(size))
        payload = rec[8:]
        for i in range(40, 60):  # inside the lz4 stream
            payload[i] ^= 0x55
        rec[4:8] = struct.pack("<I", crc32c(bytes(payload)))
        rec[8:] = payload
        f.seek(off)
        f.write(rec)
    rc, out = ddir.start_fails(1)
    assert rc != 0, out
    assert os.path.basename(path) in out and "offset %d" % off in out, out
    assert "compressed block" in out, out
    salvage_and_restart(ddir, path, off)
