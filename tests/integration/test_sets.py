"""Set commands through redis-py and raw RESP against a real server:
SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS SPOP SRANDMEMBER SMOVE
SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE SSCAN,
with their options and errors, encodings (Redis 7.2 rules), big sets,
and keys on both shards of the default 2-shard server (SMOVE, the *STORE
commands and SINTERCARD across shards).

Replies are compared with Debian's redis-server (7.0) wherever 7.0 and
7.2 agree: a fixed script of commands in RESP2 (redis-py) and RESP3 (raw
bytes), and a randomized run. Set replies are compared as sets: member
order is unspecified (and differs where 7.0 uses a hashtable and 7.2 a
listpack).
"""
import random
import socket

import pytest
import redis

from conftest import cmd, key_on, recv_until, shard_of

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"

# Keys on each shard.
A0 = key_on(0, "sa")
A1 = key_on(1, "sa")
B0 = key_on(0, "sb")
B1 = key_on(1, "sb")
C0 = key_on(0, "sc")
C1 = key_on(1, "sc")


def error_of(fn, *args, **kw):
    """Runs fn and returns the text of the error reply it raised."""
    with pytest.raises(redis.ResponseError) as e:
        fn(*args, **kw)
    return str(e.value)


@pytest.fixture
def r(apiary):
    c = apiary.client(decode_responses=True)
    yield c
    c.close()


def test_keys_cross_shards():
    assert {shard_of(A0), shard_of(B0), shard_of(C0)} == {0}
    assert {shard_of(A1), shard_of(B1), shard_of(C1)} == {1}


# --- basics -------------------------------------------------------------------


@pytest.mark.parametrize("k", [A0, A1])
def test_add_rem_card(r, k):
    assert r.sadd(k, "a", "b", "c", "a") == 3
    assert r.sadd(k, "a") == 0
    assert r.scard(k) == 3
    assert r.sismember(k, "a")
    assert not r.sismember(k, "z")
    assert [bool(x) for x in r.smismember(k, ["a", "z", "c"])] == [True, False, True]
    assert r.smembers(k) == {"a", "b", "c"}
    assert r.srem(k, "a", "z") == 1
    assert r.srem(k, "b", "c") == 2
    assert r.exists(k) == 0
    assert r.scard(k) == 0
    assert r.smembers(k) == set()


def test_wrongtype(r):
    r.set(A0, "v")
    for args in (("sadd", A0, "x"), ("srem", A0, "x"), ("scard", A0),
                 ("smembers", A0), ("spop", A0), ("srandmember", A0),
                 ("sscan", A0, 0), ("sinter", A0), ("sunion", A0),
                 ("sdiff", A0), ("sintercard", 1, A0),
                 ("sismember", A0, "x"), ("smismember", A0, "x")):
        assert error_of(r.execute_command, *args) == WRONGTYPE


def test_encodings(r):
    """OBJECT ENCODING follows Redis 7.2: intset, listpack, hashtable."""
    r.sadd(A0, *range(512))
    assert r.object("encoding", A0) == "intset"
    r.sadd(A0, 512)
    assert r.object("encoding", A0) == "hashtable"
    r.sadd(A1, 1, 2, 3)
    assert r.object("encoding", A1) == "intset"
    r.sadd(A1, "x")
    assert r.object("encoding", A1) == "listpack"
    r.sadd(A1, *["m%d" % i for i in range(124)])
    assert r.scard(A1) == 128
    assert r.object("encoding", A1) == "listpack"
    r.sadd(A1, "one-more")
    assert r.object("encoding", A1) == "hashtable"
    r.sadd(B0, "v" * 64)
    assert r.object("encoding", B0) == "listpack"
    r.sadd(B0, "v" * 65)
    assert r.object("encoding", B0) == "hashtable"
    # CONFIG SET changes the thresholds for later writes
    r.config_set("set-max-intset-entries", 2)
    r.sadd(B1, 1, 2)
    assert r.object("encoding", B1) == "intset"
    r.sadd(B1, 3)
    assert r.object("encoding", B1) == "hashtable"
    r.sadd(C0, 1, 2, 3)  # three at once: past intset, within listpack
    assert r.object("encoding", C0) == "listpack"


def test_spop_srandmember(r):
    r.sadd(A1, *range(100))
    popped = r.spop(A1, 30)
    assert len(popped) == 30 and len(set(popped)) == 30
    assert r.scard(A1) == 70
    assert not (set(popped) & r.smembers(A1))
    one = r.spop(A1)
    assert one not in r.smembers(A1)
    sample = r.srandmember(A1, 20)
    assert len(set(sample)) == 20 and set(sample) <= r.smembers(A1)
    rep = r.srandmember(A1, -500)
    assert len(rep) == 500 and set(rep) <= r.smembers(A1)
    assert r.srandmember(A1) in r.smembers(A1)
    assert set(r.spop(A1, 1000)) | set(popped) | {one} == {str(i) for i in range(100)}
    assert r.exists(A1) == 0
    assert r.spop(A1) is None
    assert r.srandmember(A1) is None
    assert not r.spop(A1, 3)


def test_srandmember_negative_limit(r):
    r.sadd(A0, "a")
    assert "out of range" in error_of(r.srandmember, A0, -10000001)


# --- multi-key across shards ----------------------------------------------------


@pytest.mark.parametrize("src,dst", [(A0, B0), (A0, B1), (A1, B0)])
def test_smove_across(r, src, dst):
    r.sadd(src, "a", "b")
    assert r.smove(src, dst, "a") == 1
    assert r.smembers(dst) == {"a"}
    assert r.smove(src, dst, "zz") == 0
    assert r.smove(src, dst, "b") == 1
    assert r.exists(src) == 0
    assert r.smembers(dst) == {"a", "b"}
    assert r.smove(src, dst, "a") == 0
    r.set(src, "str")
    assert error_of(r.smove, src, dst, "a") == WRONGTYPE
    assert error_of(r.smove, dst, src, "a") == WRONGTYPE


@pytest.mark.parametrize("keys", [(A0, B0, C0), (A0, B1, C0), (A1, B0, C1)])
def test_algebra_across(r, keys):
    a, b, dst = keys
    r.sadd(a, 1, 2, 3, "x")
    r.sadd(b, 2, 3, 4, "y")
    assert r.sinter(a, b) == {"2", "3"}
    assert r.sunion(a, b) == {"1", "2", "3", "4", "x", "y"}
    assert r.sdiff(a, b) == {"1", "x"}
    assert r.sintercard(2, [a, b]) == 2
    assert r.sintercard(2, [a, b], limit=1) == 1
    assert r.sinterstore(dst, a, b) == 2
    assert r.smembers(dst) == {"2", "3"}
    assert r.sunionstore(dst, a, b) == 6
    assert r.smembers(dst) == {"1", "2", "3", "4", "x", "y"}
    assert r.sdiffstore(dst, a, b) == 2
    assert r.smembers(dst) == {"1", "x"}
    # destination among the sources, and an empty result deleting it
    assert r.sunionstore(dst, dst, b) == 6
    assert r.sinterstore(dst, dst, "nokey{x}") == 0
    assert r.exists(dst) == 0
    r.set(dst, "string", ex=100)
    assert r.sunionstore(dst, a) == 4
    assert r.ttl(dst) == -1
    assert r.type(dst) == "set"


def test_sscan_big(r):
    r.sadd(A1, *["m%d" % i for i in range(5000)])
    seen = set()
    cur = 0
    calls = 0
    while True:
        cur, items = r.sscan(A1, cur, count=50)
        seen.update(items)
        calls += 1
        if cur == 0:
            break
    assert seen == {"m%d" % i for i in range(5000)}
    assert calls > 10
    assert set(r.sscan_iter(A1, match="m49*")) == {
        "m49", "m490", "m491", "m492", "m493", "m494", "m495", "m496",
        "m497", "m498", "m499"} | {"m49%d%d" % (i, j) for i in range(10)
                                   for j in range(10)}


def test_big_set_delete_and_copy(r):
    r.sadd(A0, *range(200000))
    assert r.scard(A0) == 200000
    assert r.copy(A0, B0) == 1
    assert r.scard(B0) == 200000
    assert r.sintercard(2, [A0, B0]) == 200000
    assert r.delete(A0) == 1
    assert r.sismember(B0, 199999) == 1
    assert r.object("encoding", B0) == "hashtable"


# --- compared with redis-server --------------------------------------------------

# A fixed script; replies compared in RESP2 through redis-py (set replies
# as Python sets). Keys share a hash tag so they run together on both
# servers.
SCRIPT = [
    ("sadd", "{t}a", "1", "2", "3", "x", "y"),
    ("sadd", "{t}b", "2", "3", "4", "y", "z"),
    ("sadd", "{t}c", "3", "y"),
    ("scard", "{t}a"),
    ("sismember", "{t}a", "x"),
    ("smismember", "{t}a", "x", "q", "1"),
    ("smembers", "{t}a"),
    ("sinter", "{t}a", "{t}b", "{t}c"),
    ("sinter", "{t}a", "{t}none"),
    ("sunion", "{t}a", "{t}b", "{t}none"),
    ("sdiff", "{t}a", "{t}b"),
    ("sdiff", "{t}a", "{t}a"),
    ("sintercard", "2", "{t}a", "{t}b"),
    ("sintercard", "2", "{t}a", "{t}b", "LIMIT", "1"),
    ("sintercard", "2", "{t}a", "{t}b", "limit", "0"),
    ("sintercard", "0", "{t}a"),
    ("sintercard", "-3", "{t}a"),
    ("sintercard", "x", "{t}a"),
    ("sintercard", "5", "{t}a"),
    ("sintercard", "1", "{t}a", "limit", "-1"),
    ("sintercard", "1", "{t}a", "limit"),
    ("sintercard", "1", "{t}a", "bogus", "1"),
    ("sinterstore", "{t}d", "{t}a", "{t}b"),
    ("smembers", "{t}d"),
    ("sunionstore", "{t}d", "{t}a", "{t}b"),
    ("sdiffstore", "{t}d", "{t}a", "{t}b", "{t}c"),
    ("smembers", "{t}d"),
    ("sinterstore", "{t}d", "{t}a", "{t}none"),
    ("exists", "{t}d"),
    ("smove", "{t}a", "{t}b", "x"),
    ("smove", "{t}a", "{t}b", "nope"),
    ("smove", "{t}a", "{t}a", "1"),
    ("smove", "{t}none", "{t}a", "1"),
    ("srem", "{t}a", "1", "2", "nope"),
    ("srem", "{t}none", "1"),
    ("spop", "{t}none"),
    ("spop", "{t}none", "2"),
    ("spop", "{t}a", "-1"),
    ("spop", "{t}a", "x"),
    ("spop", "{t}a", "1", "2"),
    ("spop", "{t}c", "0"),
    ("spop", "{t}c", "5"),
    ("exists", "{t}c"),
    ("srandmember", "{t}none"),
    ("srandmember", "{t}none", "3"),
    ("srandmember", "{t}a", "0"),
    ("srandmember", "{t}a", "x"),
    ("srandmember", "{t}a", "-9223372036854775808"),
    ("srandmember", "{t}a", "1", "2"),
    ("srandmember", "{t}b", "100"),
    ("sscan", "{t}a", "x"),
    ("sscan", "{t}a", "0", "count", "0"),
    ("sscan", "{t}a", "0", "count", "x"),
    ("sscan", "{t}a", "0", "type", "set"),
    ("sscan", "{t}a", "0", "match"),
    ("sscan", "{t}none", "0", "count", "0"),
    ("sscan", "{t}b", "0", "match", "[yz]"),
    ("set", "{t}s", "v"),
    ("sadd", "{t}s", "x"),
    ("sinter", "{t}none", "{t}s"),
    ("sunionstore", "{t}s", "{t}b"),
    ("type", "{t}s"),
    ("sadd", "{t}a"),
    ("sinter",),
    ("smove", "{t}a", "{t}b"),
]


def normalize(v):
    """Set-typed replies as frozensets; lists of members compared as
    multisets where the order is unspecified."""
    if isinstance(v, (set, frozenset)):
        return frozenset(normalize(x) for x in v)
    if isinstance(v, list):
        return [normalize(x) for x in v]
    if isinstance(v, bytes):
        return v
    return v


UNORDERED = {"smembers", "sinter", "sunion", "sdiff", "srandmember", "spop"}


def run(c, args):
    try:
        v = c.execute_command(*args)
    except redis.ResponseError as e:
        return ("error", str(e))
    if args[0] in UNORDERED and isinstance(v, list):
        return frozenset(v)
    if args[0] == "sscan" and isinstance(v, (list, tuple)):
        return (v[0], frozenset(v[1]))
    return normalize(v)


def test_script_vs_redis(apiary, redis_ref):
    ours = apiary.client()
    redis_ref.flushall()
    for args in SCRIPT:
        assert run(ours, args) == run(redis_ref, args), args
    ours.close()


def raw(sock, *args):
    """Sends one command and returns the raw reply bytes (one read
    after the reply is complete enough: used for short replies)."""
    sock.sendall(cmd(*args))
    sock.settimeout(10)
    return sock.recv(1 << 20)


RESP3_SCRIPT = [
    ("sadd", "{u}a", "1", "2"),
    ("smembers", "{u}a"),
    ("smembers", "{u}none"),
    ("spop", "{u}none", "2"),
    ("spop", "{u}none"),
    ("srandmember", "{u}none"),
    ("srandmember", "{u}none", "2"),
    ("srandmember", "{u}a", "5"),
    ("sinter", "{u}a", "{u}none"),
    ("sinter", "{u}a", "{u}a"),
    ("sunion", "{u}none"),
    ("sunion", "{u}a", "{u}none"),
    ("sdiff", "{u}a", "{u}none"),
    ("sdiff", "{u}none", "{u}a"),
    ("sscan", "{u}a", "0"),
    ("sscan", "{u}none", "0"),
    ("smismember", "{u}a", "1", "3"),
    ("spop", "{u}a", "5"),
]


def test_resp3_bytes_vs_redis(apiary, redis_ref):
    """Exact RESP3 reply bytes (set type ~ where Redis uses it), with
    replies that have one possible order only."""
    ours = apiary.connect()
    ref = socket.create_connection(
        (redis_ref.connection_pool.connection_kwargs["host"],
         redis_ref.connection_pool.connection_kwargs["port"]))
    redis_ref.flushall()
    for s in (ours, ref):
        s.sendall(cmd("hello", "3"))
        recv_until(s, b"*0\r\n")
    for args in RESP3_SCRIPT:
        assert raw(ours, *args) == raw(ref, *args), args
    ours.close()
    ref.close()


def test_random_vs_redis(apiary, redis_ref):
    """Random writes and reads over a few keys, same seed on both."""
    ours = apiary.client()
    redis_ref.flushall()
    rnd = random.Random(1234)
    keys = ["{v}%d" % i for i in range(4)]
    members = [str(i) for i in range(-5, 30)] + ["m%d" % i for i in range(30)]
    for _ in range(3000):
        op = rnd.choice(["sadd", "srem", "smove", "sismember", "scard",
                         "sinterstore", "sunionstore", "sdiffstore",
                         "sinter", "sunion", "sdiff", "sintercard",
                         "smismember"])
        if op in ("sadd", "srem", "smismember"):
            args = (op, rnd.choice(keys)) + tuple(
                rnd.sample(members, rnd.randint(1, 6)))
        elif op == "smove":
            args = (op, rnd.choice(keys), rnd.choice(keys), rnd.choice(members))
        elif op == "sismember":
            args = (op, rnd.choice(keys), rnd.choice(members))
        elif op == "scard":
            args = (op, rnd.choice(keys))
        elif op.endswith("store"):
            args = (op, rnd.choice(keys)) + tuple(
                rnd.sample(keys, rnd.randint(1, 3)))
        elif op == "sintercard":
            ks = rnd.sample(keys, rnd.randint(1, 3))
            args = (op, str(len(ks))) + tuple(ks)
        else:
            args = (op,) + tuple(rnd.sample(keys, rnd.randint(1, 3)))
        assert run(ours, args) == run(redis_ref, args), args
    for k in keys:
        assert run(ours, ("smembers", k)) == run(redis_ref, ("smembers", k))
    ours.close()
