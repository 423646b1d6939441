"""SORT and SORT_RO through redis-py and raw RESP against a real server:
numeric and ALPHA order, LIMIT, BY (string keys, hash fields, nosort),
GET (#, strings, hash fields, absent keys), STORE, errors, lists, sets and
sorted sets, the key specs (COMMAND INFO / GETKEYS), MULTI/EXEC, and
keys on both shards of the default 2-shard server.

Replies are compared with Debian's redis-server (7.0) wherever 7.0 and
7.2 agree. Every key of one comparison shares one {hashtag}, so the keys
that BY and GET patterns name live on the sorted key's shard: patterns
read only that shard's keys (as Redis Cluster requires one slot). Sets
whose iteration order differs between Redis 7.0 (hashtable) and Apiary
(listpack, Redis 7.2) are only compared where the order is fully
determined by the sort.
"""
import random
import socket

import pytest
import redis

from conftest import SHARDS, cmd, recv_until, shard_of

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SCORES = "One or more scores can't be converted into double"


def tag_on(shard):
    """A {hashtag} whose keys live on the given shard."""
    for i in range(1000):
        t = "{t%d}" % i
        if shard_of(t, SHARDS) == shard:
            return t
    raise AssertionError("no tag for shard %d" % shard)


T0 = tag_on(0)
T1 = tag_on(SHARDS - 1)


@pytest.fixture
def r(apiary):
    c = apiary.client()
    yield c
    c.close()


@pytest.fixture
def ref(redis_ref):
    redis_ref.flushall()
    yield redis_ref


def run(c, *args):
    """The reply of one command, or the error text it raised."""
    try:
        return c.execute_command(*args)
    except redis.ResponseError as e:
        return "ERR:" + str(e)


def both(r, ref, *args):
    """Runs args on Apiary and on the reference; asserts equal replies."""
    got = run(r, *args)
    exp = run(ref, *args)
    assert got == exp, "%r: apiary %r, redis %r" % (args, got, exp)
    return got


def setup_keys(r, ref, T):
    """The same data on both servers, every key tagged T."""
    for c in (r, ref):
        c.rpush(T + "l", "3", "1", "2", "10", "1.0", "-5", "2e0", " 7")
        c.rpush(T + "a", "b", "a", "B", "", "ab", "a b", "\xff", "b")
        c.rpush(T + "bad", "1", "x")
        c.sadd(T + "si", "5", "1", "30", "-2", "7")
        c.sadd(T + "sh", *["m%d" % i for i in range(200)])
        c.sadd(T + "sn", *[str(i * 37 % 1000) for i in range(300)])
        c.zadd(T + "z", {"a": 3, "b": 1, "c": 2, "d": 2.5})
        c.zadd(T + "zn", {"10": 1, "9": 2, "100": 3, "-1": 4})
        c.zadd(T + "zb", {"m%03d" % i: 500 - i for i in range(300)})
        c.mset({T + "w_3": "1", T + "w_1": "3", T + "w_10": "0",
                T + "w_-5": "-1.5", T + "w_a": "z", T + "w_b": "y",
                T + "o_1": "one", T + "o_2": "two", T + "o_3": "33"})
        c.hset(T + "h_1", mapping={"f": "A", "n": "2"})
        c.hset(T + "h_3", mapping={"f": "7", "n": "-1"})
        c.hset(T + "h_10", mapping={"n": "0.5"})
        c.set(T + "str", "x")
        c.hset(T + "hash", "f", "v")


def script(T):
    """SORT / SORT_RO calls whose replies 7.0 and 7.2 give alike."""
    L, A, Z, ZN = T + "l", T + "a", T + "z", T + "zn"
    w, o, h = T + "w_*", T + "o_*", T + "h_*"
    out = []
    for name in ("SORT", "SORT_RO"):
        out += [
            (name, L), (name, L, "DESC"), (name, L, "ASC"),
            (name, L, "ALPHA"), (name, L, "ALPHA", "DESC"),
            (name, A, "ALPHA"), (name, A, "alpha", "desc"), (name, A),
            (name, T + "bad"), (name, T + "bad", "ALPHA"),
            (name, L, "LIMIT", "0", "3"), (name, L, "LIMIT", "2", "3"),
            (name, L, "LIMIT", "-3", "2"), (name, L, "LIMIT", "5", "-1"),
            (name, L, "LIMIT", "100", "2"), (name, L, "LIMIT", "3", "0"),
            (name, L, "LIMIT", "1", "2", "DESC"),
            (name, L, "LIMIT", "x", "1"), (name, L, "LIMIT", "1"),
            (name, L, "BY", w), (name, L, "BY", w, "DESC"),
            (name, L, "BY", w, "ALPHA"), (name, L, "BY", w, "LIMIT", "2", "9"),
            (name, L, "BY", h + "->n"), (name, L, "BY", h + "->n", "DESC"),
            (name, L, "BY", h + "->f", "ALPHA"),
            (name, L, "BY", "nosort"), (name, L, "BY", "nosort", "DESC"),
            (name, L, "BY", "nosort", "LIMIT", "2", "3"),
            (name, L, "BY", "nosort", "LIMIT", "2", "3", "DESC"),
            (name, L, "BY", "nosort", "BY", w),
            (name, L, "GET", "#"), (name, L, "GET", o),
            (name, L, "GET", "#", "GET", o, "GET", h + "->f"),
            (name, L, "GET", T + "nokey"), (name, L, "GET", h + "->zz"),
            (name, L, "GET", o + "->f"), (name, L, "GET", h),
            (name, L, "BY", w, "GET", o, "GET", "#", "LIMIT", "1", "4"),
            (name, T + "si"), (name, T + "si", "DESC"),
            (name, T + "si", "ALPHA"), (name, T + "si", "BY", "nosort"),
            (name, T + "si", "LIMIT", "1", "2"), (name, T + "si", "BY", w),
            (name, T + "sh", "ALPHA"), (name, T + "sh", "ALPHA", "DESC"),
            (name, T + "sh", "ALPHA", "LIMIT", "10", "5"), (name, T + "sh"),
            (name, T + "sn"), (name, T + "sn", "DESC", "LIMIT", "0", "7"),
            (name, T + "sn", "LIMIT", "295", "10"),
            (name, Z, "BY", "nosort"), (name, Z, "BY", "nosort", "DESC"),
            (name, Z, "BY", "nosort", "LIMIT", "1", "2"),
            (name, Z, "BY", "nosort", "LIMIT", "1", "2", "DESC"),
            (name, Z, "ALPHA"), (name, Z), (name, ZN), (name, ZN, "ALPHA"),
            (name, ZN, "BY", "nosort", "GET", "#", "GET", w),
            (name, T + "zb", "BY", "nosort", "LIMIT", "100", "5"),
            (name, T + "zb", "BY", "nosort", "LIMIT", "100", "5", "DESC"),
            (name, T + "zb", "ALPHA", "LIMIT", "290", "20"),
            (name, T + "nokey"), (name, T + "nokey", "BY", w, "GET", o),
            (name, T + "str"), (name, T + "hash"), (name, T + "str", "foo"),
            (name, L, "foo"), (name, L, "BY"), (name, L, "GET"),
            (name, L, "limit", "0", "1", "Desc", "Alpha", "get", "#"),
            (name,),
        ]
    out += [("SORT_RO", L, "STORE", T + "d"), ("SORT", L, "STORE")]
    return out


@pytest.mark.parametrize("shard", [0, 1])
def test_script(r, ref, shard):
    T = T0 if shard == 0 else T1
    setup_keys(r, ref, T)
    for args in script(T):
        both(r, ref, *args)


@pytest.mark.parametrize("shard", [0, 1])
def test_store(r, ref, shard):
    T = T0 if shard == 0 else T1
    setup_keys(r, ref, T)
    D = T + "d"
    cases = [
        ("SORT", T + "l", "STORE", D),
        ("SORT", T + "l", "DESC", "LIMIT", "1", "3", "STORE", D),
        ("SORT", T + "l", "BY", T + "w_*", "GET", T + "o_*", "GET", "#",
         "STORE", D),
        ("SORT", T + "a", "ALPHA", "STORE", D),
        ("SORT", T + "zb", "BY", "nosort", "STORE", D),
        ("SORT", T + "sh", "BY", "nosort", "STORE", D),
        ("SORT", T + "sn", "BY", "nosort", "DESC", "STORE", D),
        ("SORT", T + "si", "BY", "nosort", "STORE", D),
        ("SORT", T + "si", "BY", "nosort", "GET", T + "o_*", "STORE", D),
        ("SORT", T + "l", "STORE", T + "x", "STORE", D),
    ]
    for args in cases:
        both(r, ref, *args)
        assert r.lrange(D, 0, -1) == ref.lrange(D, 0, -1), args
        assert r.type(D) == b"list"
        assert r.ttl(D) == -1
    # An error stores nothing; an empty result deletes.
    both(r, ref, "SORT", T + "bad", "STORE", D)
    assert r.lrange(D, 0, -1) == ref.lrange(D, 0, -1)
    both(r, ref, "SORT", T + "str", "STORE", D)
    assert r.exists(D) == 1
    for c in (r, ref):
        c.set(D, "v", ex=100)
    both(r, ref, "SORT", T + "l", "STORE", D)
    assert r.ttl(D) == ref.ttl(D) == -1
    both(r, ref, "SORT", T + "nokey", "STORE", D)
    assert r.exists(D) == ref.exists(D) == 0
    both(r, ref, "SORT", T + "l", "LIMIT", "50", "1", "STORE", D)
    assert r.exists(D) == 0
    # In place.
    both(r, ref, "SORT", T + "l", "STORE", T + "l")
    assert r.lrange(T + "l", 0, -1) == ref.lrange(T + "l", 0, -1)


def test_store_dirty_and_info(r):
    r.rpush("{q}l", *range(100, 0, -1))
    before = r.info("persistence").get("rdb_changes_since_last_save")
    assert r.sort("{q}l", store="{q}d") == 100
    after = r.info("persistence").get("rdb_changes_since_last_save")
    if before is not None and after is not None:
        assert after - before >= 100
    assert r.lrange("{q}d", 0, 2) == [b"1", b"2", b"3"]
    assert r.object("encoding", "{q}d") == b"listpack"
    r.rpush("{q}big", *range(5000))
    assert r.sort("{q}big", desc=True, store="{q}d") == 5000
    assert r.object("encoding", "{q}d") == b"quicklist"
    assert r.lindex("{q}d", 0) == b"4999"


def test_resp3_nil(apiary, redis_ref):
    """RESP3: an absent GET value is _; compared byte for byte."""
    redis_ref.flushall()
    conns = []
    ref_port = redis_ref.connection_pool.connection_kwargs["port"]
    for port in (apiary.port, ref_port):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(cmd("HELLO", "3") + cmd("PING"))
        recv_until(s, b"+PONG\r\n")
        conns.append(s)
    out = []
    for s in conns:
        s.sendall(cmd("RPUSH", "{r}l", "2", "1") +
                  cmd("SET", "{r}o_1", "one") +
                  cmd("SORT", "{r}l", "GET", "{r}o_*", "GET", "#") +
                  cmd("SORT_RO", "{r}l", "BY", "nosort", "GET", "{r}x_*") +
                  cmd("SORT", "{r}l", "STORE", "{r}d") +
                  cmd("SORT", "{r}nokey") + cmd("PING"))
        out.append(recv_until(s, b"+PONG\r\n"))
        s.close()
    assert out[0] == out[1]
    assert b"*4\r\n$3\r\none\r\n$1\r\n1\r\n_\r\n$1\r\n2\r\n" in out[0]


def test_wrongtype_and_arity(r):
    r.set("{e}s", "x")
    r.hset("{e}h", "f", "v")
    for k in ("{e}s", "{e}h"):
        with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
            r.sort(k)
        with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
            r.execute_command("SORT_RO", k)
    with pytest.raises(redis.ResponseError, match="wrong number"):
        r.execute_command("SORT")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("SORT_RO", "{e}s", "STORE", "{e}d")
    r.rpush("{e}l", "1", "x")
    with pytest.raises(redis.ResponseError, match=SCORES):
        r.sort("{e}l")
    assert r.sort("{e}l", alpha=True) == [b"1", b"x"]


def raw_client(c):
    """A second client of c's server whose COMMAND replies stay raw."""
    kw = c.connection_pool.connection_kwargs
    n = redis.Redis(host=kw.get("host", "127.0.0.1"), port=kw["port"],
                    socket_timeout=30)
    n.set_response_callback("COMMAND", lambda resp, **kw: resp)
    return n


def test_command_info(r, ref):
    a, b = raw_client(r), raw_client(ref)
    for name in ("sort", "sort_ro"):
        g = a.execute_command("COMMAND", "INFO", name)[0]
        e = b.execute_command("COMMAND", "INFO", name)[0]
        assert g[0] == e[0] and g[1] == e[1]          # name, arity
        assert set(g[2]) == set(e[2])                 # flags
        assert g[3:6] == e[3:6]                       # first, last, step
        assert set(g[6]) == set(e[6])                 # ACL categories
    for args in (("SORT", "a"), ("SORT", "a", "STORE", "b"),
                 ("SORT", "a", "STORE", "b", "STORE", "c"),
                 ("SORT", "a", "LIMIT", "0", "1", "BY", "x", "STORE", "b"),
                 ("SORT", "a", "GET", "store"), ("SORT_RO", "a"),
                 ("SORT_RO", "a", "GET", "x")):
        assert (a.execute_command("COMMAND", "GETKEYS", *args) ==
                b.execute_command("COMMAND", "GETKEYS", *args)), args
    docs = a.execute_command("COMMAND", "DOCS", "sort")
    assert docs, "COMMAND DOCS sort is empty"
    a.close()
    b.close()


@pytest.mark.skipif(SHARDS < 2, reason="needs keys on two shards")
def test_cross_shard_store(r):
    """The destination on another shard: the command gathers both keys
    into one keyspace and runs there, so BY/GET patterns read no keys
    (the keys they name are not declared, hence not gathered)."""
    src, dst = T0 + "l", T1 + "d"
    assert shard_of(src, SHARDS) != shard_of(dst, SHARDS)
    r.rpush(src, "3", "1", "2")
    r.set(T0 + "o_1", "one")
    assert r.sort(src, store=dst) == 3
    assert r.lrange(dst, 0, -1) == [b"1", b"2", b"3"]
    assert r.sort(src, desc=True, store=dst) == 3
    assert r.lrange(dst, 0, -1) == [b"3", b"2", b"1"]
    assert r.lrange(src, 0, -1) == [b"3", b"1", b"2"]
    # Same shard: the pattern key is read.
    assert r.sort(src, get=[T0 + "o_*"]) == [b"one", None, None]
    assert r.sort(src, get=[T0 + "o_*"], store=T0 + "d") == 3
    assert r.lrange(T0 + "d", 0, -1) == [b"one", b"", b""]
    # Destination elsewhere: patterns read nothing.
    assert r.sort(src, get=[T0 + "o_*"], store=dst) == 3
    assert r.lrange(dst, 0, -1) == [b"", b"", b""]
    # A pattern key on another shard than the sorted key reads as absent.
    r.set(T1 + "o_1", "other")
    assert r.sort(src, get=[T1 + "o_*"]) == [None, None, None]
    # Empty result across shards deletes the destination.
    assert r.sort(T0 + "nokey", store=dst) == 0
    assert r.exists(dst) == 0


def test_multi_exec(r):
    r.rpush("{m}l", "3", "1", "2")
    p = r.pipeline(transaction=True)
    p.sort("{m}l", store="{m}d")
    p.lrange("{m}d", 0, -1)
    p.execute_command("SORT_RO", "{m}l", "DESC")
    assert p.execute() == [3, [b"1", b"2", b"3"], [b"3", b"2", b"1"]]


def test_big(r, ref):
    rnd = random.Random(5)
    vals = [str(rnd.randint(-10**6, 10**6)) for _ in range(20000)]
    vals += ["%d.5" % rnd.randint(-1000, 1000) for _ in range(2000)]
    for c in (r, ref):
        for i in range(0, len(vals), 1000):
            c.rpush("{g}l", *vals[i:i + 1000])
    for args in (("SORT", "{g}l"), ("SORT", "{g}l", "DESC"),
                 ("SORT", "{g}l", "ALPHA"),
                 ("SORT", "{g}l", "LIMIT", "10000", "20"),
                 ("SORT", "{g}l", "ALPHA", "DESC", "LIMIT", "0", "50"),
                 ("SORT", "{g}l", "BY", "nosort", "LIMIT", "21990", "50"),
                 ("SORT", "{g}l", "STORE", "{g}d")):
        both(r, ref, *args)
    assert r.lrange("{g}d", 0, -1) == ref.lrange("{g}d", 0, -1)


def test_random_against_redis(r, ref):
    """Random lists, sorted sets and intsets with random options, BY and
    GET keys, compared with the reference server."""
    rnd = random.Random(11)
    T = T1
    pool = ["0", "1", "2", "-3", "10", "1.5", "07", "1e1", "a", "B", "ab",
            "", " 4", "0x10", "zz", "-0.5", "100", "99", "x y"]
    nums = ["0", "1", "-1", "2.5", "10", "1e2", "-7", "3", "a", "b", ""]
    for rnd_round in range(300):
        ref.flushall()
        r.flushall()
        kind = rnd.choice(["list", "zset", "intset"])
        n = rnd.randint(0, 30)
        data = []
        for _ in range(n):
            if kind == "intset":
                data.append(str(rnd.randint(-50, 50)))
            else:
                data.append(rnd.choice(pool))
        weights, fields = {}, {}
        for e in pool + [str(i) for i in range(-50, 51)]:
            if rnd.random() < 0.6:
                weights[T + "w_" + e] = rnd.choice(nums)
            if rnd.random() < 0.5:
                fields[T + "h_" + e] = rnd.choice(nums)
        for c in (r, ref):
            if data:
                if kind == "list":
                    c.rpush(T + "k", *data)
                elif kind == "zset":
                    c.zadd(T + "k", {m: rnd_score(m) for m in data})
                else:
                    c.sadd(T + "k", *data)
            if weights:
                c.mset(weights)
            for k, v in fields.items():
                c.hset(k, "f", v)
        args = [rnd.choice(["SORT", "SORT_RO"]), T + "k"]
        by = rnd.choice([None, "w", "h", "nosort"])
        if by == "w":
            args += ["BY", T + "w_*"]
        elif by == "h":
            args += ["BY", T + "h_*->f"]
        elif by == "nosort":
            if kind == "intset" or rnd.random() < 0.7:
                args += ["BY", "nosort"]
        if rnd.random() < 0.5:
            args += ["LIMIT", str(rnd.randint(-2, n + 2)),
                     str(rnd.randint(-2, n + 2))]
        for _ in range(rnd.randint(0, 2)):
            args += ["GET", rnd.choice(["#", T + "w_*", T + "h_*->f",
                                        T + "none_*"])]
        if rnd.random() < 0.5:
            args.append(rnd.choice(["ASC", "DESC"]))
        alpha = rnd.random() < 0.5
        if alpha:
            args.append("ALPHA")
        store = args[0] == "SORT" and rnd.random() < 0.3
        if store:
            args += ["STORE", T + "dst"]
        if alpha and by in ("w", "h") and (kind == "zset" or
                                           "LIMIT" in args):
            # Ties among equal ALPHA BY values keep the collection's
            # order: a sorted set's differs (Redis walks its hash), and
            # Redis's partial sort for BY with LIMIT is not stable.
            continue
        both(r, ref, *args)
        if store:
            assert r.lrange(T + "dst", 0, -1) == ref.lrange(T + "dst", 0, -1)


def rnd_score(m):
    """A fixed score per member, so both servers get the same set."""
    return sum(m.encode()) % 7
