"""Sorted-set commands through redis-py against a real apiary-server:
ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ZCOUNT ZLEXCOUNT
ZRANGE (BYSCORE BYLEX REV LIMIT WITHSCORES) ZRANGESTORE ZREVRANGE
ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX ZREMRANGEBY*
ZPOPMIN ZPOPMAX ZMPOP ZRANDMEMBER ZUNION ZINTER ZDIFF (and STORE forms)
ZINTERCARD ZSCAN.

Replies are compared with Debian's redis-server (7.0) wherever 7.0 and
7.2 agree: a fixed script in RESP2 and RESP3 (raw bytes, keys hash-tagged
onto one shard), and a seeded random workload on both encodings with
keys on both shards of the default 2-shard server. The store and union
commands also run with their keys on different shards.
"""
import random
import socket

import pytest
import redis

from conftest import cmd, key_on, shard_of


@pytest.fixture
def r(apiary):
    c = apiary.client(decode_responses=True)
    yield c
    c.close()


def error_of(fn, *args):
    with pytest.raises(redis.ResponseError) as e:
        fn(*args)
    return str(e.value)


# --- raw replies, compared with the reference server -------------------------

class Raw:
    """A raw RESP connection: sends one command, returns its reply bytes
    (read up to an ECHO marker sent right after it)."""

    MARK = b"$8\r\n__mark__\r\n"

    def __init__(self, host, port, proto=2):
        self.s = socket.create_connection((host, port), timeout=30)
        if proto == 3:
            self.run("HELLO", "3")

    def run(self, *args):
        self.s.sendall(cmd(*args) + cmd("ECHO", "__mark__"))
        data = b""
        while not data.endswith(self.MARK):
            chunk = self.s.recv(1 << 16)
            assert chunk, "connection closed"
            data += chunk
        return data[:-len(self.MARK)]

    def close(self):
        self.s.close()


def ref_raw(redis_ref, proto):
    kw = redis_ref.connection_pool.connection_kwargs
    return Raw(kw.get("host", "localhost"), kw["port"], proto)


SCRIPT = """
zadd {t}z 1 a 2 b 3 c 4 d 5 e
zadd {t}z xx nx 1 a
zadd {t}z gt lt 1 a
zadd {t}z nx gt 1 a
zadd {t}z incr 1 a 2 b
zadd {t}z 1 a 2
zadd {t}z nan a
zadd {t}z ch gt 9 a 1 b 7 f
zadd {t}z incr 1 a
zadd {t}z xx incr 1 nothere
zincrby {t}z 2.5 b
zincrby {t}z abc b
zadd {t}inf +inf x
zincrby {t}inf -inf x
zscore {t}z a
zscore {t}z nothere
zmscore {t}z a nothere b
zcard {t}z
zrank {t}z c
zrevrank {t}z c
zrank {t}z nothere
zcount {t}z (1 5
zcount {t}z a b
zlexcount {t}z [a (c
zlexcount {t}z a b
zrange {t}z 0 -1 withscores
zrange {t}z -3 -2
zrange {t}z 0 -1 rev withscores
zrange {t}z (1 5 byscore withscores limit 1 2
zrange {t}z 5 (1 byscore rev limit 0 2
zrange {t}z - + bylex
zrange {t}z + [b bylex rev
zrange {t}z 0 -1 limit 0 1
zrange {t}z - + bylex withscores
zrange {t}z a b byscore
zrange {t}z 0 -1 byscore bylex
zrangebyscore {t}z -inf +inf withscores limit 1 1
zrevrangebyscore {t}z +inf -inf limit 1 2
zrangebylex {t}z - + limit 1 2
zrevrangebylex {t}z + - limit 0 2
zrevrange {t}z 0 1 withscores
zrangestore {t}dst {t}z 0 2
zrange {t}dst 0 -1 withscores
zrangestore {t}dst {t}z 10 20
exists {t}dst
zremrangebyrank {t}z 0 0
zremrangebyscore {t}z (6 +inf
zremrangebylex {t}z - (c
zrange {t}z 0 -1 withscores
zpopmin {t}z
zpopmax {t}z 2
zpopmin {t}z -1
zpopmin {t}nokey
zmpop 1 {t}z min count 5
zmpop 1 {t}z min
zmpop 0 {t}z min
zadd {t}z 1 a 2 b 3 c
zadd {t}y 2 b 5 d
zunion 2 {t}z {t}y withscores
sadd {t}st b x 1
zunion 2 {t}z {t}st weights 1 3 withscores
zinter 2 {t}st {t}z aggregate max withscores
zdiff 2 {t}st {t}z
zintercard 2 {t}z {t}st
zunionstore {t}u 1 {t}st
zrange {t}u 0 -1 withscores
zunion 2 {t}z {t}y weights 2 3 aggregate max withscores
zinter 2 {t}z {t}y withscores
zdiff 2 {t}z {t}y withscores
zunionstore {t}u 2 {t}z {t}y
zinterstore {t}u 2 {t}z {t}y aggregate min
zdiffstore {t}u 2 {t}z {t}y
zrange {t}u 0 -1 withscores
zintercard 2 {t}z {t}y
zintercard 2 {t}z {t}y limit 1
zintercard 2 {t}z {t}y limit -1
zunion 0 {t}z
zunion 2 {t}z {t}y weights 1
zscan {t}z 0
zscan {t}z 0 match [ab]
zscan {t}z abc
zrandmember {t}nokey
zrandmember {t}z 0
zrandmember {t}z a
set {t}str x
zadd {t}str 1 a
zrange {t}str 0 -1
zunion 2 {t}z {t}str
"""


@pytest.mark.parametrize("proto", [2, 3])
def test_same_replies_as_redis(apiary, redis_ref, proto):
    """Every reply of a fixed script, byte for byte, in RESP2 and RESP3."""
    redis_ref.flushall()
    a = Raw(apiary.host, apiary.port, proto)
    b = ref_raw(redis_ref, proto)
    try:
        for line in SCRIPT.strip().splitlines():
            args = line.split()
            assert a.run(*args) == b.run(*args), line
    finally:
        a.close()
        b.close()


# --- a random workload against the reference ---------------------------------

MEMBERS = ["a", "b", "c", "dd", "e", "", "10", "-3", "x" * 70, "m:1", "m:2",
           "zz", "Z"]
SCORES = ["0", "1", "-1", "2.5", "1e10", "-inf", "+inf", "3", "(1", "7"]


def random_command(rng, keys, lex_keys):
    """One random deterministic command. Lex commands only touch lex_keys,
    whose members all have score 0 (a lex range on mixed scores is
    unspecified: its result depends on the skiplist's random levels)."""
    k = rng.choice(keys)
    lk = rng.choice(lex_keys)
    m = lambda: rng.choice(MEMBERS)
    s = lambda: rng.choice(SCORES[:8])
    rank = lambda: str(rng.randint(-8, 8))
    lo, hi = rng.choice(SCORES), rng.choice(SCORES)
    lex = lambda: rng.choice(["-", "+", "[a", "(b", "[dd", "(zz", "[", "[m",
                              "(10", "[-3"])
    choices = [
        lambda: ["zadd", k] + rng.sample(["nx", "xx", "ch", "gt", "lt"], rng.randint(0, 1)) + sum(([s(), m()] for _ in range(rng.randint(1, 4))), []),
        lambda: ["zadd", k, "incr", s(), m()],
        lambda: ["zincrby", k, s(), m()],
        lambda: ["zrem", k, m(), m()],
        lambda: ["zscore", k, m()],
        lambda: ["zmscore", k, m(), m()],
        lambda: ["zrank", k, m()],
        lambda: ["zrevrank", k, m()],
        lambda: ["zcard", k],
        lambda: ["zcount", k, lo, hi],
        lambda: ["zrange", k, rank(), rank(), "withscores"],
        lambda: ["zrange", k, lo, hi, "byscore", "limit", str(rng.randint(0, 3)), str(rng.randint(-1, 4))],
        lambda: ["zrange", k, hi, lo, "byscore", "rev", "withscores"],
        lambda: ["zrevrange", k, rank(), rank()],
        lambda: ["zremrangebyrank", k, rank(), rank()],
        lambda: ["zremrangebyscore", k, lo, hi],
        lambda: ["zpopmin", k, str(rng.randint(0, 3))],
        lambda: ["zpopmax", k],
        lambda: ["zmpop", "2", k, rng.choice(keys), rng.choice(["min", "max"]), "count", "2"],
        lambda: ["zrangestore", rng.choice(keys), k, rank(), rank()],
        lambda: ["zunionstore", rng.choice(keys), "2", k, rng.choice(keys), "weights", "1", "2"],
        lambda: ["zinterstore", rng.choice(keys), "2", k, rng.choice(keys), "aggregate", rng.choice(["sum", "min", "max"])],
        lambda: ["zdiffstore", rng.choice(keys), "2", k, rng.choice(keys)],
        lambda: ["zunion", "3"] + [rng.choice(keys) for _ in range(3)] + ["withscores"],
        lambda: ["zinter", "2", k, rng.choice(keys), "withscores"],
        lambda: ["zintercard", "2", k, rng.choice(keys)],
        lambda: ["zrange", k, "0", "-1", "withscores"],
        lambda: ["zadd", lk] + sum((["0", m()] for _ in range(rng.randint(1, 4))), []),
        lambda: ["zrem", lk, m()],
        lambda: ["zlexcount", lk, lex(), lex()],
        lambda: ["zrangebylex", lk, lex(), lex()],
        lambda: ["zrange", lk, lex(), lex(), "bylex", "limit", str(rng.randint(0, 2)), str(rng.randint(-1, 3))],
        lambda: ["zrevrangebylex", lk, lex(), lex(), "limit", "0", "3"],
        lambda: ["zrangestore", rng.choice(keys), lk, lex(), lex(), "bylex", "rev"],
        lambda: ["zremrangebylex", lk, lex(), lex()],
        lambda: ["zpopmin", lk],
    ]
    return rng.choice(choices)()


@pytest.mark.parametrize("entries", ["128", "0", "3"])
def test_random_workload_as_redis(apiary, redis_ref, entries):
    """A seeded random mix of deterministic commands on a few keys (on
    both shards, hash-tagged and not), compared reply by reply; with
    listpacks, skiplists, and conversions between them."""
    redis_ref.flushall()
    a = Raw(apiary.host, apiary.port)
    b = ref_raw(redis_ref, 2)
    for c in (a, b):
        assert c.run("config", "set", "zset-max-listpack-entries", entries) == b"+OK\r\n"
    keys = [key_on(0, "z"), key_on(1, "z"), "{t}1", "{t}2"]
    lex_keys = [key_on(0, "lex"), "{t}lex"]
    rng = random.Random(int(entries) * 7919 + 1)
    try:
        for i in range(3000):
            args = random_command(rng, keys, lex_keys)
            assert a.run(*args) == b.run(*args), (i, args)
        for k in keys + lex_keys:
            args = ["zrange", k, "0", "-1", "withscores"]
            assert a.run(*args) == b.run(*args), k
    finally:
        b.run("config", "set", "zset-max-listpack-entries", "128")
        a.close()
        b.close()


# --- redis-py usage --------------------------------------------------------------

def test_redis_py_api(r):
    assert r.zadd("z", {"a": 1, "b": 2.5, "c": 3}) == 3
    assert r.zadd("z", {"a": 5}, gt=True, ch=True) == 1
    assert r.zadd("z", {"a": 1}, gt=True) == 0
    assert r.zscore("z", "a") == 5.0
    assert r.zincrby("z", 0.5, "b") == 3.0
    assert r.zrange("z", 0, -1, withscores=True) == [("b", 3.0), ("c", 3.0), ("a", 5.0)]
    assert r.zrevrangebyscore("z", "+inf", 3, start=0, num=1) == ["a"]
    assert r.zrank("z", "c") == 1
    assert r.zmscore("z", ["a", "x"]) == [5.0, None]
    assert r.zpopmin("z") == [("b", 3.0)]
    assert r.zpopmax("z", 5) == [("a", 5.0), ("c", 3.0)]
    assert r.exists("z") == 0
    assert r.zadd("z", {"x": 1}, incr=True) == 1.0
    assert r.zadd("z", {"x": 1}, nx=True, incr=True) is None
    assert r.zrandmember("z") == "x"
    assert r.zrandmember("z", 5, withscores=True) == ["x", "1"]
    assert r.zscan("z") == (0, [("x", 1.0)])
    assert error_of(r.execute_command, "zadd", "z", "nan", "a") == "value is not a valid float"
    r.zadd("inf", {"m": float("inf")})
    assert error_of(r.zincrby, "inf", float("-inf"), "m") == "resulting score is not a number (NaN)"
    assert r.zscore("inf", "m") == float("inf")


def test_resp3_shapes(apiary):
    a = Raw(apiary.host, apiary.port, 3)
    try:
        assert a.run("zadd", "z", "1", "a", "2.5", "b") == b":2\r\n"
        assert a.run("zrange", "z", "0", "-1", "withscores") == \
            b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
        assert a.run("zscore", "z", "b") == b",2.5\r\n"
        assert a.run("zscore", "z", "x") == b"_\r\n"
        assert a.run("zrank", "z", "b", "withscore") == b"*2\r\n:1\r\n,2.5\r\n"
        assert a.run("zrank", "z", "x", "withscore") == b"_\r\n"
        assert a.run("zpopmin", "z") == b"*2\r\n$1\r\na\r\n,1\r\n"
        assert a.run("zmpop", "1", "z", "max") == b"*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
        assert a.run("zmpop", "1", "z", "max") == b"_\r\n"
        assert a.run("zrandmember", "z") == b"_\r\n"
    finally:
        a.close()


def test_rank_withscore_resp2(apiary):
    a = Raw(apiary.host, apiary.port)
    try:
        assert a.run("zadd", "z", "1", "a", "2", "b") == b":2\r\n"
        assert a.run("zrank", "z", "b", "withscore") == b"*2\r\n:1\r\n$1\r\n2\r\n"
        assert a.run("zrevrank", "z", "b", "withscore") == b"*2\r\n:0\r\n$1\r\n2\r\n"
        assert a.run("zrank", "z", "x", "withscore") == b"*-1\r\n"
        assert a.run("zrank", "z", "b", "foo") == b"-ERR syntax error\r\n"
    finally:
        a.close()


# --- keys on several shards ----------------------------------------------------------

def test_store_commands_across_shards(r):
    a, b = key_on(0, "za"), key_on(1, "zb")
    d0, d1 = key_on(0, "dst"), key_on(1, "dst")
    assert shard_of(a) != shard_of(b)
    r.zadd(a, {"x": 1, "y": 2, "z": 3})
    r.zadd(b, {"y": 10, "w": 20})
    for dst in (d0, d1):
        assert r.zunionstore(dst, {a: 1, b: 2}) == 4
        assert r.zrange(dst, 0, -1, withscores=True) == [("x", 1), ("z", 3), ("y", 22), ("w", 40)]
        assert r.zinterstore(dst, [a, b], aggregate="MAX") == 1
        assert r.zrange(dst, 0, -1, withscores=True) == [("y", 10)]
        assert r.zdiffstore(dst, [a, b]) == 2
        assert r.zrange(dst, 0, -1) == ["x", "z"]
        assert r.zrangestore(dst, b, 0, 0) == 1
        assert r.zrange(dst, 0, -1) == ["y"]
        assert r.zinterstore(dst, [a, "nokey"]) == 0
        assert r.exists(dst) == 0
    assert r.zunion([a, b], withscores=True) == [("x", 1), ("z", 3), ("y", 12), ("w", 20)]
    assert r.zinter([a, b]) == ["y"]
    assert r.zdiff([b, a]) == ["w"]
    assert r.zintercard(2, [a, b]) == 1
    assert r.execute_command("zmpop", 2, "nokey", b, "max", "count", 1) == [b, [["w", "20"]]]
    assert r.zcard(b) == 1


def test_store_overwrites_other_types(r):
    r.set("s", "x")
    r.zadd("src", {"a": 1})
    assert r.zunionstore("s", ["src"]) == 1
    assert r.type("s") == "zset"
    r.set("s", "x")
    assert r.zrangestore("s", "src", 0, -1) == 1
    assert r.type("s") == "zset"


# --- big sets -----------------------------------------------------------------------

def test_big_set_as_redis(apiary, redis_ref):
    """20000 members (a skiplist) loaded through a pipeline; ranges, ranks,
    counts and range deletes agree with the reference."""
    redis_ref.flushall()
    c = apiary.client(decode_responses=True)
    ref = redis_ref
    rng = random.Random(5)
    members = {("m%06d" % i): rng.randint(0, 5000) / 4 for i in range(20000)}
    for cl in (c, ref):
        p = cl.pipeline(transaction=False)
        items = list(members.items())
        for i in range(0, len(items), 500):
            p.zadd("big", dict(items[i:i + 500]))
        p.execute()
    a = Raw(apiary.host, apiary.port)
    b = ref_raw(redis_ref, 2)
    try:
        checks = [
            ["object", "encoding", "big"],
            ["zcard", "big"],
            ["zrange", "big", "1000", "1010", "withscores"],
            ["zrange", "big", "-5", "-1"],
            ["zrangebyscore", "big", "(100", "200", "limit", "3000", "5"],
            ["zrevrangebyscore", "big", "900", "-inf", "withscores", "limit", "7000", "4"],
            ["zcount", "big", "10", "(500.25"],
            ["zrank", "big", "m012345"],
            ["zrevrank", "big", "m000001"],
            ["zremrangebyrank", "big", "100", "5099"],
            ["zremrangebyscore", "big", "1000", "1100"],
            ["zrange", "big", "0", "200", "withscores"],
            ["zrange", "big", "+inf", "-inf", "byscore", "rev", "limit", "10000", "3"],
            ["zpopmax", "big", "3"],
            ["zcard", "big"],
        ]
        for args in checks:
            assert a.run(*args) == b.run(*args), args
        # a full ZSCAN returns every member
        seen, cursor = set(), "0"
        while True:
            cursor, items = c.zscan("big", cursor, count=50)
            seen.update(m for m, _ in items)
            if cursor == 0:
                break
        assert len(seen) == c.zcard("big")
    finally:
        a.close()
        b.close()
        c.close()
