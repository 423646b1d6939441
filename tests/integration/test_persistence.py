"""Persistence (issue 6, docs/persistence.md) end to end, with a real
apiary-server started again and again on the same data directory:

1. a clean restart (SHUTDOWN or SIGTERM) restores every type, encoding,
   database and TTL, including what multi-shard commands (RENAME, COPY,
   MSET, SORT STORE, ZUNIONSTORE, MULTI/EXEC), time- or chance-dependent
   commands (INCRBYFLOAT, SPOP, EXPIRE, GETEX) and blocking pops served by
   a later push wrote; shard counts 1 and 3, and the epoll reactor;
2. a restart with another shard count redistributes the data (new
   manifest, old files removed);
   a start with another shard count that runs out of disk space fails
   and leaves the old data set whole;
3. kill -9 at random moments under appendfsync always while 4 writers run
   (io_uring and epoll in turn): every acknowledged write survives,
   nothing never written appears, and multi-shard writes (MSET, and
   MULTI/EXEC in a test of its own) are all or nothing;
4. damaged files: a torn tail (truncated, or refused with
   aof-load-truncated no), a flipped byte in the middle (refused with the
   file and offset named, then repaired by apiary-check --fix --salvage),
   one shard's part of a multi-shard MSET lost (the other part dropped
   too), a missing manifest (must be refused, not silently emptied);
5. a full disk (tmpfs) and a file size limit (prlimit): MISCONF for
   writes and PING, reads work, writes resume once there is room,
   nothing acknowledged is lost;
6. appendfsync everysec and no, CONFIG SET appendfsync at runtime,
   CONFIG SET appendonly at run time, appenddirname.

Runs as root for the tmpfs mount (skipped otherwise) and prlimit.
APIARY_SEED changes the kill -9 timings.
"""
import os
import random
import socket
import struct
import subprocess
import threading
import time

import pytest
import redis

from conftest import SERVER, Server, cmd, key_on, shard_of

CHECK = os.path.join(os.path.dirname(os.path.abspath(SERVER)), "apiary-check")
AOF_DIR = "appendonlydir"
MISCONF = "MISCONF Errors writing to the AOF file: "


# --- servers on one data directory -------------------------------------------


class DataDir:
    """A data directory and the servers started on it, one after another;
    every server still running at teardown is stopped and must exit 0."""

    def __init__(self, path):
        self.path = str(path)
        self.servers = []

    @property
    def aof(self):
        return os.path.join(self.path, AOF_DIR)

    def args(self, fsync="always", extra=()):
        return ["--appendonly", "yes", "--dir", self.path,
                "--appendfsync", fsync] + [str(a) for a in extra]

    def start(self, shards, fsync="always", reactor=None, extra=()):
        s = Server(*self.args(fsync, extra), shards=shards, reactor=reactor)
        s.nshards = shards
        self.servers.append(s)
        return s

    def start_fails(self, shards, fsync="always", extra=(), timeout=15):
        """Starts a server that must refuse to start; returns (exit status,
        output). A server that starts anyway is killed and reported."""
        argv = [SERVER, "--port", "0", "--bind", "127.0.0.1",
                "--shards", str(shards)] + self.args(fsync, extra)
        p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        try:
            out, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
            raise AssertionError(
                "the server started although it should have refused:\n"
                + out.decode(errors="replace"))
        out = out.decode(errors="replace")
        return p.returncode, out

    def stop_all(self):
        errors = []
        for s in self.servers:
            if getattr(s, "killed", False):
                continue
            try:
                s.stop()
            except AssertionError as e:
                errors.append(str(e))
        assert not errors, "\n".join(errors)


@pytest.fixture
def ddir(tmp_path):
    d = DataDir(tmp_path / "data")
    os.makedirs(d.path)
    yield d
    d.stop_all()


def kill9(s):
    """Kills a server with SIGKILL and reaps it."""
    s.proc.kill()
    s.proc.wait()
    s.log.close()
    s.killed = True


def shutdown(s, how):
    """Stops s with the SHUTDOWN command or SIGTERM; it must exit 0."""
    if how == "shutdown":
        c = s.client()
        try:
            c.execute_command("SHUTDOWN")
        except redis.ConnectionError:
            pass
        c.close()
        s.proc.wait(timeout=30)
    s.stop()
    assert s.proc.returncode == 0, s.read_log()[-5000:]


def keys_on(shard, prefix, n, shards):
    """n keys named prefix:N that the given shard owns."""
    out, i = [], 0
    while len(out) < n:
        k = "%s:%d" % (prefix, i)
        if shard_of(k, shards) == shard:
            out.append(k)
        i += 1
    return out


def manifest(d):
    """(nshards, [file names]) of the data directory's manifest."""
    with open(os.path.join(d.aof, "manifest")) as f:
        lines = f.read().split("\n")
    head = lines[0].split()
    assert head[0] == "apiary-manifest", "manifest header: %r" % lines[0]
    names = [ln.split()[-1] for ln in lines[1:] if ln.strip()]
    return int(head[2]), names


def records(path):
    """The (offset, length) of every framed record of a log file; the file
    must end on a record boundary."""
    with open(path, "rb") as f:
        data = f.read()
    out, off = [], 0
    while off < len(data):
        assert off + 8 <= len(data), "%s: torn header at %d" % (path, off)
        n, _crc = struct.unpack_from("<II", data, off)
        assert off + 8 + n <= len(data), "%s: torn record at %d" % (path, off)
        out.append((off, 8 + n))
        off += 8 + n
    return out


# --- a full dump of every database -------------------------------------------


def dump(s):
    """{(db, key): (type, encoding, content, pexpiretime)} of every key."""
    c0 = s.client()
    ndb = int(c0.config_get("databases")["databases"])
    c0.close()
    out = {}
    for db in range(ndb):
        c = s.client(db=db)
        for k in c.scan_iter(count=500):
            t = c.type(k).decode()
            if t == "string":
                v = c.get(k)
            elif t == "list":
                v = c.lrange(k, 0, -1)
            elif t == "hash":
                v = sorted(c.hgetall(k).items())
            elif t == "set":
                v = sorted(c.smembers(k))
            elif t == "zset":
                v = c.zrange(k, 0, -1, withscores=True)
            else:
                v = "unexpected type"
            enc = c.object("encoding", k)
            exp = c.execute_command("PEXPIRETIME", k)
            out[(db, k)] = (t, enc, v, exp)
        c.close()
    return out


def short(v, n=160):
    r = repr(v)
    return r if len(r) <= n else r[:n] + "..."


def assert_same(before, after, what):
    """The two dumps are equal; otherwise lists the first differences."""
    if before == after:
        return
    diffs = []
    for k in sorted(set(before) | set(after), key=repr):
        b, a = before.get(k), after.get(k)
        if b == a:
            continue
        line = "  db %d key %r:\n    before: %s\n    after:  %s" % (
            k[0], k[1], short(b), short(a))
        if b and a and isinstance(b[2], list) and isinstance(a[2], list):
            only_b = [x for x in b[2] if x not in a[2]]
            only_a = [x for x in a[2] if x not in b[2]]
            line += "\n    only before: %s\n    only after: %s" % (
                short(only_b), short(only_a))
        diffs.append(line)
    raise AssertionError("%s: %d keys differ (%d before, %d after):\n%s"
                         % (what, len(diffs), len(before), len(after),
                            "\n".join(diffs[:15])))


# --- a workload touching every type and every logged command form -----------


def wait_blocked(c, n, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if c.info("clients")["blocked_clients"] >= n:
            return
        time.sleep(0.01)
    raise AssertionError("no client blocked after %ss" % timeout)


def populate(s, tag="a"):
    """Writes a data set of every type, encoding and logged command form
    into s (keys spread over its shards). Returns {name: key} of the keys
    it made (for more_writes); the tests compare full dumps."""
    n = s.nshards
    c = s.client()
    names = {}

    def on(i, name):
        k = key_on(i % n, "%s:%s" % (tag, name), n)
        names.setdefault(name, k)
        return k

    # Junk in several databases, then FLUSHALL: none of it may come back.
    for db in (0, 3, 7):
        cj = s.client(db=db)
        cj.mset({"junk:%d:%d" % (db, i): i for i in range(20)})
        cj.rpush("junk:list", *range(10))
        cj.close()
    assert c.flushall() is True

    # Strings and numbers.
    c.set(on(0, "str"), "hello")
    c.append(on(0, "str"), " world")
    c.setrange(on(0, "str"), 0, "J")
    c.set(on(1, "int"), 100)
    c.incr(on(1, "int"))
    c.incrby(on(1, "int"), 41)
    c.decrby(on(1, "int"), 2)
    c.set(on(2, "float"), "10.5")
    c.incrbyfloat(on(2, "float"), 0.1)
    c.incrbyfloat(on(2, "float"), "1.5e3")
    c.incrbyfloat(on(0, "newfloat"), 3.0e-3)
    c.set(on(1, "big"), os.urandom(50000))
    c.setnx(on(2, "nx"), "first")
    c.setnx(on(2, "nx"), "second")
    c.getset(on(0, "gs"), "one")
    c.getset(on(0, "gs"), "two")
    c.set(on(1, "gone"), "x")
    c.getdel(on(1, "gone"))

    # Lists: small (listpack) and big (quicklist), edits in the middle.
    c.rpush(on(0, "lsmall"), "a", "b", "c")
    c.lpush(on(0, "lsmall"), "z")
    c.rpush(on(1, "lbig"), *["e%d" % i for i in range(300)])
    c.lpush(on(1, "lbig"), *["h%d" % i for i in range(50)])
    c.lset(on(1, "lbig"), 100, "set-in-middle")
    c.linsert(on(1, "lbig"), "BEFORE", "e150", "inserted")
    c.lrem(on(1, "lbig"), 0, "e7")
    c.ltrim(on(1, "lbig"), 5, -5)
    c.rpop(on(1, "lbig"), 3)
    c.lpop(on(1, "lbig"))
    c.rpush(on(2, "lmove-src"), *range(10))
    c.lmove(on(2, "lmove-src"), on(0, "lmove-dst"), "LEFT", "RIGHT")
    c.rpoplpush(on(2, "lmove-src"), on(1, "lmove-dst2"))
    c.rpush(on(2, "lbigval"), os.urandom(20000), "x" * 70)

    # Hashes: small (listpack), big (hashtable), float increments.
    c.hset(on(0, "hsmall"), mapping={"f%d" % i: "v%d" % i for i in range(10)})
    c.hdel(on(0, "hsmall"), "f3")
    c.hincrby(on(0, "hsmall"), "cnt", 7)
    c.hincrbyfloat(on(0, "hsmall"), "flt", 2.5)
    c.hincrbyfloat(on(0, "hsmall"), "flt", "0.1")
    c.hset(on(1, "hbig"),
           mapping={"f%d" % i: "v" * (i % 7) for i in range(300)})
    c.hsetnx(on(1, "hbig"), "f1", "no")
    c.hsetnx(on(1, "hbig"), "new", "yes")
    c.hset(on(2, "hlongval"), "f", "x" * 200)

    # Sets: intset, listpack, hashtable; SPOP and SMOVE.
    c.sadd(on(0, "sint"), *range(20))
    c.srem(on(0, "sint"), 5)
    c.sadd(on(1, "slp"), *["m%d" % i for i in range(20)])
    c.sadd(on(2, "sht"), *["member-%d" % i for i in range(400)])
    c.spop(on(2, "sht"), 5)
    c.spop(on(2, "sht"))
    c.spop(on(1, "slp"), 3)
    c.smove(on(1, "slp"), on(0, "smoved"), "m19")
    c.sadd(on(0, "sint-big"), *range(0, 3000, 3))

    # Sorted sets: listpack and skiplist.
    c.zadd(on(0, "zsmall"), {"a": 1, "b": 2.5, "c": -3, "d": 1e100})
    c.zincrby(on(0, "zsmall"), 0.25, "a")
    c.zrem(on(0, "zsmall"), "c")
    c.zadd(on(1, "zbig"), {"m%d" % i: i * 1.5 for i in range(300)})
    c.zpopmin(on(1, "zbig"), 2)
    c.zpopmax(on(1, "zbig"))
    c.zremrangebyscore(on(1, "zbig"), 100, 150)
    c.zadd(on(2, "zinf"), {"lo": float("-inf"), "hi": float("inf"), "z": 0})

    # TTLs in every form: each is logged as an absolute time.
    c.set(on(0, "ttl-ex"), "v", ex=100000)
    c.set(on(1, "ttl-px"), "v", px=5000000)
    c.setex(on(2, "ttl-setex"), 200000, "v")
    c.psetex(on(0, "ttl-psetex"), 3000000, "v")
    c.set(on(1, "ttl-expire"), "v")
    c.expire(on(1, "ttl-expire"), 300000)
    c.rpush(on(2, "ttl-pexpire"), "a", "b")
    c.pexpire(on(2, "ttl-pexpire"), 4000000)
    c.hset(on(0, "ttl-expireat"), "f", "v")
    c.expireat(on(0, "ttl-expireat"), int(time.time()) + 500000)
    c.set(on(1, "ttl-getex"), "v")
    c.getex(on(1, "ttl-getex"), ex=600000)
    c.set(on(2, "ttl-persist"), "v", ex=100)
    c.getex(on(2, "ttl-persist"), persist=True)
    c.set(on(0, "ttl-persist2"), "v", ex=100)
    c.persist(on(0, "ttl-persist2"))
    c.set(on(1, "ttl-keepttl"), "v", ex=700000)
    c.set(on(1, "ttl-keepttl"), "v2", keepttl=True)
    c.set(on(2, "ttl-past"), "v")
    c.pexpireat(on(2, "ttl-past"), int(time.time() * 1000) - 1000)

    # Multi-key commands across shards.
    c.mset({on(i, "mset"): "mset-%d" % i for i in range(3)})
    c.msetnx({on(i + 3, "msetnx"): "nx-%d" % i for i in range(3)})
    c.set(on(0, "ren-src"), "renamed", ex=800000)
    c.rename(on(0, "ren-src"), on(1, "ren-dst"))
    c.sadd(on(1, "renx-src"), "a", "b")
    c.renamenx(on(1, "renx-src"), on(2, "renx-dst"))
    c.zadd(on(2, "copy-src"), {"x": 1, "y": 2})
    c.copy(on(2, "copy-src"), on(0, "copy-dst"))
    c.copy(on(2, "copy-src"), on(1, "copy-db4"), destination_db=4)
    c.rpush(on(0, "sort-src"), 5, 3, 9, 1, 7)
    c.sort(on(0, "sort-src"), store=on(1, "sort-dst"))
    c.sort(on(0, "sort-src"), desc=True, start=1, num=3,
           store=on(2, "sort-dst2"))
    c.zadd(on(1, "zu1"), {"a": 1, "b": 2})
    c.zadd(on(2, "zu2"), {"b": 10, "c": 20})
    c.zunionstore(on(0, "zu-dst"), [on(1, "zu1"), on(2, "zu2")])
    c.zinterstore(on(1, "zi-dst"), {on(1, "zu1"): 2, on(2, "zu2"): 3})
    c.sadd(on(0, "su1"), "a", "b", "c")
    c.sadd(on(1, "su2"), "c", "d")
    c.sunionstore(on(2, "su-dst"), [on(0, "su1"), on(1, "su2")])
    c.sdiffstore(on(0, "sd-dst"), [on(0, "su1"), on(1, "su2")])
    c.delete(on(0, "su1"), on(1, "su2"), on(2, "nosuch"))
    c.unlink(on(0, "lsmall-unlinked"))

    # MULTI/EXEC across shards.
    p = c.pipeline(transaction=True)
    p.set(on(0, "tx-a"), "1")
    p.incr(on(1, "tx-b"))
    p.rpush(on(2, "tx-l"), "x", "y")
    p.expire(on(1, "tx-b"), 900000)
    p.hset(on(0, "tx-h"), "f", "v")
    p.delete(on(0, "tx-h"))
    p.execute()

    # A blocking pop served by a later push (logged as the pop it did).
    bk = on(n - 1, "blpop")
    box = {}
    cb = s.client()

    def blocked():
        box["v"] = cb.blpop(bk, 10)
    t = threading.Thread(target=blocked)
    t.start()
    wait_blocked(c, 1)
    c.rpush(bk, "first", "second")
    t.join(15)
    assert box.get("v") == (bk.encode(), b"first"), \
        "BLPOP served by RPUSH: got %r" % (box.get("v"),)
    cb.close()

    # Several databases, FLUSHDB and SWAPDB.
    for db in range(1, 6):
        cd = s.client(db=db)
        cd.set(on(db, "dbkey"), "in-db-%d" % db)
        cd.rpush(on(db + 1, "dblist"), *range(db))
        cd.set(on(db + 2, "dbttl"), "v", ex=1000000 + db)
        cd.close()
    c5 = s.client(db=5)
    c5.flushdb()
    c5.set("after-flushdb", "v")
    c5.close()
    c.swapdb(1, 2)
    c.close()
    return names


def more_writes(s, names):
    """A second round on top of populate(): changes to existing keys
    (names: what populate returned)."""
    c = s.client()

    def on(_i, name):
        return names[name]

    c.incrbyfloat(on(2, "float"), -0.25)
    c.rpush(on(1, "lbig"), *["more%d" % i for i in range(50)])
    c.hset(on(1, "hbig"), "f0", "changed")
    c.sadd(on(2, "sht"), "late")
    c.spop(on(2, "sht"), 10)
    c.zadd(on(1, "zbig"), {"m5": -1})
    c.delete(on(0, "str"))
    c.expire(on(1, "int"), 999999)
    c.rename(on(1, "ren-dst"), on(2, "sort-dst2") + ":renamed")
    c.swapdb(0, 3)
    c.close()


# --- 1. clean restarts -------------------------------------------------------


@pytest.mark.parametrize("shards,reactor",
                         [(1, None), (3, None), (3, "epoll")],
                         ids=["shards1", "shards3", "shards3-epoll"])
def test_restart_restores_everything(ddir, shards, reactor):
    s = ddir.start(shards, reactor=reactor)
    names = populate(s)
    before = dump(s)
    assert len(before) > 60, "the workload wrote only %d keys" % len(before)
    # A key whose 1 s TTL runs out while the server is down.
    c = s.client()
    c.set("short-ttl", "v", px=1000)
    c.set("short-ttl-list", "v")
    c.rpush("short-ttl-list2", "v")
    c.pexpire("short-ttl-list2", 1000)
    c.close()
    t_short = time.time()
    shutdown(s, "shutdown")

    time.sleep(max(0.0, t_short + 1.2 - time.time()))
    s = ddir.start(shards, reactor=reactor)
    c = s.client()
    assert c.exists("short-ttl", "short-ttl-list2") == 0, \
        "keys with a 1 s TTL came back after 1.2 s"
    assert c.get("short-ttl-list") == b"v"
    c.delete("short-ttl-list")
    c.close()
    after = dump(s)
    assert_same(before, after,
                "after SHUTDOWN and restart (%d shards)" % shards)

    # More writes appended to the same logs, then SIGTERM.
    more_writes(s, names)
    before = dump(s)
    shutdown(s, "sigterm")
    s = ddir.start(shards, reactor=reactor)
    assert_same(before, dump(s), "after SIGTERM and restart")

    # A restart with nothing written in between changes nothing.
    shutdown(s, "sigterm")
    s = ddir.start(shards, reactor=reactor)
    assert_same(before, dump(s), "after a restart without writes")


# --- 2. another shard count --------------------------------------------------


def check_files(d, nshards):
    """The manifest names nshards and exactly the files in the directory."""
    got, names = manifest(d)
    assert got == nshards, "manifest names %d shards, want %d" % (got, nshards)
    present = sorted(f for f in os.listdir(d.aof) if f != "manifest")
    assert present == sorted(names), \
        "files in %s: %s; the manifest names %s" % (d.aof, present, names)
    for i in range(nshards):
        assert any(n.startswith("shard-%d.incr." % i) for n in names), \
            "no log of shard %d in %s" % (i, names)


def test_shard_count_change(ddir):
    s = ddir.start(2)
    names = populate(s)
    before = dump(s)
    shutdown(s, "sigterm")
    check_files(ddir, 2)

    s = ddir.start(3)
    assert "redistributed" in s.read_log(), s.read_log()
    assert_same(before, dump(s), "2 shards -> 3")
    check_files(ddir, 3)
    more_writes(s, names)
    before = dump(s)
    shutdown(s, "sigterm")

    s = ddir.start(1)
    assert_same(before, dump(s), "3 shards -> 1")
    check_files(ddir, 1)
    c = s.client()
    c.set("after-reshard", "v")
    c.rpush(names["lbig"], "tail")
    c.close()
    before = dump(s)
    shutdown(s, "shutdown")

    s = ddir.start(1)
    assert_same(before, dump(s), "1 shard, a base snapshot plus its log")
    shutdown(s, "sigterm")
    s = ddir.start(2)
    assert_same(before, dump(s), "1 shard -> 2")
    check_files(ddir, 2)


# --- 3. kill -9 under appendfsync always -------------------------------------


class Writer:
    """One writer thread's model: what it attempted and what was
    acknowledged, for each of its write kinds. A plain writer does SET,
    INCR, RPUSH and a 2-shard MSET; a multi writer only MULTI/EXEC of
    INCRs of two keys on different shards."""

    def __init__(self, t, shards, multi=False):
        self.t = t
        self.multi = multi
        self.ctr = "w%d:ctr" % t
        self.list = "w%d:list" % t
        self.pair = (key_on(0, "w%d:pa" % t, shards),
                     key_on(shards - 1, "w%d:pb" % t, shards))
        self.txp = (key_on(shards - 1, "w%d:ta" % t, shards),
                    key_on(0, "w%d:tb" % t, shards))
        assert shards == 1 or shard_of(self.pair[0], shards) != \
            shard_of(self.pair[1], shards)
        self.sets = [0, 0]   # keys w<t>:s:<i> acked for i < [0]; tried < [1]
        self.ctr_n = [0, 0]  # INCR acked value, tried value
        self.list_n = [0, 0]  # RPUSH acked length, tried length
        self.pair_n = [0, 0]  # MSET pair value acked, tried
        self.tx_n = [0, 0]    # MULTI INCR pair value acked, tried
        self.error = None
        self.ops = 0

    def set_key(self, i):
        return "w%d:s:%d" % (self.t, i)

    def run(self, port):
        c = redis.Redis(host="127.0.0.1", port=port, socket_timeout=20)
        try:
            while self.multi:
                self.tx_n[1] = self.tx_n[0] + 1
                p = c.pipeline(transaction=True)
                p.incr(self.txp[0])
                p.incr(self.txp[1])
                r = p.execute()
                assert r == [self.tx_n[1]] * 2, "MULTI INCR INCR -> %r" % r
                self.tx_n[0] = self.tx_n[1]
                self.ops += 1
            while True:
                i = self.sets[0]
                self.sets[1] = i + 1
                assert c.set(self.set_key(i), "v%d" % i) is True
                self.sets[0] = i + 1

                self.ctr_n[1] = self.ctr_n[0] + 1
                v = c.incr(self.ctr)
                assert v == self.ctr_n[1], "INCR %s -> %d, want %d" % (
                    self.ctr, v, self.ctr_n[1])
                self.ctr_n[0] = v

                self.list_n[1] = self.list_n[0] + 1
                n = c.rpush(self.list, self.list_n[0])
                assert n == self.list_n[1], "RPUSH %s -> %d, want %d" % (
                    self.list, n, self.list_n[1])
                self.list_n[0] = n

                self.pair_n[1] = self.pair_n[0] + 1
                assert c.mset({k: self.pair_n[1] for k in self.pair}) is True
                self.pair_n[0] = self.pair_n[1]
                self.ops += 4
        except (redis.ConnectionError, redis.TimeoutError):
            pass  # the server was killed
        except Exception as e:  # reported by the test
            self.error = "writer %d: %r" % (self.t, e)
        finally:
            c.close()

    def verify(self, c, all_keys):
        """Checks the restarted server against the model, then makes the
        model what the server holds. Returns a list of problems."""
        bad = []
        t = self.t
        if self.multi:
            self.verify_pair(c, self.txp, "tx_n", "MULTI/EXEC", bad)
            return bad
        # SET keys: every acked one with its value; at most the one in
        # flight beyond; nothing else.
        mine = sorted(int(k.split(b":")[2]) for k in all_keys
                      if k.startswith(b"w%d:s:" % t))
        want = list(range(self.sets[0]))
        allowed = [want]
        if self.sets[1] > self.sets[0]:
            allowed.append(want + [self.sets[0]])
        if mine not in allowed:
            missing = sorted(set(want) - set(mine))
            extra = sorted(set(mine) - set(want))
            bad.append("writer %d SET keys: %d acked (one more tried: %s); "
                       "missing %s; unexpected %s" % (
                           t, self.sets[0], self.sets[1] > self.sets[0],
                           missing[:10], extra[:10]))
        for lo in range(0, len(mine), 500):
            ids = mine[lo:lo + 500]
            vals = c.mget([self.set_key(i) for i in ids])
            for i, v in zip(ids, vals):
                if v != b"v%d" % i:
                    bad.append("writer %d: GET %s = %r, want v%d"
                               % (t, self.set_key(i), v, i))
        self.sets = [len(mine), len(mine)]

        v = int(c.get(self.ctr) or 0)
        if not self.ctr_n[0] <= v <= self.ctr_n[1]:
            bad.append("writer %d: %s = %d, acked %d, tried %d"
                       % (t, self.ctr, v, *self.ctr_n))
        self.ctr_n = [v, v]

        lst = c.lrange(self.list, 0, -1)
        if lst != [b"%d" % i for i in range(len(lst))]:
            bad.append("writer %d: %s is not 0..%d in order: %s"
                       % (t, self.list, len(lst) - 1, short(lst, 300)))
        if not self.list_n[0] <= len(lst) <= self.list_n[1]:
            bad.append("writer %d: LLEN %s = %d, acked %d, tried %d"
                       % (t, self.list, len(lst), *self.list_n))
        self.list_n = [len(lst)] * 2
        self.verify_pair(c, self.pair, "pair_n", "MSET", bad)
        return bad

    def verify_pair(self, c, keys, model, what, bad):
        """Two keys written together: equal, between acked and tried."""
        a, b = c.mget(keys)
        acked, tried = getattr(self, model)
        if a != b:
            bad.append("writer %d: %s pair %s = %r, %s = %r differ "
                       "(acked %d, tried %d)"
                       % (self.t, what, keys[0], a, keys[1], b, acked, tried))
        va = int(a or 0)
        if not acked <= va <= tried:
            bad.append("writer %d: %s pair = %d, acked %d, tried %d"
                       % (self.t, what, va, acked, tried))
        setattr(self, model, [va, va])


def kill_rounds(d, shards, writers, rounds, pause):
    """rounds times: start a server on d (io_uring and epoll in turn;
    shards: a count, or a list of counts to use in turn), check it against
    the writers' models, run the writers, kill -9 the server after pause()
    seconds. Then a last start and check."""
    counts = shards if isinstance(shards, list) else [shards]
    for r in range(rounds + 1):
        reactor = "epoll" if r % 2 else None
        s = d.start(counts[r % len(counts)], reactor=reactor)
        c = s.client()
        all_keys = list(c.scan_iter(count=1000))
        problems = []
        for w in writers:
            problems += w.verify(c, all_keys)
        known = {b"w%d:" % w.t for w in writers}
        strays = [k for k in all_keys if k[:3] not in known]
        assert not strays, "keys never written: %s" % strays[:10]
        assert not problems, "after kill -9 round %d:\n%s\nserver log:\n%s" \
            % (r, "\n".join(problems[:20]), s.read_log()[-3000:])
        c.close()
        if r == rounds:
            break
        threads = [threading.Thread(target=w.run, args=(s.port,))
                   for w in writers]
        for t in threads:
            t.start()
        time.sleep(pause())
        kill9(s)
        for t in threads:
            t.join(30)
            assert not t.is_alive(), "a writer hung after kill -9"
        errors = [w.error for w in writers if w.error]
        assert not errors, errors
        assert sum(w.ops for w in writers) > 0, "no write was acknowledged"
    shutdown(s, "sigterm")


@pytest.mark.parametrize("shards", [2, 3])
def test_kill9_keeps_every_acknowledged_write(ddir, shards):
    rnd = random.Random(os.environ.get("APIARY_SEED", 12345))
    writers = [Writer(t, shards) for t in range(4)]
    kill_rounds(ddir, shards, writers, 5, lambda: rnd.uniform(0.3, 1.2))


def test_kill9_with_shard_count_changes(ddir):
    """kill -9 rounds where each start uses another shard count: base
    snapshots written at start, then logs cut by the kill."""
    rnd = random.Random(os.environ.get("APIARY_SEED", 999))
    writers = [Writer(t, 3) for t in range(4)]
    kill_rounds(ddir, [3, 2, 1, 3, 2], writers, 5,
                lambda: rnd.uniform(0.3, 0.8))


def test_kill9_multi_exec_across_shards(ddir):
    """MULTI/EXEC of INCRs on two shards is all or nothing after kill -9."""
    rnd = random.Random(os.environ.get("APIARY_SEED", 54321))
    writers = [Writer(t, 2, multi=True) for t in range(4)]
    kill_rounds(ddir, 2, writers, 6, lambda: rnd.uniform(0.2, 0.6))


# --- 4. damaged files --------------------------------------------------------


def log_path(d, shard=0, seq=1):
    return os.path.join(d.aof, "shard-%d.incr.%d.log" % (shard, seq))


def write_keys(s, keys, value="v"):
    c = s.client()
    for k in keys:
        assert c.set(k, "%s-%s" % (value, k)) is True
    c.close()


def present(s, keys):
    c = s.client()
    vals = c.mget(keys)
    c.close()
    return [k for k, v in zip(keys, vals) if v is not None]


def test_torn_tail(ddir):
    keys = ["k%d" % i for i in range(10)]
    s = ddir.start(1)
    write_keys(s, keys)
    shutdown(s, "sigterm")
    path = log_path(ddir)
    recs = records(path)
    assert len(recs) == 10, "10 SETs wrote %d records" % len(recs)
    size = os.path.getsize(path)

    # (1) A partial record appended: a header promising 50 bytes, 3 given.
    with open(path, "ab") as f:
        f.write(struct.pack("<II", 50, 0x12345678) + b"abc")
    rc, out = ddir.start_fails(1, extra=["--aof-load-truncated", "no"])
    assert rc != 0, "refusal must exit non-zero:\n" + out
    assert "shard-0.incr.1.log" in out and "aof-load-truncated" in out, \
        "the refusal should name the file and the option:\n" + out
    assert os.path.getsize(path) == size + 11, \
        "a refused start changed the log"

    s = ddir.start(1)
    log = s.read_log()
    assert "torn tail" in log and "shard-0.incr.1.log" in log, \
        "no warning about the torn tail in the server log:\n" + log
    assert present(s, keys) == keys
    assert os.path.getsize(path) == size, "the torn tail was not truncated"
    write_keys(s, ["after1"])
    shutdown(s, "sigterm")

    # (2) The last record cut short by 3 bytes: its SET is lost, no more.
    recs = records(path)
    with open(path, "r+b") as f:
        f.truncate(recs[-1][0] + recs[-1][1] - 3)
    rc, out = ddir.start_fails(1, extra=["--aof-load-truncated", "no"])
    assert rc != 0 and "shard-0.incr.1.log" in out, out
    s = ddir.start(1)
    assert "torn tail" in s.read_log(), s.read_log()
    assert present(s, keys + ["after1"]) == keys, \
        "keys after cutting the last record (after1 must be gone)"
    write_keys(s, ["after2"])
    before = dump(s)
    shutdown(s, "sigterm")
    s = ddir.start(1)
    assert "torn tail" not in s.read_log(), "the log was left torn"
    assert_same(before, dump(s), "a log appended to after a truncation")


@pytest.mark.parametrize("shards", [1, 2])
def test_corrupt_middle(ddir, shards):
    bad_shard = shards - 1
    keys = keys_on(bad_shard, "c", 50, shards)
    others = keys_on(0, "o", 10, shards) if shards > 1 else []
    s = ddir.start(shards)
    write_keys(s, keys)
    write_keys(s, others)
    shutdown(s, "sigterm")
    path = log_path(ddir, bad_shard)
    recs = records(path)
    assert len(recs) == 50, "50 SETs wrote %d records" % len(recs)
    off = recs[25][0]
    with open(path, "r+b") as f:
        f.seek(off + 8 + 3)
        b = f.read(1)
        f.seek(off + 8 + 3)
        f.write(bytes([b[0] ^ 0x40]))

    rc, out = ddir.start_fails(shards)
    assert rc != 0, "a corrupt log must stop the start:\n" + out
    name = os.path.basename(path)
    assert name in out and ("offset %d" % off) in out, \
        "the message should name %s and offset %d:\n%s" % (name, off, out)

    r = subprocess.run([CHECK, "--fix", path], capture_output=True, text=True)
    assert r.returncode == 1, "--fix without --salvage must not repair " \
        "corruption: %d\n%s%s" % (r.returncode, r.stdout, r.stderr)
    r = subprocess.run([CHECK, "--fix", "--salvage", path],
                       capture_output=True, text=True)
    assert r.returncode == 0, "apiary-check --fix --salvage: %d\n%s%s" % (
        r.returncode, r.stdout, r.stderr)
    assert os.path.getsize(path) == off

    s = ddir.start(shards)
    assert present(s, keys) == keys[:25], \
        "after salvage the 25 keys before the bad record must remain"
    if others:
        assert present(s, others) == others
    c = s.client()
    assert c.dbsize() == 25 + len(others)
    c.close()
    write_keys(s, ["after"])
    shutdown(s, "sigterm")
    s = ddir.start(shards)
    assert present(s, keys + ["after"]) == keys[:25] + ["after"]


@pytest.mark.parametrize("cut", ["torn", "whole-part"])
def test_multi_shard_write_all_or_nothing(ddir, cut):
    """An MSET across 2 shards is logged as one part per shard with the
    same txid; if one shard's part is lost (a torn tail, or never written),
    the other shard's part must be dropped too at load, and stay dropped
    at later starts."""
    a, b = key_on(0, "p", 2), key_on(1, "p", 2)
    s = ddir.start(2)
    c = s.client()
    for v in range(1, 6):
        assert c.mset({a: v, b: v}) is True
    c.close()
    shutdown(s, "sigterm")
    path = log_path(ddir, 1)
    recs = records(path)
    assert len(recs) == 10, "5 MSET parts on shard 1 took %d records, " \
        "want 10 (TXN + CMD each)" % len(recs)
    last_part = recs[-2][0]
    with open(path, "r+b") as f:
        f.truncate(last_part if cut == "whole-part"
                   else os.path.getsize(path) - 2)
    for start in range(2):  # dropped again at the next start
        s = ddir.start(2)
        c = s.client()
        got = c.mget([a, b])
        c.close()
        assert got == [b"4", b"4"], "after losing shard 1's part of the " \
            "last MSET (%s, start %d): %s = %r, %s = %r; want 4 and 4\n%s" % (
                cut, start, a, got[0], b, got[1], s.read_log())
        shutdown(s, "sigterm")
    s = ddir.start(2)
    c = s.client()
    assert c.mset({a: 7, b: 7}) is True
    assert c.mset({a: 8, b: 8}) is True
    c.close()
    shutdown(s, "sigterm")
    s = ddir.start(2)
    c = s.client()
    assert c.mget([a, b]) == [b"8", b"8"], "MSETs after the dropped part"
    c.close()


def txn_parts(path):
    """Offsets of the TXN records (transaction parts) of a log file."""
    with open(path, "rb") as f:
        data = f.read()
    return [off for off, _n in records(path) if data[off + 8] == 4]


@pytest.mark.parametrize("cut", ["torn", "whole-part"])
def test_multi_exec_across_shards_all_or_nothing(ddir, cut):
    """A MULTI/EXEC over two shards (INCRs, a split MSET, a gather
    SUNIONSTORE, an RPUSH) is logged as one part per shard with one txid:
    losing shard 1's part of the last EXEC drops the whole EXEC on both
    shards, and the earlier ones stay whole."""
    a, b = key_on(0, "a", 2), key_on(1, "b", 2)
    m0, m1 = key_on(0, "m", 2), key_on(1, "m", 2)
    s0, s1 = key_on(0, "s", 2), key_on(1, "t", 2)
    lst = key_on(1, "l", 2)
    s = ddir.start(2)
    c = s.client()
    c.sadd(s0, "base")
    for v in range(1, 6):
        p = c.pipeline(transaction=True)
        p.incr(a)
        p.incr(b)
        p.mset({m0: v, m1: v})
        p.sadd(s0, "e%d" % v)
        p.sunionstore(s1, [s0])
        p.rpush(lst, v)
        assert p.execute() == [v, v, True, 1, v + 1, v]
    c.close()
    shutdown(s, "sigterm")
    path = log_path(ddir, 1)
    parts = txn_parts(path)
    assert len(parts) == 5, "5 EXECs wrote %d parts on shard 1" % len(parts)
    assert len(txn_parts(log_path(ddir, 0))) == 5
    with open(path, "r+b") as f:
        f.truncate(parts[-1] if cut == "whole-part"
                   else os.path.getsize(path) - 2)
    want = {a: b"4", b: b"4", m0: b"4", m1: b"4"}
    for start in range(2):  # dropped again at the next start
        s = ddir.start(2)
        c = s.client()
        got = dict(zip(want, c.mget(list(want))))
        assert got == want, "after losing shard 1's part of the last EXEC " \
            "(%s, start %d): %r\n%s" % (cut, start, got, s.read_log())
        assert c.smembers(s0) == {b"base", b"e1", b"e2", b"e3", b"e4"}
        assert c.smembers(s1) == c.smembers(s0)
        assert c.lrange(lst, 0, -1) == [b"1", b"2", b"3", b"4"]
        c.close()
        shutdown(s, "sigterm")


def test_multi_exec_reply_waits_for_every_part(ddir):
    """Under appendfsync always an EXEC over two shards answers only when
    both shards' parts are on disk: after the reply, kill -9 keeps it."""
    a, b = key_on(0, "a", 2), key_on(1, "b", 2)
    s = ddir.start(2)
    c = s.client()
    for v in range(1, 51):
        p = c.pipeline(transaction=True)
        p.set(a, v)
        p.set(b, v)
        assert p.execute() == [True, True]
    c.close()
    kill9(s)
    s = ddir.start(2)
    c = s.client()
    assert c.mget([a, b]) == [b"50", b"50"]
    c.close()
    shutdown(s, "sigterm")


def test_missing_manifest_refuses_to_start(ddir):
    s = ddir.start(2)
    write_keys(s, keys_on(0, "m", 5, 2) + keys_on(1, "m", 5, 2))
    shutdown(s, "sigterm")
    logs = {f: os.path.getsize(os.path.join(ddir.aof, f))
            for f in os.listdir(ddir.aof) if f != "manifest"}
    assert all(logs.values()), logs
    os.unlink(os.path.join(ddir.aof, "manifest"))
    try:
        rc, out = ddir.start_fails(2)
    except AssertionError as e:  # it started: say what became of the data
        rc, out = 0, str(e)
    after = {f: os.path.getsize(os.path.join(ddir.aof, f))
             for f in os.listdir(ddir.aof) if f != "manifest"}
    assert after == logs, "log files changed by a start without a " \
        "manifest (data dropped): %s -> %s\n%s" % (logs, after, out)
    assert rc != 0, out
    assert "manifest" in out, "the refusal should say the manifest is " \
        "missing:\n" + out


# --- 5. write errors: full disk, file size limit -----------------------------


def read_reply(sock, timeout):
    """One reply line of a simple/error/integer reply, or None on timeout."""
    sock.settimeout(timeout)
    data = b""
    try:
        while not data.endswith(b"\r\n"):
            chunk = sock.recv(4096)
            if not chunk:
                raise AssertionError("connection closed")
            data += chunk
    except socket.timeout:
        return None if not data else data
    return data


def fill_until_misconf(s, prefix, value, limit=5000):
    """SETs prefix:i = value one at a time until one is refused with
    MISCONF or its reply is held (appendfsync always). Returns (acked
    keys, refused keys, pending (socket, key) or None, the error)."""
    sock = s.connect()
    acked, refused = [], []
    for i in range(limit):
        k = "%s:%d" % (prefix, i)
        sock.sendall(cmd("SET", k, value))
        rep = read_reply(sock, 3)
        if rep is None:
            return acked, refused, (sock, k), None
        if rep == b"+OK\r\n":
            acked.append(k)
            continue
        assert rep.startswith(b"-MISCONF"), "SET %s: %r" % (k, rep)
        refused.append(k)
        sock.close()
        return acked, refused, None, rep.decode().strip()[1:]
    raise AssertionError("%d SETs and no write error" % limit)


def check_misconf_state(s, acked, reason):
    """While a log cannot be written: writes and PING get MISCONF with
    reason, reads work, on connections of every shard (2 per shard, as
    they are spread). A reply that does not come within 1.5 s is reported
    (and ends that connection's checks). Returns the problems found (the
    caller checks the recovery first, then fails with them), or None."""
    want = MISCONF + reason
    nshards = getattr(s, "nshards", 1)
    reads = [k for k in dict.fromkeys(acked[:3] + acked[-3:])]
    problems = []
    for i in range(2 * nshards):
        c = s.client(socket_timeout=1.5)
        checks = [("SET probe:%d" % i, lambda: c.set("probe:%d" % i, "x"),
                   "error"),
                  ("PING", c.ping, "error")]
        checks += [("GET %s (shard %d)" % (k, shard_of(k, nshards)),
                    lambda k=k: c.get(k), "value") for k in reads]
        checks += [("INFO persistence",
                    lambda: c.info("persistence")["aof_last_write_status"],
                    "err")]
        for what, fn, expect in checks:
            try:
                r = fn()
            except redis.TimeoutError:
                problems.append("connection %d: %s: no reply within 1.5 s"
                                % (i, what))
                break
            except redis.ResponseError as e:
                if expect != "error" or str(e) != want:
                    problems.append("connection %d: %s: -%s, want %s"
                                    % (i, what, e, "-" + want
                                       if expect == "error" else expect))
                continue
            if expect == "error":
                problems.append("connection %d: %s: %r, want -%s"
                                % (i, what, r, want))
            elif expect == "value" and r is None:
                problems.append("connection %d: %s: nil" % (i, what))
            elif expect == "err" and r != "err":
                problems.append("connection %d: %s: aof_last_write_status"
                                " %r, want err" % (i, what, r))
        c.close()
    if problems:
        return "while the log could not be written:\n" + \
            "\n".join(problems) + "\nserver log:\n" + s.read_log()[-2000:]
    return None


def wait_writes_work(s, timeout=3.5):
    c = s.client()
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            assert c.set("probe:ok", "x") is True
            c.close()
            return
        except redis.ResponseError as e:
            last = e
            time.sleep(0.05)
    raise AssertionError("writes still refused after %ss: %s"
                         % (timeout, last))


def finish_pending(pending, acked, timeout=3.5):
    if pending is None:
        return
    sock, k = pending
    rep = read_reply(sock, timeout)
    sock.close()
    assert rep == b"+OK\r\n", \
        "the SET whose record hit the error: %r after %ss" % (rep, timeout)
    acked.append(k)


def check_after_restart(d, shards, acked, refused, value):
    s = d.start(shards)
    c = s.client()
    vals = c.mget(acked) if acked else []
    lost = [k for k, v in zip(acked, vals) if v != value.encode()]
    assert not lost, "acknowledged writes lost: %s" % lost[:10]
    if refused:
        assert c.exists(*refused) == 0, "refused writes present: %s" % refused
    assert c.get("probe:ok") == b"x"
    probes = [k for k in ("probe:%d" % i for i in range(8)) if c.exists(k)]
    assert not probes, "SETs refused with MISCONF were applied: %s" % probes
    c.close()
    return s


@pytest.fixture
def tmpfs(tmp_path):
    mnt = tmp_path / "tmpfs"
    os.makedirs(mnt)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs",
                        str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: " + (r.stderr or r.stdout))
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


@pytest.mark.parametrize("fsync,reactor", [
    pytest.param("always", None, id="always"),
    pytest.param("everysec", None, id="everysec"),
    pytest.param("always", "epoll", id="always-epoll")])
def test_disk_full(tmpfs, fsync, reactor):
    d = DataDir(tmpfs / "data")
    os.makedirs(d.path)
    try:
        s = d.start(2, fsync=fsync, reactor=reactor)
        value = "x" * 1000
        c = s.client()
        c.set("warm", value)
        c.close()
        st = os.statvfs(d.path)
        filler = os.path.join(str(tmpfs), "filler")
        free = st.f_bavail * st.f_frsize
        with open(filler, "wb") as f:
            f.write(b"\0" * max(0, free - 48 * 1024))
        acked, refused, pending, err = fill_until_misconf(s, "f", value)
        acked.insert(0, "warm")
        assert len(acked) > 5, "disk full after only %d writes" % len(acked)
        problems = check_misconf_state(s, acked, "No space left on device")
        if err is not None:
            assert err == MISCONF + "No space left on device", err
        os.unlink(filler)
        finish_pending(pending, acked)
        wait_writes_work(s)
        assert "work again" in s.read_log(), s.read_log()
        shutdown(s, "sigterm")
        check_after_restart(d, 2, acked, refused, value)
        assert problems is None, problems
    finally:
        d.stop_all()


def test_reshard_without_space_keeps_old_data(tmpfs):
    """A start with another shard count that cannot write its new base
    snapshots (disk full) must fail and leave the old data set whole; once
    there is room it succeeds."""
    d = DataDir(tmpfs / "data")
    os.makedirs(d.path)
    try:
        s = d.start(2)
        c = s.client()
        for i in range(8):
            c.rpush("big:%d" % i, *[os.urandom(100) for _ in range(1000)])
        c.close()
        before = dump(s)
        shutdown(s, "sigterm")
        files = {f: os.path.getsize(os.path.join(d.aof, f))
                 for f in os.listdir(d.aof)}
        with open(os.path.join(d.aof, "manifest")) as f:
            man = f.read()
        st = os.statvfs(d.path)
        filler = os.path.join(str(tmpfs), "filler")
        with open(filler, "wb") as f:
            f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - 64 * 1024))
        rc, out = d.start_fails(3)
        assert rc != 0, out
        assert "No space left on device" in out, \
            "the refusal should say why:\n" + out
        with open(os.path.join(d.aof, "manifest")) as f:
            assert f.read() == man, "the manifest changed on a failed reshard"
        for name, size in files.items():
            assert os.path.getsize(os.path.join(d.aof, name)) == size, name
        os.unlink(filler)
        s = d.start(3)
        assert_same(before, dump(s), "2 shards -> 3 after a failed attempt")
        shutdown(s, "sigterm")
        check_files(d, 3)
    finally:
        d.stop_all()


@pytest.mark.parametrize("fsync", [
    "always", "everysec"])
def test_file_size_limit(ddir, fsync):
    s = ddir.start(1, fsync=fsync)
    value = "y" * 500
    write_keys(s, ["pre%d" % i for i in range(10)])
    c = s.client()
    c.set("warm", value)
    c.close()
    size = os.path.getsize(log_path(ddir))
    limit = max(size, 8192) + 16384
    r = subprocess.run(["prlimit", "--pid", str(s.proc.pid),
                        "--fsize=%d:unlimited" % limit],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("prlimit failed: " + r.stderr)
    acked, refused, pending, err = fill_until_misconf(s, "g", value)
    acked.insert(0, "warm")
    assert s.alive(), "the server died on exceeding RLIMIT_FSIZE " \
        "(SIGXFSZ not ignored?): %s" % s.proc.returncode
    problems = check_misconf_state(s, acked, "File too large")
    subprocess.run(["prlimit", "--pid", str(s.proc.pid),
                    "--fsize=unlimited:unlimited"], check=True)
    finish_pending(pending, acked)
    wait_writes_work(s)
    shutdown(s, "sigterm")
    check_after_restart(ddir, 1, acked, refused, value)
    assert problems is None, problems


# --- 6. appendfsync everysec and no ------------------------------------------


def test_fsync_policies_and_config(ddir):
    s = ddir.start(2, fsync="everysec")
    c = s.client()
    assert c.config_get("appendfsync") == {"appendfsync": "everysec"}
    assert c.config_get("appendonly") == {"appendonly": "yes"}
    populate(s)
    before = dump(s)
    shutdown(s, "sigterm")

    s = ddir.start(2, fsync="no")
    assert_same(before, dump(s), "written under everysec, loaded under no")
    c = s.client()
    assert c.config_get("appendfsync") == {"appendfsync": "no"}
    for v in ("always", "no", "everysec"):
        assert c.config_set("appendfsync", v) is True
        assert c.config_get("appendfsync") == {"appendfsync": v}
        assert c.info("persistence")["aof_fsync"] == v
        for i in range(20):
            c.set("pol:%s:%d" % (v, i), i)
        c.rpush("pol:list", v)
    with pytest.raises(redis.ResponseError) as e:
        c.config_set("appendfsync", "sometimes")
    assert "appendfsync" in str(e.value)
    with pytest.raises(redis.ResponseError) as e:
        c.config_set("appendonly", "maybe")
    assert "appendonly" in str(e.value)
    assert c.config_get("appendonly") == {"appendonly": "yes"}
    c.close()
    before = dump(s)
    shutdown(s, "shutdown")
    s = ddir.start(2, fsync="everysec")
    assert_same(before, dump(s), "after CONFIG SET appendfsync changes")


def wait_log_on(c, timeout=20):
    """Waits until the rewrite that turns the log on is done."""
    end = time.time() + timeout
    while time.time() < end:
        info = c.info("persistence")
        if info["aof_enabled"] and not info["aof_rewrite_in_progress"] \
                and not info["rdb_bgsave_in_progress"] \
                and "The append-only log is on" in open(
                    c.server_log).read():
            return
        time.sleep(0.05)
    raise AssertionError("the log did not turn on")


@pytest.mark.parametrize("shards", [1, 2])
def test_config_set_appendonly_at_run_time(ddir, shards):
    """appendonly no -> yes at run time starts the log with a rewrite of
    what is in memory; writes after it survive kill -9 (always); yes -> no
    stops it: the data set on disk is then what it held at that moment;
    yes again starts a new one."""
    s = ddir.start(shards, extra=["--appendonly", "no"])
    c = s.client()
    c.server_log = s.log_path
    for i in range(500):
        c.set("before:%d" % i, i)
    c.rpush("lst", *range(100))
    assert c.config_set("appendonly", "yes") is True
    assert c.config_get("appendonly") == {"appendonly": "yes"}
    wait_log_on(c)
    for i in range(200):
        c.set("after:%d" % i, i)
    c.close()
    kill9(s)
    s = ddir.start(shards, extra=["--appendonly", "yes"])
    c = s.client()
    c.server_log = s.log_path
    assert c.dbsize() == 701
    assert c.get("before:499") == b"499" and c.get("after:199") == b"199"
    assert c.llen("lst") == 100
    # Off: writes after it are not logged; a restart (with the log) has
    # the data set as it was when the log stopped.
    assert c.config_set("appendonly", "no") is True
    assert c.info("persistence")["aof_enabled"] == 0
    c.set("unlogged", 1)
    c.close()
    kill9(s)
    s = ddir.start(shards, extra=["--appendonly", "yes"])
    c = s.client()
    c.server_log = s.log_path
    assert c.dbsize() == 701 and c.get("unlogged") is None
    # Off and on again in one go, then a clean restart.
    assert c.config_set("appendonly", "no") is True
    assert c.config_set("appendonly", "yes") is True
    wait_log_on(c)
    c.set("again", 1)
    c.close()
    shutdown(s, "sigterm")
    s = ddir.start(shards, extra=["--appendonly", "yes"])
    c = s.client()
    assert c.dbsize() == 702 and c.get("again") == b"1"
    c.close()
    shutdown(s, "sigterm")


def test_appenddirname(ddir):
    s = ddir.start(2, extra=["--appenddirname", "mylogs"])
    c = s.client()
    c.mset({key_on(0, "d", 2): "x", key_on(1, "d", 2): "y"})
    c.close()
    shutdown(s, "sigterm")
    files = sorted(os.listdir(os.path.join(ddir.path, "mylogs")))
    assert files == ["manifest", "shard-0.incr.1.log", "shard-1.incr.1.log"], \
        files
    assert not os.path.exists(ddir.aof), "appendonlydir created anyway"
    s = ddir.start(2, extra=["--appenddirname", "mylogs"])
    c = s.client()
    assert c.mget([key_on(0, "d", 2), key_on(1, "d", 2)]) == [b"x", b"y"]
    with pytest.raises(redis.ResponseError) as e:
        c.config_set("appenddirname", "other")
    assert "immutable" in str(e.value), str(e.value)
    c.close()
    rc, out = ddir.start_fails(2, extra=["--appenddirname", "../escape"])
    assert rc != 0 and "appenddirname" in out, out
