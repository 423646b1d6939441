"""Transactions: MULTI/EXEC/DISCARD/WATCH semantics (compared with Redis
where the replies are the same), and the atomicity proofs of issue 3 with
many concurrent clients on keys spread over every shard: conservation of a
sum under MULTI/EXEC transfers (plain and WATCH-retry), all-equal MGET
snapshots under concurrent MSETs, and RENAMENX moves that neither lose nor
duplicate a key."""
import random
import socket
import threading
import time

import pytest
import redis

from conftest import SHARDS, cmd, key_on


def raw(sock, *cmds):
    """Sends commands on a raw socket; returns the reply bytes, read until
    the server has been quiet for 0.2 s."""
    sock.sendall(b"".join(cmd(*c) for c in cmds))
    data = b""
    deadline = time.time() + 10
    sock.settimeout(0.2)
    while time.time() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            if data:
                break
            continue
        if not chunk:
            break
        data += chunk
    return data


def both(server, redis_ref):
    return [server, redis_ref]


# --- semantics ------------------------------------------------------------------


def test_multi_exec_basic(server, redis_ref):
    a, b = key_on(0, "a", SHARDS), key_on(SHARDS - 1, "b", SHARDS)
    for c in both(server, redis_ref):
        c.flushall()
        p = c.pipeline(transaction=True)
        p.set(a, 1).incr(a).set(b, "x").mget(a, b, "nosuch").get(b)
        assert p.execute() == [True, 2, True, [b"2", b"x", None], b"x"]


def test_queued_replies_and_errors(apiary, redis_ref):
    for port in (apiary.port, redis_ref.connection_pool.connection_kwargs[
            "port"]):
        import socket
        s = socket.create_connection(("127.0.0.1", port))
        out = raw(s, ("MULTI",), ("SET", "k", "v"), ("GET", "k"),
                  ("EXEC",))
        assert out == b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n$1\r\nv\r\n"
        assert raw(s, ("EXEC",)) == b"-ERR EXEC without MULTI\r\n"
        assert raw(s, ("DISCARD",)) == b"-ERR DISCARD without MULTI\r\n"
        out = raw(s, ("MULTI",), ("MULTI",), ("DISCARD",))
        assert out == (b"+OK\r\n-ERR MULTI calls can not be nested\r\n"
                       b"+OK\r\n")
        out = raw(s, ("MULTI",), ("WATCH", "k"), ("EXEC",))
        assert out == (b"+OK\r\n-ERR WATCH inside MULTI is not allowed\r\n"
                       b"*0\r\n")
        # A refused command aborts the transaction at EXEC.
        out = raw(s, ("MULTI",), ("SET", "k"), ("INCR", "k"), ("EXEC",))
        assert out == (
            b"+OK\r\n-ERR wrong number of arguments for 'set' command\r\n"
            b"+QUEUED\r\n-EXECABORT Transaction discarded because of "
            b"previous errors.\r\n")
        out = raw(s, ("MULTI",), ("NOSUCHCMD", "x"), ("EXEC",))
        assert out.startswith(b"+OK\r\n-ERR unknown command 'NOSUCHCMD'")
        assert out.endswith(b"-EXECABORT Transaction discarded because of "
                            b"previous errors.\r\n")
        # Nothing of the aborted transaction ran.
        assert raw(s, ("GET", "k")) == b"$1\r\nv\r\n"
        s.close()


def test_runtime_error_inside_exec(server, redis_ref):
    k1, k2 = key_on(0, "r", SHARDS), key_on(SHARDS - 1, "r", SHARDS)
    for c in both(server, redis_ref):
        c.flushall()
        c.set(k1, "notanumber")
        p = c.pipeline(transaction=True)
        p.incr(k1).set(k2, "done").get(k2)
        res = p.execute(raise_on_error=False)
        assert isinstance(res[0], redis.ResponseError)
        assert "not an integer" in str(res[0])
        assert res[1:] == [True, b"done"]


def test_discard_drops_queue(apiary):
    s = socket.create_connection(("127.0.0.1", apiary.port))
    out = raw(s, ("MULTI",), ("SET", "d", "1"), ("DISCARD",), ("GET", "d"))
    assert out == b"+OK\r\n+QUEUED\r\n+OK\r\n$-1\r\n"
    s.close()


def test_watch_other_client_other_shard(apiary):
    c1, c2 = apiary.client(), apiary.client()
    for shard in range(SHARDS):
        k = key_on(shard, "w", SHARDS)
        other = key_on((shard + 1) % SHARDS, "o", SHARDS)
        c1.set(k, 1)
        p = c1.pipeline(transaction=True)
        p.watch(k)
        c2.set(k, 2)  # any writer invalidates
        p.multi()
        p.set(other, "x")
        with pytest.raises(redis.WatchError):
            p.execute()
        assert c1.get(other) is None
        # Untouched watch: EXEC runs.
        p = c1.pipeline(transaction=True)
        p.watch(k)
        p.multi()
        p.set(other, "y")
        assert p.execute() == [True]
        assert c1.get(other) == b"y"


def test_watch_invalidated_by_expiry_and_flush(apiary):
    c1 = apiary.client()
    k = key_on(1 % SHARDS, "e", SHARDS)
    c1.set(k, 1, px=100)
    p = c1.pipeline(transaction=True)
    p.watch(k)
    time.sleep(0.25)
    p.multi()
    p.set("x", 1)
    with pytest.raises(redis.WatchError):
        p.execute()
    c2 = apiary.client()
    c1.set(k, 1)
    p = c1.pipeline(transaction=True)
    p.watch(k)
    c2.flushall()
    p.multi()
    p.set("x", 1)
    with pytest.raises(redis.WatchError):
        p.execute()


def test_unwatch_and_exec_clear_watches(apiary):
    c1, c2 = apiary.client(), apiary.client()
    k = key_on(0, "u", SHARDS)
    p = c1.pipeline(transaction=True)
    p.watch(k)
    p.unwatch()
    c2.set(k, 1)
    p.multi()
    p.get(k)
    assert p.execute() == [b"1"]
    # After an EXEC the key is no longer watched.
    s = socket.create_connection(("127.0.0.1", apiary.port))
    assert raw(s, ("WATCH", k), ("MULTI",), ("EXEC",)) == \
        b"+OK\r\n+OK\r\n*0\r\n"
    c2.set(k, 2)
    assert raw(s, ("MULTI",), ("GET", k), ("EXEC",)) == \
        b"+OK\r\n+QUEUED\r\n*1\r\n$1\r\n2\r\n"
    s.close()


def test_exec_with_whole_keyspace_commands(server):
    keys = [key_on(i % SHARDS, "g%d" % i, SHARDS) for i in range(6)]
    server.mset({k: "v" for k in keys})
    p = server.pipeline(transaction=True)
    p.dbsize().keys("g*").set("after", 1).flushdb().dbsize()
    res = p.execute()
    assert res[0] == 6
    assert sorted(res[1]) == sorted(k.encode() for k in keys)
    assert res[2:] == [True, True, 0]


# --- atomicity under concurrency -----------------------------------------------


def run_threads(fns, seconds):
    stop = threading.Event()
    errors = []

    def wrap(fn):
        try:
            fn(stop)
        except Exception as e:  # reported below
            errors.append(e)
            stop.set()
    ts = [threading.Thread(target=wrap, args=(f,)) for f in fns]
    for t in ts:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in ts:
        t.join(60)
    assert not errors, errors


@pytest.mark.parametrize("watch", [False, True])
def test_conservation_of_transfers(make_server, watch):
    srv = make_server(shards=max(SHARDS, 2))
    shards = max(SHARDS, 2)
    accounts = [key_on(i % shards, "acct%d" % i, shards) for i in range(16)]
    c0 = srv.client()
    c0.mset({a: 100 for a in accounts})
    total = 100 * len(accounts)
    counts = {"tx": 0, "reads": 0}

    def mover(stop):
        c = srv.client()
        rnd = random.Random()
        while not stop.is_set():
            a, b = rnd.sample(accounts, 2)
            amt = rnd.randint(1, 10)
            if not watch:
                p = c.pipeline(transaction=True)
                p.decrby(a, amt).incrby(b, amt)
                p.execute()
            else:
                with c.pipeline(transaction=True) as p:
                    while True:
                        try:
                            p.watch(a, b)
                            va, vb = int(p.get(a)), int(p.get(b))
                            p.multi()
                            p.set(a, va - amt).set(b, vb + amt)
                            p.execute()
                            break
                        except redis.WatchError:
                            continue
            counts["tx"] += 1

    def reader(stop):
        c = srv.client()
        while not stop.is_set():
            vals = c.mget(accounts)
            assert sum(int(v) for v in vals) == total, vals
            p = c.pipeline(transaction=True)
            for a in accounts:
                p.get(a)
            assert sum(int(v) for v in p.execute()) == total
            counts["reads"] += 1

    run_threads([mover] * 6 + [reader] * 2, 3.0)
    assert sum(int(v) for v in c0.mget(accounts)) == total
    assert counts["tx"] > 100 and counts["reads"] > 10, counts


def test_mset_mget_snapshots(make_server):
    shards = max(SHARDS, 2)
    srv = make_server(shards=shards)
    keys = [key_on(i % shards, "snap%d" % i, shards) for i in range(8)]
    srv.client().mset({k: "0" for k in keys})
    seen = {"reads": 0}

    def writer(stop):
        c = srv.client()
        n = 0
        while not stop.is_set():
            n += 1
            c.mset({k: "%d-%d" % (threading.get_ident(), n) for k in keys})

    def reader(stop):
        c = srv.client()
        while not stop.is_set():
            vals = c.mget(keys)
            assert len(set(vals)) == 1, vals
            seen["reads"] += 1

    run_threads([writer] * 3 + [reader] * 3, 3.0)
    assert seen["reads"] > 100


def test_rename_moves_neither_lose_nor_duplicate(make_server):
    shards = max(SHARDS, 2)
    srv = make_server(shards=shards)
    names = [key_on(i % shards, "slot%d" % i, shards) for i in range(12)]
    c0 = srv.client()
    for i in range(6):
        c0.set(names[i], "token%d" % i)
    moved = {"n": 0}

    def mover(stop):
        c = srv.client()
        rnd = random.Random()
        while not stop.is_set():
            a, b = rnd.sample(names, 2)
            try:
                if c.renamenx(a, b):
                    moved["n"] += 1
            except redis.ResponseError as e:
                assert "no such key" in str(e)

    def writer(stop):
        # Concurrent writers on the same names that keep the token
        # count: a TTL set and removed again (both no-ops on a missing
        # key).
        c = srv.client()
        rnd = random.Random()
        while not stop.is_set():
            n = rnd.choice(names)
            c.expire(n, 1000)
            c.persist(n)

    run_threads([mover] * 4 + [writer] * 2, 3.0)
    vals = [v for v in c0.mget(names) if v is not None]
    assert sorted(vals) == sorted(b"token%d" % i for i in range(6)), vals
    assert moved["n"] > 50


def test_whole_keyspace_commands_see_one_instant(make_server):
    shards = max(SHARDS, 2)
    srv = make_server(shards=shards)
    keys = [key_on(i % shards, "inst%d" % i, shards) for i in range(8)]
    seen = {"reads": 0}

    def writer(stop):
        c = srv.client()
        while not stop.is_set():
            c.mset({k: "v" for k in keys})
            c.delete(*keys)

    def reader(stop):
        c = srv.client()
        while not stop.is_set():
            assert c.dbsize() in (0, 8)
            assert len(c.keys("inst*")) in (0, 8)
            seen["reads"] += 1

    def flusher(stop):
        c = srv.client()
        while not stop.is_set():
            time.sleep(0.05)
            c.flushall()

    run_threads([writer] * 2 + [reader] * 2 + [flusher], 3.0)
    assert seen["reads"] > 50


def test_blocked_client_served_after_exec(make_server):
    """A client blocked on a list is served only after an EXEC that pushes
    to it ends, as in Redis: the EXEC's own LLEN after the push (with a
    command on another shard in between) still sees the element. Runs from
    several connections, so from each shard as the EXEC's home."""
    srv = make_server(shards=2)
    lst = key_on(1, "bl", 2)
    other = key_on(0, "o", 2)
    c = srv.client()
    for round_ in range(4):
        results = {}

        def blocker():
            results["blpop"] = srv.client().blpop([lst], timeout=10)

        t = threading.Thread(target=blocker)
        t.start()
        deadline = time.time() + 5
        while c.info("clients")["blocked_clients"] != 1:
            assert time.time() < deadline, "the BLPOP never blocked"
            time.sleep(0.01)
        p = srv.client().pipeline(transaction=True)
        p.rpush(lst, "x")
        p.set(other, "1")
        p.get(other)
        p.llen(lst)
        p.lrange(lst, 0, -1)
        assert p.execute() == [1, True, b"1", 1, [b"x"]], \
            "the blocked client was served inside the EXEC (round %d)" % round_
        t.join(10)
        assert results.get("blpop") == (lst.encode(), b"x")
        assert c.llen(lst) == 0
