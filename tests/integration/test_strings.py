"""String commands through redis-py (and raw bytes where the encoding
matters): GET SET (EX PX EXAT PXAT NX XX KEEPTTL GET) SETNX SETEX PSETEX
GETEX GETDEL GETSET MGET MSET MSETNX INCR DECR INCRBY DECRBY INCRBYFLOAT
APPEND STRLEN GETRANGE SETRANGE SUBSTR LCS, with their options and errors.

Keys are picked on both shards of the default 2-shard server so that the
multi-key commands (MGET, MSET, MSETNX, LCS) cross shards. Expected values
are Redis 7's; test_same_replies_as_redis also runs one script against
Debian's redis-server and compares every reply.
"""
import random
import shlex
import time

import pytest
import redis

from conftest import key_on, shard_of

ERR_INT = "value is not an integer or out of range"
ERR_FLOAT = "value is not a valid float"
ERR_SYNTAX = "syntax error"
ERR_OVERFLOW = "increment or decrement would overflow"
ERR_TOO_BIG = "string exceeds maximum allowed size (proto-max-bulk-len)"
ERR_NAN = "increment would produce NaN or Infinity"


def error_of(fn, *args, **kw):
    """Runs fn and returns the text of the error reply it raised."""
    with pytest.raises(redis.ResponseError) as e:
        fn(*args, **kw)
    return str(e.value)


def cmd_error(r, *args):
    """The error text of a raw command."""
    return error_of(r.execute_command, *args)


@pytest.fixture
def r(apiary):
    c = apiary.client(decode_responses=True)
    yield c
    c.close()


@pytest.fixture
def rr(apiary):
    """A client without redis-py's reply conversions: execute_command
    returns the server's reply as sent (decoded to str)."""
    c = apiary.client(decode_responses=True)
    c.response_callbacks.clear()
    yield c
    c.close()


@pytest.fixture
def rb(apiary):
    c = apiary.client()
    yield c
    c.close()


# --- GET / SET ---------------------------------------------------------------


def test_get_set_basic(r, rb):
    assert r.get("s:none") is None
    assert r.set("s:a", "hello") is True
    assert r.get("s:a") == "hello"
    assert r.set("s:a", "") is True
    assert r.get("s:a") == ""
    binary = bytes(range(256)) + b"\r\n\0\r\n"
    assert rb.set(b"s:bin\0key", binary) is True
    assert rb.get(b"s:bin\0key") == binary
    assert rb.strlen(b"s:bin\0key") == len(binary)
    assert cmd_error(r, "GET") == \
        "wrong number of arguments for 'get' command"
    assert cmd_error(r, "SET", "x") == \
        "wrong number of arguments for 'set' command"


def test_set_nx_xx(r):
    assert r.set("s:nx", "1", nx=True) is True
    assert r.set("s:nx", "2", nx=True) is None
    assert r.get("s:nx") == "1"
    assert r.set("s:xx", "1", xx=True) is None
    assert r.exists("s:xx") == 0
    assert r.set("s:nx", "3", xx=True) is True
    assert r.get("s:nx") == "3"
    assert cmd_error(r, "SET", "s:nx", "v", "NX", "XX") == ERR_SYNTAX
    assert cmd_error(r, "SET", "s:nx", "v", "XX", "NX") == ERR_SYNTAX


def test_set_get_option(r, rr):
    assert rr.execute_command("SET", "s:g", "new", "GET") is None
    assert rr.execute_command("SET", "s:g", "newer", "GET") == "new"
    assert r.get("s:g") == "newer"
    # NX with GET (Redis 7): returns the old value and does not set.
    assert rr.execute_command("SET", "s:g", "x", "NX", "GET") == "newer"
    assert r.get("s:g") == "newer"
    assert rr.execute_command("SET", "s:g2", "x", "NX", "GET") is None
    assert r.get("s:g2") == "x"
    # XX with GET on a missing key: nil and nothing set.
    assert rr.execute_command("SET", "s:g3", "x", "XX", "GET") is None
    assert r.exists("s:g3") == 0
    assert rr.execute_command("SET", "s:g", "y", "XX", "GET") == "newer"
    assert r.get("s:g") == "y"
    assert rr.execute_command("SET", "s:g", "z") == "OK"
    assert rr.execute_command("SET", "s:g", "z", "NX") is None


def test_set_expiry_options(r, rr):
    now = int(time.time())
    assert r.set("s:e", "v", ex=100) is True
    assert 99 <= r.ttl("s:e") <= 100
    assert r.set("s:e", "v", px=100000) is True
    assert 99000 <= r.pttl("s:e") <= 100000
    assert r.set("s:e", "v", exat=now + 200) is True
    assert 198 <= r.ttl("s:e") <= 200
    assert r.expiretime("s:e") == now + 200
    assert r.set("s:e", "v", pxat=(now + 300) * 1000 + 123) is True
    assert r.pexpiretime("s:e") == (now + 300) * 1000 + 123
    # KEEPTTL keeps it; a plain SET drops it.
    assert r.set("s:e", "w", keepttl=True) is True
    assert r.pexpiretime("s:e") == (now + 300) * 1000 + 123
    assert r.get("s:e") == "w"
    assert r.set("s:e", "v") is True
    assert r.ttl("s:e") == -1
    # An absolute time in the past deletes the key at once.
    assert r.set("s:e", "v", exat=1) is True
    assert r.exists("s:e") == 0
    assert r.set("s:e", "v", pxat=1) is True
    assert r.get("s:e") is None
    # GET with an expiry returns the old value and sets the TTL.
    r.set("s:e", "old")
    assert rr.execute_command("SET", "s:e", "new", "EX", "50", "GET") == \
        "old"
    assert 49 <= r.ttl("s:e") <= 50


@pytest.mark.parametrize("args,error", [
    (("EX", "0"), "invalid expire time in 'set' command"),
    (("EX", "-1"), "invalid expire time in 'set' command"),
    (("PX", "0"), "invalid expire time in 'set' command"),
    (("EXAT", "0"), "invalid expire time in 'set' command"),
    (("PXAT", "-5"), "invalid expire time in 'set' command"),
    (("EX", "9223372036854775807"), "invalid expire time in 'set' command"),
    (("PX", "9223372036854775807"), "invalid expire time in 'set' command"),
    (("EX", "abc"), ERR_INT),
    (("PX", "1.5"), ERR_INT),
    (("EX",), ERR_SYNTAX),
    (("EX", "10", "PX", "10"), ERR_SYNTAX),
    (("KEEPTTL", "EX", "10"), ERR_SYNTAX),
    (("EXAT", "10", "PXAT", "10"), ERR_SYNTAX),
    (("FOO",), ERR_SYNTAX),
])
def test_set_option_errors(r, args, error):
    r.set("s:opt", "before")
    assert cmd_error(r, "SET", "s:opt", "after", *args) == error
    assert r.get("s:opt") == "before"
    assert r.ttl("s:opt") == -1


def test_set_repeated_options_are_accepted(r, rr):
    """Redis only rejects conflicting options; a repeated one is fine and
    the last value wins."""
    r.set("s:rep", "a")
    assert rr.execute_command("SET", "s:rep", "b", "GET", "GET") == "a"
    assert rr.execute_command("SET", "s:rep", "c", "XX", "XX") == "OK"
    assert rr.execute_command("SET", "s:rep", "d", "EX", "10", "EX",
                              "200") == "OK"
    assert 199 <= r.ttl("s:rep") <= 200
    assert rr.execute_command("SET", "s:rep", "e", "KEEPTTL",
                              "KEEPTTL") == "OK"
    assert 199 <= r.ttl("s:rep") <= 200
    assert rr.execute_command("SET", "s:new", "f", "NX", "NX") == "OK"
    assert r.mget("s:rep", "s:new") == ["e", "f"]


def test_setnx_setex_psetex(r):
    assert r.setnx("s:n", "1") is True
    assert r.setnx("s:n", "2") is False
    assert r.get("s:n") == "1"
    assert r.setex("s:x", 100, "v") is True
    assert 99 <= r.ttl("s:x") <= 100
    assert r.psetex("s:p", 5000, "v") is True
    assert 4000 <= r.pttl("s:p") <= 5000
    assert cmd_error(r, "SETEX", "s:x", "0", "v") == \
        "invalid expire time in 'setex' command"
    assert cmd_error(r, "SETEX", "s:x", "-5", "v") == \
        "invalid expire time in 'setex' command"
    assert cmd_error(r, "PSETEX", "s:x", "0", "v") == \
        "invalid expire time in 'psetex' command"
    assert cmd_error(r, "SETEX", "s:x", "abc", "v") == ERR_INT
    assert cmd_error(r, "SETEX", "s:x", "10") == \
        "wrong number of arguments for 'setex' command"
    assert cmd_error(r, "SETNX", "s:x") == \
        "wrong number of arguments for 'setnx' command"


def test_getex(r):
    assert r.getex("s:gx") is None
    assert r.execute_command("GETEX", "s:gx", "EX", "10") is None
    assert r.exists("s:gx") == 0
    r.set("s:gx", "v")
    assert r.getex("s:gx") == "v"
    assert r.ttl("s:gx") == -1
    assert r.getex("s:gx", ex=100) == "v"
    assert 99 <= r.ttl("s:gx") <= 100
    assert r.getex("s:gx", px=50000) == "v"
    assert 49000 <= r.pttl("s:gx") <= 50000
    now = int(time.time())
    assert r.getex("s:gx", exat=now + 500) == "v"
    assert r.expiretime("s:gx") == now + 500
    assert r.getex("s:gx", pxat=(now + 600) * 1000) == "v"
    assert r.pexpiretime("s:gx") == (now + 600) * 1000
    assert r.getex("s:gx", persist=True) == "v"
    assert r.ttl("s:gx") == -1
    # A time in the past deletes the key after returning it.
    assert r.getex("s:gx", exat=1) == "v"
    assert r.exists("s:gx") == 0
    r.set("s:gx", "v")
    assert cmd_error(r, "GETEX", "s:gx", "PX", "0") == \
        "invalid expire time in 'getex' command"
    assert cmd_error(r, "GETEX", "s:gx", "EX", "-1") == \
        "invalid expire time in 'getex' command"
    assert cmd_error(r, "GETEX", "s:gx", "EX", "10", "PX", "10") == ERR_SYNTAX
    assert cmd_error(r, "GETEX", "s:gx", "PERSIST", "EX", "10") == \
        ERR_SYNTAX
    assert cmd_error(r, "GETEX", "s:gx", "FOO") == ERR_SYNTAX
    assert cmd_error(r, "GETEX", "s:gx", "EX") == ERR_SYNTAX
    assert cmd_error(r, "GETEX", "s:gx", "EX", "x") == ERR_INT
    assert r.get("s:gx") == "v" and r.ttl("s:gx") == -1


def test_getdel_getset(r):
    r.set("s:d", "v", ex=100)
    assert r.getdel("s:d") == "v"
    assert r.getdel("s:d") is None
    assert r.exists("s:d") == 0
    assert r.getset("s:gs", "1") is None
    r.expire("s:gs", 100)
    assert r.getset("s:gs", "2") == "1"
    # GETSET discards the TTL, like SET.
    assert r.ttl("s:gs") == -1
    assert r.get("s:gs") == "2"


# --- multi-key: MGET MSET MSETNX ---------------------------------------------


def test_mset_mget_100_keys_across_shards(r, rr):
    keys = ["mk:%d" % i for i in range(100)]
    assert {shard_of(k) for k in keys} == {0, 1}
    pairs = {k: "value-of-" + k for k in keys}
    assert r.mset(pairs) is True
    order = list(keys)
    random.Random(3).shuffle(order)
    assert r.mget(order) == [pairs[k] for k in order]
    # Missing keys interleaved are nil in their positions.
    mixed = []
    for i, k in enumerate(order[:50]):
        mixed.append(k)
        mixed.append("mk:none:%d" % i)
    want = []
    for k in order[:50]:
        want += [pairs[k], None]
    assert r.mget(mixed) == want
    # The same key repeated, and MSET overwrites (last one wins).
    assert r.mget(keys[0], keys[0], keys[1]) == [pairs[keys[0]]] * 2 + \
        [pairs[keys[1]]]
    assert rr.execute_command("MSET", keys[0], "a", keys[1], "b",
                              keys[0], "c") == "OK"
    assert r.mget(keys[0], keys[1]) == ["c", "b"]
    # MSET drops TTLs.
    r.expire(keys[2], 100)
    r.mset({keys[2]: "x"})
    assert r.ttl(keys[2]) == -1
    assert r.dbsize() == 100


def test_mset_mget_arity_errors(r, apiary):
    assert cmd_error(r, "MGET") == \
        "wrong number of arguments for 'mget' command"
    assert cmd_error(r, "MSET", "a") == \
        "wrong number of arguments for 'mset' command"
    # An odd number of arguments: Redis checks it after the arity.
    assert cmd_error(r, "MSET", "a", "1", "b") == \
        "wrong number of arguments for 'mset' command"
    assert cmd_error(r, "MSETNX", "a", "1", "b") == \
        "wrong number of arguments for 'msetnx' command"
    assert r.exists("a", "b") == 0
    assert apiary.alive()


def test_msetnx_across_shards(r):
    k0, k1 = key_on(0, "nx"), key_on(1, "nx")
    k0b, k1b = key_on(0, "nxb"), key_on(1, "nxb")
    assert r.msetnx({k0: "a", k1: "b"}) is True
    assert r.mget(k0, k1) == ["a", "b"]
    # One existing key on either shard: nothing is set.
    assert r.msetnx({k0b: "x", k1: "y"}) is False
    assert r.msetnx({k1b: "x", k0: "y"}) is False
    assert r.mget(k0b, k1b, k0, k1) == [None, None, "a", "b"]
    assert r.msetnx({k0b: "x", k1b: "y"}) is True
    assert r.mget(k0b, k1b) == ["x", "y"]
    many = {"nxm:%d" % i: str(i) for i in range(50)}
    assert r.msetnx(many) is True
    assert r.mget(list(many)) == list(many.values())


# --- counters ----------------------------------------------------------------


def test_incr_decr_family(r):
    assert r.incr("c:a") == 1
    assert r.incr("c:a") == 2
    assert r.decr("c:a") == 1
    assert r.incrby("c:a", 10) == 11
    assert r.decrby("c:a", 20) == -9
    assert r.incrby("c:a", -1) == -10
    assert r.decr("c:new") == -1
    assert r.get("c:a") == "-10"
    # INCR keeps the TTL.
    r.set("c:t", "5", ex=100)
    assert r.incr("c:t") == 6
    assert 99 <= r.ttl("c:t") <= 100
    assert cmd_error(r, "INCRBY", "c:a", "abc") == ERR_INT
    assert cmd_error(r, "INCRBY", "c:a", "1.5") == ERR_INT
    assert cmd_error(r, "DECRBY", "c:a", "") == ERR_INT
    assert cmd_error(r, "INCR", "c:a", "1") == \
        "wrong number of arguments for 'incr' command"


@pytest.mark.parametrize("value", ["abc", " 1", "1 ", "+1", "01", "",
                                   "1.0", "0x10", "9223372036854775808",
                                   "1e3", "-0"])
def test_incr_rejects_non_canonical_integers(r, value):
    r.set("c:bad", value)
    assert cmd_error(r, "INCR", "c:bad") == ERR_INT
    assert r.get("c:bad") == value


def test_incr_overflow(r):
    r.set("c:max", "9223372036854775807")
    assert cmd_error(r, "INCR", "c:max") == ERR_OVERFLOW
    assert r.get("c:max") == "9223372036854775807"
    r.set("c:min", "-9223372036854775808")
    assert cmd_error(r, "DECR", "c:min") == ERR_OVERFLOW
    assert r.decrby("c:min", -9223372036854775807) == -1
    r.set("c:z", "0")
    # DECRBY of LLONG_MIN cannot be negated.
    assert cmd_error(r, "DECRBY", "c:z", "-9223372036854775808") == \
        "decrement would overflow"
    assert r.incrby("c:z", 9223372036854775807) == 9223372036854775807
    assert cmd_error(r, "INCRBY", "c:z", "1") == ERR_OVERFLOW


def test_incrbyfloat(r, rr):
    assert r.incrbyfloat("f:a", 1.5) == 1.5
    assert rr.execute_command("INCRBYFLOAT", "f:a", "0.1") == "1.6"
    # Long double arithmetic, printed with 17 significant digits.
    assert rr.execute_command("INCRBYFLOAT", "f:a", "1e3") == \
        "1001.59999999999999998"
    assert rr.execute_command("INCRBYFLOAT", "f:a", "-1001.6") == "0"
    assert rr.execute_command("INCRBYFLOAT", "f:a", "-0.5") == "-0.5"
    r.set("f:b", "10.5")
    assert rr.execute_command("INCRBYFLOAT", "f:b", "0.5") == "11"
    r.set("f:c", "5.0e3")
    assert rr.execute_command("INCRBYFLOAT", "f:c", "2.0e2") == "5200"
    r.set("f:d", "3")
    assert rr.execute_command("INCRBYFLOAT", "f:d", "1") == "4"
    assert r.get("f:d") == "4"
    # Keeps the TTL.
    r.set("f:t", "1", ex=100)
    r.incrbyfloat("f:t", 1)
    assert 99 <= r.ttl("f:t") <= 100
    assert cmd_error(r, "INCRBYFLOAT", "f:a", "abc") == ERR_FLOAT
    assert cmd_error(r, "INCRBYFLOAT", "f:a", "") == ERR_FLOAT
    assert cmd_error(r, "INCRBYFLOAT", "f:a", "inf") == ERR_NAN
    assert cmd_error(r, "INCRBYFLOAT", "f:a", "nan") == ERR_FLOAT
    # Long double range: 1e400 is a valid value, 2e4932 overflows.
    r.set("f:big", "1e400")
    assert rr.execute_command("INCRBYFLOAT", "f:big", "-1e400") == "0"
    r.set("f:big", "1e4932")
    assert cmd_error(r, "INCRBYFLOAT", "f:big", "1e4932") == ERR_NAN
    assert cmd_error(r, "INCRBYFLOAT", "f:big", "1e4933") == ERR_FLOAT
    assert r.get("f:big") == "1e4932"
    r.set("f:hex", "0x10")
    assert rr.execute_command("INCRBYFLOAT", "f:hex", "1") == "17"
    for bad in ["abc", " 1", "1 ", "1e4933", ""]:
        r.set("f:bad", bad)
        assert cmd_error(r, "INCRBYFLOAT", "f:bad", "1") == ERR_FLOAT
        assert r.get("f:bad") == bad


# --- APPEND STRLEN GETRANGE SUBSTR SETRANGE ----------------------------------


def test_append_strlen(r):
    assert r.append("a:s", "hello") == 5
    assert r.append("a:s", " world") == 11
    assert r.get("a:s") == "hello world"
    assert r.strlen("a:s") == 11
    assert r.strlen("a:none") == 0
    assert r.append("a:s", "") == 11
    r.set("a:n", "12")
    assert r.append("a:n", "34") == 4
    assert r.incr("a:n") == 1235
    # APPEND keeps the TTL.
    r.expire("a:s", 100)
    r.append("a:s", "!")
    assert 99 <= r.ttl("a:s") <= 100


@pytest.mark.parametrize("start,end,want", [
    (0, 4, "hello"), (-5, -1, "world"), (5, 2, ""), (-100, 100,
                                                    "hello world"),
    (100, 200, ""), (0, -100, "h"), (0, 0, "h"), (-1, -1, "d"),
    (10, 10, "d"), (11, 11, ""), (3, -3, "lo wor"),
])
def test_getrange(r, start, end, want):
    r.set("gr", "hello world")
    assert r.getrange("gr", start, end) == want
    assert r.execute_command("SUBSTR", "gr", start, end) == want


def test_getrange_errors_and_missing(r):
    assert r.getrange("gr:none", 0, -1) == ""
    r.set("gr", "abc")
    assert cmd_error(r, "GETRANGE", "gr", "a", "b") == ERR_INT
    assert cmd_error(r, "GETRANGE", "gr", "0") == \
        "wrong number of arguments for 'getrange' command"
    assert cmd_error(r, "SUBSTR", "gr", "0", "x") == ERR_INT


def test_setrange(r, rb):
    assert r.setrange("sr", 5, "hi") == 7
    assert rb.get("sr") == b"\0\0\0\0\0hi"
    assert r.setrange("sr", 0, "HE") == 7
    assert rb.get("sr") == b"HE\0\0\0hi"
    assert r.setrange("sr", 6, "llo") == 9
    assert rb.get("sr") == b"HE\0\0\0hllo"
    # An empty value changes nothing and does not create the key.
    assert r.setrange("sr", 100, "") == 9
    assert r.setrange("sr:none", 3, "") == 0
    assert r.exists("sr:none") == 0
    assert cmd_error(r, "SETRANGE", "sr", "-1", "x") == \
        "offset is out of range"
    assert cmd_error(r, "SETRANGE", "sr", "abc", "x") == ERR_INT
    # Past proto-max-bulk-len (512 MB by default).
    assert cmd_error(r, "SETRANGE", "sr", str(512 * 1024 * 1024),
                     "x") == ERR_TOO_BIG
    assert r.strlen("sr") == 9
    # SETRANGE keeps the TTL.
    r.expire("sr", 100)
    r.setrange("sr", 0, "x")
    assert 99 <= r.ttl("sr") <= 100


# --- LCS ---------------------------------------------------------------------


@pytest.fixture
def lcs_keys(r):
    """Two keys on different shards."""
    a, b = key_on(0, "lcs"), key_on(1, "lcs")
    r.set(a, "ohmytext")
    r.set(b, "mynewtext")
    return a, b


def test_lcs_across_shards(r, lcs_keys):
    a, b = lcs_keys
    assert r.execute_command("LCS", a, b) == "mytext"
    assert r.execute_command("LCS", b, a) == "mytext"
    assert r.execute_command("LCS", a, b, "LEN") == 6
    assert r.execute_command("LCS", a, b, "IDX") == [
        "matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], "len", 6]
    assert r.execute_command("LCS", a, b, "IDX", "MINMATCHLEN", "4") == [
        "matches", [[[4, 7], [5, 8]]], "len", 6]
    assert r.execute_command("LCS", a, b, "IDX", "MINMATCHLEN", "4",
                             "WITHMATCHLEN") == [
        "matches", [[[4, 7], [5, 8], 4]], "len", 6]
    assert r.execute_command("LCS", a, b, "IDX", "WITHMATCHLEN") == [
        "matches", [[[4, 7], [5, 8], 4], [[2, 3], [0, 1], 2]], "len", 6]
    # Missing keys are empty strings.
    assert r.execute_command("LCS", a, "lcs:none") == ""
    assert r.execute_command("LCS", "lcs:none", "lcs:none2", "LEN") == 0
    assert r.execute_command("LCS", "lcs:none", b, "IDX") == [
        "matches", [], "len", 0]


def test_lcs_errors(r, lcs_keys):
    a, b = lcs_keys
    assert cmd_error(r, "LCS", a, b, "LEN", "IDX") == \
        "If you want both the length and indexes, please just use IDX."
    assert cmd_error(r, "LCS", a, b, "FOO") == ERR_SYNTAX
    assert cmd_error(r, "LCS", a, b, "MINMATCHLEN") == ERR_SYNTAX
    assert cmd_error(r, "LCS", a, b, "IDX", "MINMATCHLEN", "x") == ERR_INT
    assert cmd_error(r, "LCS", a) == \
        "wrong number of arguments for 'lcs' command"
    # A negative MINMATCHLEN is treated as 0.
    assert r.execute_command("LCS", a, b, "IDX", "MINMATCHLEN", "-1") == \
        r.execute_command("LCS", a, b, "IDX")


def test_lcs_longer_strings(r):
    rnd = random.Random(5)
    x = "".join(rnd.choice("ab") for _ in range(300))
    y = "".join(rnd.choice("ab") for _ in range(300))
    a, b = key_on(0, "lcsl"), key_on(1, "lcsl")
    r.mset({a: x, b: y})

    # Reference LCS length by dynamic programming.
    prev = [0] * (len(y) + 1)
    for ch in x:
        cur = [0]
        for j, cy in enumerate(y):
            cur.append(prev[j] + 1 if ch == cy else max(prev[j + 1], cur[j]))
        prev = cur
    assert r.execute_command("LCS", a, b, "LEN") == prev[-1]
    common = r.execute_command("LCS", a, b)
    assert len(common) == prev[-1]

    def is_subseq(s, t):
        it = iter(t)
        return all(c in it for c in s)
    assert is_subseq(common, x) and is_subseq(common, y)


# --- differential run against Debian's redis-server --------------------------



DIFF_SCRIPT = """
set foo bar
set foo baz get
set foo v nx get
set foo v xx get
set nokey v xx get
set foo v ex 100 get
setnx foo x
getset foo y
getdel foo
getdel foo
mset a 1 b 2 c 3 d 4 e 5 f 6
mget f e d c b a z
msetnx a 1 zz 2
msetnx zz 2 yy 3
mget zz yy
incr cnt
incrby cnt 41
decrby cnt 2
decr cnt
incrby cnt -9223372036854775808
set big 9223372036854775806
incr big
incr big
incrbyfloat fl 0.1
incrbyfloat fl 0.2
incrbyfloat fl -0.3
incrbyfloat fl 1.23e5
incrbyfloat fl 5e-3
set fl 17.000
incrbyfloat fl 0
set fl 1e10
incrbyfloat fl 1
set fl 0.0000001
incrbyfloat fl 0
append ap abc
append ap def
getrange ap 1 -2
getrange ap -2 100
getrange ap 4 1
substr ap 0 0
setrange ap 10 xyz
getrange ap 0 -1
strlen ap
set lk1 ABCBDAB
set lk2 BDCABA
lcs lk1 lk2
lcs lk1 lk2 len
lcs lk1 lk2 idx
lcs lk1 lk2 idx withmatchlen
lcs lk1 lk2 idx minmatchlen 2
set lk3 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
lcs lk3 lk3 idx withmatchlen
lcs lk3 lk1 idx
getex a ex 100
getex a persist
getex zzz
"""


def test_same_replies_as_redis(apiary, redis_ref):
    """Runs DIFF_SCRIPT on Apiary and on redis-server; every reply (or
    error text) must be the same."""
    ours = apiary.client()
    ours.response_callbacks.clear()
    ref = redis.Redis(**redis_ref.connection_pool.connection_kwargs)
    ref.response_callbacks.clear()
    ref.flushall()

    def run(c, args):
        try:
            return c.execute_command(*args)
        except redis.ResponseError as e:
            return "ERROR: %s" % e

    mismatches = []
    for line in DIFF_SCRIPT.strip().splitlines():
        args = shlex.split(line)
        a, b = run(ours, args), run(ref, args)
        if a != b:
            mismatches.append("%s -> apiary %r, redis %r" % (line, a, b))
    ours.close()
    ref.close()
    assert mismatches == []
