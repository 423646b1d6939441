"""List commands through redis-py and raw RESP against a real server:
LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP (with count) LLEN LRANGE LINDEX LSET
LINSERT LREM LTRIM LPOS (RANK COUNT MAXLEN) LMOVE RPOPLPUSH LMPOP, with
their options and errors, encodings, big lists, and keys on both shards
of the default 2-shard server (LMOVE, RPOPLPUSH and LMPOP across shards).

Replies are compared with Debian's redis-server (7.0) wherever 7.0 and
7.2 agree: a fixed script of commands in RESP2 (redis-py) and RESP3 (raw
bytes), and a randomized run. OBJECT ENCODING is checked against Redis
7.2's rules, since 7.0 lists are always "quicklist".
"""
import random
import socket

import pytest
import redis

from conftest import cmd, key_on, shard_of

ERR_INT = "value is not an integer or out of range"
ERR_SYNTAX = "syntax error"
ERR_POSITIVE = "value is out of range, must be positive"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"

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


# Keys on each shard, and pairs that cross shards.
A0 = key_on(0, "la")
A1 = key_on(1, "la")
B0 = key_on(0, "lb")
B1 = key_on(1, "lb")


def test_keys_cross_shards():
    assert shard_of(A0) == 0 and shard_of(B0) == 0
    assert shard_of(A1) == 1 and shard_of(B1) == 1


# --- push / pop --------------------------------------------------------------


@pytest.mark.parametrize("k", [A0, A1])
def test_push_pop(r, k):
    assert r.rpush(k, "a", "b", "c") == 3
    assert r.lpush(k, "x", "y") == 5
    assert r.lrange(k, 0, -1) == ["y", "x", "a", "b", "c"]
    assert r.lpushx(k + ":none", "a") == 0
    assert r.execute_command("RPUSHX", k + ":none", "a", "b") == 0
    assert r.exists(k + ":none") == 0
    assert r.rpushx(k, "z") == 6
    assert r.execute_command("LPUSHX", k, "p", "q") == 8
    assert r.lpop(k) == "q"
    assert r.rpop(k) == "z"
    assert r.lpop(k, 2) == ["p", "y"]
    assert r.rpop(k, 0) == []
    assert r.rpop(k, 100) == ["c", "b", "a", "x"]
    assert r.exists(k) == 0
    assert r.lpop(k) is None
    assert r.lpop(k, 2) is None
    assert r.llen(k) == 0
    assert cmd_error(r, "LPOP", k, "-1") == ERR_POSITIVE
    assert cmd_error(r, "RPOP", k, "x") == ERR_POSITIVE
    assert cmd_error(r, "LPOP", k, "1", "2") == \
        "wrong number of arguments for 'lpop' command"
    assert cmd_error(r, "LPUSH", k) == \
        "wrong number of arguments for 'lpush' command"
    r.set(k, "str")
    for args in (("LPUSH", k, "a"), ("RPUSH", k, "a"), ("LPUSHX", k, "a"),
                 ("RPUSHX", k, "a"), ("LPOP", k), ("RPOP", k, "0"),
                 ("LLEN", k), ("LRANGE", k, 0, 1), ("LINDEX", k, 0),
                 ("LSET", k, 0, "a"), ("LINSERT", k, "BEFORE", "a", "b"),
                 ("LREM", k, 0, "a"), ("LTRIM", k, 0, 1), ("LPOS", k, "a")):
        assert cmd_error(r, *args) == WRONGTYPE, args


def test_binary_and_numbers(apiary):
    rb = apiary.client()
    vals = [b"", b"\x00\r\n\xff", b"0", b"-1", b"01", b"+1", b" 1",
            b"9223372036854775807", b"-9223372036854775808",
            b"9223372036854775808", b"x" * 70, b"y" * 5000, b"z" * 20000]
    assert rb.rpush(A1, *vals) == len(vals)
    assert rb.lrange(A1, 0, -1) == vals
    for i, v in enumerate(vals):
        assert rb.lindex(A1, i) == v
        assert rb.lpos(A1, v) == vals.index(v)
    rb.close()


# --- reads -------------------------------------------------------------------


def test_lrange_lindex(r):
    r.rpush(A0, *"abcdefg")
    for start in range(-10, 10):
        for stop in range(-10, 10):
            exp = list("abcdefg")
            s, e = start, stop
            if s < 0:
                s = max(0, s + 7)
            if e < 0:
                e += 7
            want = exp[s:e + 1] if s <= e else []
            assert r.lrange(A0, start, stop) == want, (start, stop)
    for i in range(-9, 9):
        want = "abcdefg"[i] if -7 <= i < 7 else None
        assert r.lindex(A0, i) == want
    assert r.lrange("nokey", 0, -1) == []
    assert r.lindex("nokey", 0) is None
    assert r.lindex("nokey", "x") is None
    assert cmd_error(r, "LINDEX", A0, "x") == ERR_INT
    assert cmd_error(r, "LRANGE", A0, "x", 1) == ERR_INT
    assert cmd_error(r, "LRANGE", "nokey", 0, "1.5") == ERR_INT


def test_lpos(r):
    r.rpush(A1, "a", "b", "c", "d", "1", "2", "3", "4", "3", "3", "3")
    assert r.lpos(A1, "3") == 6
    assert r.lpos(A1, "3", rank=2, count=0) == [8, 9, 10]
    assert r.lpos(A1, "3", rank=-1) == 10
    assert r.lpos(A1, "3", count=2) == [6, 8]
    assert r.lpos(A1, "3", rank=-1, count=2) == [10, 9]
    assert r.lpos(A1, "3", maxlen=6) is None
    assert r.lpos(A1, "3", count=0, maxlen=7) == [6]
    assert r.lpos(A1, "zz") is None
    assert r.lpos(A1, "zz", count=1) == []
    assert r.lpos("nokey", "a") is None
    assert r.lpos("nokey", "a", count=0) == []
    assert cmd_error(r, "LPOS", A1, "3", "RANK", "0").startswith(
        "RANK can't be zero")
    assert cmd_error(r, "LPOS", A1, "3", "COUNT", "-1") == \
        "COUNT can't be negative"
    assert cmd_error(r, "LPOS", A1, "3", "MAXLEN", "-1") == \
        "MAXLEN can't be negative"
    assert cmd_error(r, "LPOS", A1, "3", "RANK") == ERR_SYNTAX
    assert cmd_error(r, "LPOS", A1, "3", "FOO", "1") == ERR_SYNTAX
    assert cmd_error(r, "LPOS", A1, "3", "RANK", "-9223372036854775808") == \
        ("value is out of range, value must between "
         "-9223372036854775807 and 9223372036854775807")


# --- in-place writes ---------------------------------------------------------


def test_lset_linsert_lrem_ltrim(r):
    k = A0
    assert cmd_error(r, "LSET", k, 0, "a") == "no such key"
    r.rpush(k, "a", "b", "c")
    assert r.lset(k, 1, "B") is True
    assert r.lset(k, -1, "C") is True
    assert cmd_error(r, "LSET", k, 3, "x") == "index out of range"
    assert cmd_error(r, "LSET", k, "x", "x") == ERR_INT
    assert r.linsert(k, "BEFORE", "B", "x") == 4
    assert r.linsert(k, "after", "C", "y") == 5
    assert r.linsert(k, "before", "nope", "y") == -1
    assert r.linsert("nokey", "before", "a", "b") == 0
    assert cmd_error(r, "LINSERT", k, "middle", "a", "b") == ERR_SYNTAX
    assert r.lrange(k, 0, -1) == ["a", "x", "B", "C", "y"]
    r.rpush(k, "a", "x", "a")
    assert r.lrem(k, 2, "a") == 2
    assert r.lrem(k, -1, "x") == 1
    assert r.lrange(k, 0, -1) == ["x", "B", "C", "y", "a"]
    assert r.lrem(k, 0, "zz") == 0
    assert r.lrem("nokey", 0, "a") == 0
    assert cmd_error(r, "LREM", k, "x", "a") == ERR_INT
    assert r.ltrim(k, 1, -2) is True
    assert r.lrange(k, 0, -1) == ["B", "C", "y"]
    assert r.ltrim("nokey", 0, 1) is True
    assert cmd_error(r, "LTRIM", k, "a", 1) == ERR_INT
    assert r.ltrim(k, 5, 10) is True
    assert r.exists(k) == 0


# --- moves across shards -------------------------------------------------------


@pytest.mark.parametrize("src,dst", [(A0, B0), (A0, A1), (A1, A0), (A1, B1)])
def test_lmove(r, src, dst):
    r.delete(src, dst)
    r.rpush(src, "a", "b", "c")
    assert r.lmove(src, dst, "LEFT", "RIGHT") == "a"
    assert r.lmove(src, dst, "RIGHT", "LEFT") == "c"
    assert r.rpoplpush(src, dst) == "b"
    assert r.exists(src) == 0
    assert r.lrange(dst, 0, -1) == ["b", "c", "a"]
    assert r.lmove(src, dst, "LEFT", "LEFT") is None
    assert r.rpoplpush(src, dst) is None
    assert r.lmove(dst, dst, "LEFT", "RIGHT") == "b"
    assert r.lrange(dst, 0, -1) == ["c", "a", "b"]
    r.set(src, "str")
    assert cmd_error(r, "LMOVE", src, dst, "LEFT", "LEFT") == WRONGTYPE
    assert cmd_error(r, "LMOVE", dst, src, "LEFT", "LEFT") == WRONGTYPE
    assert r.llen(dst) == 3
    assert cmd_error(r, "LMOVE", dst, src, "UP", "LEFT") == ERR_SYNTAX
    r.delete(src, dst)


def test_lmpop_across_shards(r):
    r.delete(A0, A1, B0)
    assert r.execute_command("LMPOP", 3, A0, A1, B0, "LEFT") is None
    r.rpush(A1, "1", "2", "3")
    r.rpush(B0, "x")
    assert r.execute_command("LMPOP", 3, A0, A1, B0, "LEFT") == \
        [A1, ["1"]]
    assert r.execute_command("LMPOP", 3, A0, A1, B0, "RIGHT", "COUNT", 5) \
        == [A1, ["3", "2"]]
    assert r.exists(A1) == 0
    assert r.execute_command("LMPOP", 3, A0, A1, B0, "LEFT", "COUNT", 9) \
        == [B0, ["x"]]
    r.set(A0, "s")
    r.rpush(B0, "y")
    assert cmd_error(r, "LMPOP", 2, A0, B0, "LEFT") == WRONGTYPE
    assert r.execute_command("LMPOP", 2, B0, A0, "LEFT") == [B0, ["y"]]
    assert cmd_error(r, "LMPOP", 0, A0, "LEFT") == \
        "numkeys should be greater than 0"
    assert cmd_error(r, "LMPOP", 2, A0, "LEFT") == ERR_SYNTAX
    assert cmd_error(r, "LMPOP", 1, A0, "LEFT", "COUNT", 0) == \
        "count should be greater than 0"
    r.delete(A0)


# --- encodings, big lists ------------------------------------------------------


def test_encodings(r):
    k = A1
    r.rpush(k, *["v"] * 128)
    assert r.object("encoding", k) == "listpack"
    r.rpush(k, "w" * 10000)
    assert r.object("encoding", k) == "quicklist"
    r.rpop(k)
    assert r.object("encoding", k) == "listpack"
    r.delete(k)
    r.rpush(k, "x" * 9000)
    assert r.object("encoding", k) == "quicklist"
    r.delete(k)
    # a count limit set at run time applies to the next command
    r.config_set("list-max-listpack-size", 4)
    try:
        r.rpush(k, 1, 2, 3, 4)
        assert r.object("encoding", k) == "listpack"
        r.rpush(k, 5)
        assert r.object("encoding", k) == "quicklist"
        r.rpop(k, 3)
        assert r.object("encoding", k) == "listpack"
    finally:
        r.config_set("list-max-listpack-size", -2)
    r.delete(k)


def test_big_list(r):
    k = A0
    n = 100000
    p = r.pipeline(transaction=False)
    for i in range(0, n, 1000):
        p.rpush(k, *range(i, i + 1000))
    p.execute()
    assert r.llen(k) == n
    assert r.object("encoding", k) == "quicklist"
    assert r.lindex(k, 54321) == "54321"
    assert r.lindex(k, -1) == str(n - 1)
    assert r.lrange(k, 49998, 50001) == ["49998", "49999", "50000", "50001"]
    assert r.lpos(k, "77777") == 77777
    assert r.lpos(k, "5", rank=-1) == 5
    assert r.linsert(k, "AFTER", "60000", "new") == n + 1
    assert r.lindex(k, 60001) == "new"
    assert r.lset(k, 60001, "NEW") is True
    assert r.lrem(k, 0, "NEW") == 1
    assert r.ltrim(k, 10, -11) is True
    assert r.llen(k) == n - 20
    assert r.lindex(k, 0) == "10"
    assert r.delete(k) == 1
    # a big list deleted (lazily) frees; the server stays responsive
    r.rpush(k, *range(5000))
    assert r.unlink(k) == 1
    assert r.exists(k) == 0


# --- the same replies as redis-server ------------------------------------------

DIFF_SCRIPT = """
RPUSH {a} a b c d 1 2 3 4 3 3 3
LRANGE {a} 0 -1
LRANGE {a} -3 100
LRANGE {a} 5 2
LRANGE {a} x 1
LINDEX {a} 4
LINDEX {a} -1
LINDEX {a} 100
LINDEX {a} x
LINDEX {none} x
LLEN {a}
LLEN {none}
LPOS {a} 3
LPOS {a} 3 RANK 2 COUNT 0
LPOS {a} 3 RANK -2 COUNT 2
LPOS {a} 3 MAXLEN 7 COUNT 0
LPOS {a} 3 RANK 0
LPOS {a} 3 COUNT -1
LPOS {a} 3 MAXLEN x
LPOS {a} 3 RANK
LPOS {a} 3 BOGUS 1
LPOS {none} 3
LPOS {none} 3 COUNT 1
LPOP {a}
RPOP {a}
LPOP {a} 0
LPOP {a} 2
RPOP {a} -1
RPOP {a} abc
LPOP {a} 1 2
LPOP {none}
LPOP {none} 2
LSET {a} 0 first
LSET {a} 100 x
LSET {a} x x
LSET {none} 0 x
LINSERT {a} BEFORE first zero
LINSERT {a} AFTER 4 five
LINSERT {a} AFTER nothing x
LINSERT {a} MIDDLE 4 x
LINSERT {none} BEFORE a b
LRANGE {a} 0 -1
LREM {a} 2 3
LREM {a} -1 3
LREM {a} 0 nothing
LREM {a} x 3
LREM {none} 0 a
LTRIM {a} 1 -2
LRANGE {a} 0 -1
LTRIM {a} x 1
LTRIM {none} 0 1
LPUSHX {none} a
RPUSHX {none} a
LPUSHX {a} p q
RPUSHX {a} r
LRANGE {a} 0 -1
LMOVE {a} {b} LEFT RIGHT
LMOVE {a} {b} RIGHT LEFT
LMOVE {a} {b} UP LEFT
LMOVE {none} {b} LEFT LEFT
RPOPLPUSH {a} {b}
RPOPLPUSH {b} {b}
LRANGE {b} 0 -1
SET {s} str
LPUSH {s} a
LMOVE {a} {s} LEFT LEFT
LMOVE {s} {a} LEFT LEFT
LMOVE {none} {s} LEFT LEFT
LPOS {s} a
LRANGE {a} 0 -1
LTRIM {a} 0 -100
EXISTS {a}
"""

LMPOP_SCRIPT = """
RPUSH {b} 1 2 3 4 5
LMPOP 2 {none1} {b} LEFT
LMPOP 2 {none1} {b} RIGHT COUNT 2
LMPOP 2 {none} {none2} LEFT
LMPOP 0 {a} LEFT
LMPOP 3 {a} LEFT
LMPOP 1 {a} SIDEWAYS
LMPOP 1 {a} LEFT COUNT 0
LMPOP 1 {a} LEFT COUNT 1 COUNT 1
LMPOP 1 {a} LEFT EXTRA
SET {s0} str
RPUSH {a} q
LMPOP 2 {s0} {a} LEFT
RPUSH {a} q
LMPOP 2 {a} {s0} LEFT
LMPOP 1 {b} RIGHT COUNT 10
EXISTS {b}
"""



def script_keys():
    # LMPOP's keys stay on one shard here (see test_lmpop_across_shards)
    return {"a": A0, "b": A1, "none": B0, "none1": B1, "none2": B0,
            "s": key_on(1, "ls"), "s0": key_on(0, "ls")}


def script_lines(script=DIFF_SCRIPT):
    keys = script_keys()
    return [line.format(**keys).split() for line in
            script.strip().splitlines()]


@pytest.mark.parametrize("script", [
    DIFF_SCRIPT, LMPOP_SCRIPT],
    ids=["lists", "lmpop"])
def test_same_replies_as_redis(apiary, redis_ref, script):
    """Runs a script on Apiary and on redis-server (RESP2, through
    redis-py without reply conversions): every reply and error text must
    be the same."""
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
    for args in script_lines(script):
        a, b = run(ours, args), run(ref, args)
        if a != b:
            mismatches.append("%s -> apiary %r, redis %r" % (args, a, b))
    ours.close()
    ref.close()
    assert mismatches == []


class RawConn:
    """A raw RESP connection that reads one whole reply at a time."""

    def __init__(self, host, port):
        self.s = socket.create_connection((host, port), timeout=30)
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(1 << 16)
            assert chunk, "connection closed"
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line + b"\r\n"

    def _exact(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(1 << 16)
            assert chunk, "connection closed"
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def reply(self):
        """The bytes of one reply, nested aggregates included."""
        line = self._line()
        t, rest = line[:1], line[1:-2]
        if t in (b"$", b"=", b"!") and rest != b"-1":
            return line + self._exact(int(rest) + 2)
        if t in (b"*", b"~", b">", b"%", b"|") and rest != b"-1":
            n = int(rest) * (2 if t in (b"%", b"|") else 1)
            return line + b"".join(self.reply() for _ in range(n))
        return line

    def call(self, *args):
        self.s.sendall(cmd(*args))
        return self.reply()

    def close(self):
        self.s.close()


@pytest.mark.parametrize("script", [
    DIFF_SCRIPT, LMPOP_SCRIPT],
    ids=["lists", "lmpop"])
@pytest.mark.parametrize("proto", [2, 3])
def test_same_bytes_as_redis(apiary, redis_ref, proto, script):
    """The same script compared byte for byte, RESP2 and RESP3 (null
    shapes: $-1 / *-1 / _)."""
    kw = redis_ref.connection_pool.connection_kwargs
    redis.Redis(**kw).flushall()
    ours = RawConn(apiary.host, apiary.port)
    ref = RawConn(kw.get("host", "localhost"), kw["port"])
    if proto == 3:
        ours.call("HELLO", "3")
        ref.call("HELLO", "3")
    mismatches = []
    for args in script_lines(script):
        a, b = ours.call(*args), ref.call(*args)
        if a != b:
            mismatches.append("%s -> apiary %r, redis %r" % (args, a, b))
    ours.close()
    ref.close()
    assert mismatches == []


@pytest.mark.parametrize("with_lmpop", [
    False, True], ids=["no_lmpop", "lmpop"])
def test_random_against_redis(apiary, redis_ref, with_lmpop):
    """Random list commands on keys of both shards; every reply and the
    final contents equal redis-server's."""
    ours = apiary.client()
    ours.response_callbacks.clear()
    ref = redis.Redis(**redis_ref.connection_pool.connection_kwargs)
    ref.response_callbacks.clear()
    ref.flushall()
    rnd = random.Random(2024)
    keys = [A0, A1, B0, B1]
    same_shard = {A0: B0, B0: A0, A1: B1, B1: A1}
    vals = ["a", "b", "c", "1", "22", "-3", "", "x" * 100]

    def run(c, args):
        try:
            return c.execute_command(*args)
        except redis.ResponseError as e:
            return "ERROR: %s" % e

    def rand_args():
        k, k2 = rnd.choice(keys), rnd.choice(keys)
        v = rnd.choice(vals)
        i = rnd.randint(-8, 8)
        op = rnd.randrange(14 if with_lmpop else 13)
        return [
            ["LPUSH", k, v, rnd.choice(vals)],
            ["RPUSH", k, v],
            ["LPOP", k] + ([str(rnd.randint(0, 3))] if rnd.random() < .5
                           else []),
            ["RPOP", k],
            ["LSET", k, i, v],
            ["LINSERT", k, rnd.choice(["BEFORE", "AFTER"]), v,
             rnd.choice(vals)],
            ["LREM", k, rnd.randint(-2, 2), v],
            ["LTRIM", k, rnd.randint(-5, 5), rnd.randint(-5, 5)],
            ["LRANGE", k, i, rnd.randint(-8, 8)],
            ["LINDEX", k, i],
            ["LPOS", k, v, "RANK", rnd.choice([1, 2, -1, -2]), "COUNT",
             rnd.randint(0, 3)],
            ["LMOVE", k, k2, rnd.choice(["LEFT", "RIGHT"]),
             rnd.choice(["LEFT", "RIGHT"])],
            ["LLEN", k],
            ["LMPOP", 2, k, same_shard[k], rnd.choice(["LEFT", "RIGHT"]),
             "COUNT", rnd.randint(1, 3)],
        ][op]

    mismatches = []
    for _ in range(3000):
        args = rand_args()
        a, b = run(ours, args), run(ref, args)
        if a != b:
            mismatches.append("%s -> apiary %r, redis %r" % (args, a, b))
    for k in keys:
        assert run(ours, ["LRANGE", k, 0, -1]) == run(ref, ["LRANGE", k, 0, -1])
    ours.close()
    ref.close()
    assert mismatches[:10] == []


# --- list-compress-depth -------------------------------------------------------

def compressible(i):
    """Element i of a long compressible list: 20 bytes, values repeating
    every 5000 so that LREM and LPOS find several matches."""
    return "element-value-%06d" % (i % 5000)


def fill_list(c, k, n):
    """RPUSHes n compressible elements to k in batches."""
    p = c.pipeline(transaction=False)
    for i in range(0, n, 1000):
        p.rpush(k, *[compressible(j) for j in range(i, min(n, i + 1000))])
    p.execute()


def run_cmd(c, args):
    """A reply, or the error text as a string."""
    try:
        return c.execute_command(*args)
    except redis.ResponseError as e:
        return "ERROR: %s" % e


def compressed_ops(rnd, keys, lens):
    """One random command over long lists, mostly in their middle: keys
    maps each key to a rough length (a hint for picking indexes)."""
    k = rnd.choice(keys)
    n = max(lens[k], 1)
    i = rnd.randrange(-n, n)
    v = compressible(rnd.randrange(6000))
    op = rnd.randrange(14)
    return [
        ["LRANGE", k, i, i + rnd.randrange(60)],
        ["LRANGE", k, 0, 99],
        ["LINDEX", k, i],
        ["LINDEX", k, n // 2],
        ["LINSERT", k, rnd.choice(["BEFORE", "AFTER"]), v, "ins-" + v],
        ["LPOS", k, v, "RANK", rnd.choice([1, 2, -1, -3]), "COUNT",
         rnd.randrange(4), "MAXLEN", rnd.choice([0, 100, n // 2])],
        ["LREM", k, rnd.choice([-2, -1, 0, 1, 2]), v],
        ["LSET", k, i, "set-%d" % i],
        ["LTRIM", k, rnd.randrange(3), -1 - rnd.randrange(3)],
        ["LMOVE", k, rnd.choice(keys), rnd.choice(["LEFT", "RIGHT"]),
         rnd.choice(["LEFT", "RIGHT"])],
        ["LPUSH", k, v, "x" * rnd.randrange(40)],
        ["RPUSH", k, v],
        ["LPOP", k, rnd.randrange(1, 5)],
        ["RPOP", k],
    ][op]


def compare_run(ours, ref, rnd, keys, count):
    """Runs count random commands on both servers; returns mismatches."""
    lens = {k: ref.llen(k) for k in keys}
    mismatches = []
    for _ in range(count):
        args = compressed_ops(rnd, keys, lens)
        a, b = run_cmd(ours, args), run_cmd(ref, args)
        if a != b:
            mismatches.append("%s -> apiary %r, redis %r" % (args, a, b))
        lens[args[1]] = ref.llen(args[1])
    for k in keys:
        assert ours.lrange(k, 0, -1) == ref.lrange(k, 0, -1)
    return mismatches


def both_config(ours, ref, name, value):
    """CONFIG SET name value on both servers."""
    assert ours.config_set(name, value) and ref.config_set(name, value)


@pytest.mark.parametrize("depth", [1, 2])
def test_compressed_against_redis(apiary, redis_ref, depth):
    """Long lists (keys on both shards) under list-compress-depth, set at
    run time: LRANGE LINDEX LINSERT LPOS LREM LSET LTRIM LMOVE and pushes
    and pops reply as redis-server's; the encoding stays quicklist."""
    ours = apiary.client()
    ref = redis.Redis(**redis_ref.connection_pool.connection_kwargs)
    ours.response_callbacks.clear()
    ref.response_callbacks.clear()
    ref.flushall()
    keys = [A0, B0, A1]
    try:
        both_config(ours, ref, "list-compress-depth", depth)
        for k, n in zip(keys, [30000, 3000, 12000]):
            fill_list(ours, k, n)
            fill_list(ref, k, n)
        for k in keys:
            assert ours.execute_command("OBJECT", "ENCODING", k) == \
                b"quicklist"
            assert b"encoding:quicklist" in \
                ours.execute_command("DEBUG", "OBJECT", k)
        # Compressed: well under the 22 bytes per element of raw nodes.
        assert ours.execute_command("MEMORY", "USAGE", A0) < 30000 * 11
        rnd = random.Random(77 + depth)
        assert compare_run(ours, ref, rnd, keys, 1500)[:10] == []
        for k in keys:
            assert ours.execute_command("OBJECT", "ENCODING", k) == \
                b"quicklist"
        # SORT reads every node (copying from borrowed ones).
        args = ["SORT", A0, "ALPHA", "LIMIT", 100, 50]
        assert run_cmd(ours, args) == run_cmd(ref, args)
        args = ["SORT", A0, "ALPHA", "DESC", "STORE", B0]
        assert run_cmd(ours, args) == run_cmd(ref, args)
        assert ours.lrange(B0, 0, -1) == ref.lrange(B0, 0, -1)
    finally:
        both_config(ours, ref, "list-compress-depth", 0)
        ours.close()
        ref.close()


def used_memory(c):
    """INFO memory used_memory (summed over shards)."""
    return c.info("memory")["used_memory"]


def test_compress_depth_at_run_time(apiary, redis_ref):
    """CONFIG SET list-compress-depth reaches lists as they change, with no
    restart: replies stay Redis's through 0 -> 1 -> 3 -> 0; a list built
    under depth 1 takes far less memory (MEMORY USAGE, INFO used_memory);
    DUMP/RESTORE and COPY keep the contents."""
    ours = apiary.client()
    ref = redis.Redis(**redis_ref.connection_pool.connection_kwargs)
    ours.response_callbacks.clear()
    ref.response_callbacks.clear()
    ref.flushall()
    keys = [A0, A1]
    rnd = random.Random(5)
    try:
        assert ours.execute_command("CONFIG", "GET", "list-*depth") == \
            [b"list-compress-depth", b"0"]
        for k in keys:
            fill_list(ours, k, 20000)
            fill_list(ref, k, 20000)
        for depth in [1, 3, 0]:
            both_config(ours, ref, "list-compress-depth", depth)
            assert compare_run(ours, ref, rnd, keys, 400)[:10] == []
        # Memory: the same list built at depth 0 and at depth 1.
        usage = {}
        plain = apiary.client()
        for depth in [0, 1]:
            ours.config_set("list-compress-depth", depth)
            k = key_on(0, "mem%d" % depth)
            before = used_memory(plain)
            fill_list(ours, k, 50000)
            usage[depth] = (plain.memory_usage(k),
                            used_memory(plain) - before)
        plain.close()
        assert usage[1][0] * 2 < usage[0][0]
        assert usage[1][1] * 2 < usage[0][1]
        # Out of range: refused as by Redis.
        for bad in ["-1", "x", "2147483648"]:
            args = ["CONFIG", "SET", "list-compress-depth", bad]
            assert run_cmd(ours, args) == run_cmd(ref, args)
        # DUMP / RESTORE and COPY of a compressed list.
        k = key_on(0, "mem1")
        want = ours.lrange(k, 0, -1)
        blob = ours.dump(k)
        assert ours.restore(k + ":r", 0, blob)
        assert ours.lrange(k + ":r", 0, -1) == want
        assert ours.copy(k, k + ":c")
        assert ours.lrange(k + ":c", 0, -1) == want
        assert ours.lindex(k + ":c", 25000) == want[25000]
        assert ours.unlink(k, k + ":r", k + ":c") == 3
    finally:
        both_config(ours, ref, "list-compress-depth", 0)
        ours.close()
        ref.close()
