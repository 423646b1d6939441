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
   and BGSAVE SCHEDULE queues one.
"""
import os
import threading
import time

import pytest
import redis

from conftest import Server, cmd, key_on
from test_persistence import (DataDir, assert_same, dump, kill9, manifest,
                              populate, shutdown)


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
