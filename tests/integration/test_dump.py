"""DUMP and RESTORE through redis-py against a real server: round trips
of every type and encoding, from a key on one shard into a key on the
other (and on the same shard), TTL / ABSTTL / REPLACE / IDLETIME / FREQ,
big values, error replies compared with Debian's redis-server where the
payload plays no part (the payload formats differ by design), and payloads
exchanged between the two servers refused cleanly on both sides.
"""
import time

import pytest
import redis

from conftest import key_on, shard_of

PAYLOAD_ERR = "DUMP payload version or checksum are wrong"

K0 = key_on(0, "dsrc")
K1 = key_on(1, "ddst")
K0B = key_on(0, "ddst")


def error_of(fn, *args, **kw):
    """Runs fn and returns the text of the error reply it raised."""
    with pytest.raises(redis.ResponseError) as e:
        fn(*args, **kw)
    return str(e.value)


@pytest.fixture
def r(apiary):
    c = apiary.client()
    yield c
    c.close()


def test_keys_on_both_shards():
    assert shard_of(K0) == 0 and shard_of(K0B) == 0 and shard_of(K1) == 1


def content(c, key):
    """The value of key in a comparable form, and its encoding."""
    t = c.type(key).decode()
    if t == "string":
        v = c.get(key)
    elif t == "list":
        v = c.lrange(key, 0, -1)
    elif t == "set":
        v = sorted(c.smembers(key))
    elif t == "hash":
        v = sorted(c.hgetall(key).items())
    elif t == "zset":
        v = c.zrange(key, 0, -1, withscores=True)
    else:
        raise AssertionError("type " + t)
    return t, v, c.object("encoding", key)


def build(c, key, kind, n):
    """Fills key with a value of the given kind and size."""
    c.delete(key)
    if kind == "str":
        c.set(key, "x" * n)
    elif kind == "int":
        c.set(key, str(-n * 1234567))
    elif kind == "list":
        c.rpush(key, *["e%d" % i for i in range(n)])
    elif kind == "intset":
        c.sadd(key, *range(n))
    elif kind == "set":
        c.sadd(key, *["m%d" % i for i in range(n)])
    elif kind == "hash":
        c.hset(key, mapping={"f%d" % i: "v%d" % i for i in range(n)})
    elif kind == "zset":
        c.zadd(key, {"m%d" % i: i / 7 for i in range(n)})
    else:
        raise AssertionError(kind)


CASES = [
    ("str", 10, b"embstr"), ("str", 500, b"raw"), ("int", 3, b"int"),
    ("list", 10, b"listpack"), ("list", 5000, b"quicklist"),
    ("intset", 10, b"intset"), ("intset", 1000, b"hashtable"),
    ("set", 10, b"listpack"), ("set", 1000, b"hashtable"),
    ("hash", 10, b"listpack"), ("hash", 1000, b"hashtable"),
    ("zset", 10, b"listpack"), ("zset", 1000, b"skiplist"),
]


@pytest.mark.parametrize("kind,n,enc", CASES)
@pytest.mark.parametrize("dst", [K1, K0B], ids=["other-shard", "same-shard"])
def test_round_trip(r, kind, n, enc, dst):
    build(r, K0, kind, n)
    before = content(r, K0)
    assert before[2] == enc
    payload = r.dump(K0)
    assert payload[-10:-8] == b"\x01\xa0"  # our version, little endian
    assert r.restore(dst, 0, payload)
    assert content(r, dst) == before
    assert r.ttl(dst) == -1
    # The copy dumps to the same bytes (ordered or compact encodings).
    if enc not in (b"hashtable",):
        assert r.dump(dst) == payload


def test_round_trip_big(r):
    r.zadd(K0, {"m%d" % i: (i * 7919) % 100003 / 3 for i in range(50000)})
    r.zadd(K0, {"inf": float("inf"), "ninf": float("-inf")})
    payload = r.dump(K0)
    assert r.restore(K1, 0, payload)
    assert r.zcard(K1) == 50002
    assert r.zrange(K1, 0, 20, withscores=True) == \
        r.zrange(K0, 0, 20, withscores=True)
    assert r.zrange(K1, -20, -1, withscores=True) == \
        r.zrange(K0, -20, -1, withscores=True)
    assert r.dump(K1) == payload
    r.rpush("biglist", *["v" * (i % 100) for i in range(100000)])
    payload = r.dump("biglist")
    assert r.restore("biglist2", 0, payload)
    assert r.lrange("biglist2", 0, -1) == r.lrange("biglist", 0, -1)


def test_ttl_absttl_replace(r):
    r.set(K0, "v")
    p = r.dump(K0)
    assert r.restore(K1, 10000, p)
    assert 9000 < r.pttl(K1) <= 10000
    assert error_of(r.restore, K1, 0, p) == \
        "BUSYKEY Target key name already exists."
    assert r.restore(K1, 0, p, replace=True)
    assert r.pttl(K1) == -1
    when = int(time.time() * 1000) + 60000
    assert r.restore(K0B, when, p, absttl=True)
    assert 50000 < r.pttl(K0B) <= 60000
    # A time already past: OK, nothing created; with REPLACE the old
    # key goes.
    assert r.restore("gone", 1, p, absttl=True)
    assert r.exists("gone") == 0
    assert r.restore(K1, 1, p, absttl=True, replace=True)
    assert r.exists(K1) == 0
    # REPLACE over another type.
    r.rpush(K1, "a")
    assert r.restore(K1, 0, p, replace=True)
    assert r.get(K1) == b"v"


def test_idletime_freq(r):
    r.set(K0, "v")
    p = r.dump(K0)
    assert r.restore(K1, 0, p, idletime=1000)
    assert 1000 <= r.object("idletime", K1) <= 1001
    assert r.restore(K0B, 0, p, frequency=10)
    assert r.get(K0B) == b"v"


def test_redis_payloads_refused_both_ways(r, redis_ref):
    for kind, n, _ in CASES:
        build(redis_ref, "x", kind, n)
        build(r, K0, kind, n)
        theirs = redis_ref.dump("x")
        ours = r.dump(K0)
        assert error_of(r.restore, K1, 0, theirs) == PAYLOAD_ERR
        assert error_of(redis_ref.restore, "y", 0, ours) == PAYLOAD_ERR
    assert r.exists(K1) == 0
    assert redis_ref.exists("y") == 0


def test_damaged_payloads(r):
    r.hset(K0, mapping={"a": "1", "b": "2"})
    p = r.dump(K0)
    for i in range(len(p)):
        bad = bytearray(p)
        bad[i] ^= 0x04
        assert error_of(r.restore, K1, 0, bytes(bad)) == PAYLOAD_ERR
    for n in range(len(p)):
        assert error_of(r.restore, K1, 0, p[:n]) == PAYLOAD_ERR
    assert r.exists(K1) == 0
    assert r.ping()


def run_both(c, *args):
    """Runs a command; returns its reply or its error text."""
    try:
        return ("ok", c.execute_command(*args))
    except redis.ResponseError as e:
        return ("err", str(e))


def test_errors_match_redis(r, redis_ref):
    """Error replies where the payload is not involved, each server given
    its own valid payload (or the same garbage)."""
    for c in (r, redis_ref):
        c.delete(K0, K1, "busy")
        c.set(K0, "v")
        c.set("busy", "b")
    pr, pref = r.dump(K0), redis_ref.dump(K0)
    cases = [
        ["busy", 0, "$P"],
        ["busy", "abc", "$P"],
        ["busy", -1, "$P"],
        [K1, "abc", "$P"],
        [K1, -1, "$P"],
        [K1, "1.5", "$P"],
        [K1, 0, "$P", "nope"],
        ["busy", 0, "$P", "nope"],
        [K1, 0, "$P", "idletime"],
        [K1, 0, "$P", "freq"],
        [K1, 0, "$P", "idletime", "-1"],
        [K1, 0, "$P", "idletime", "x"],
        [K1, 0, "$P", "freq", "256"],
        [K1, 0, "$P", "freq", "-1"],
        [K1, 0, "$P", "freq", "1.5"],
        [K1, 0, "$P", "idletime", "1", "freq", "1"],
        [K1, 0, "$P", "freq", "1", "idletime", "1"],
        [K1, -1, "$P", "freq", "300"],
        [K1, 0, "garbage"],
        [K1, 0, ""],
        [K1],
        [K1, 0],
    ]
    for case in cases:
        ours = run_both(r, "RESTORE", *[pr if a == "$P" else a for a in case])
        theirs = run_both(redis_ref, "RESTORE",
                          *[pref if a == "$P" else a for a in case])
        assert ours == theirs, case
    for args in (["DUMP"], ["DUMP", "a", "b"], ["DUMP", "missing"]):
        assert run_both(r, *args) == run_both(redis_ref, *args)


def test_ttl_edges_match_redis(r, redis_ref):
    """TTLs in the past or past the 64-bit range: same outcome."""
    for c in (r, redis_ref):
        c.delete(K0, K1)
        c.set(K0, "v")
        p = c.dump(K0)
        assert c.restore(K1, 1, p, absttl=True)
        assert c.exists(K1) == 0
        assert c.restore(K1, 9223372036854775807, p)
        assert c.exists(K1) == 0
        assert c.restore(K1, 9223372036854775807, p, absttl=True)
        assert c.exists(K1) == 1
        assert c.restore(K0, 1, p, absttl=True, replace=True)
        assert c.exists(K0) == 0


def test_restore_in_transaction(r):
    r.set(K0, "v")
    p = r.dump(K0)
    with r.pipeline(transaction=True) as pipe:
        pipe.restore(K1, 0, p)
        pipe.restore(K0B, 0, p)
        pipe.get(K1)
        assert pipe.execute() == [b"OK", b"OK", b"v"]
