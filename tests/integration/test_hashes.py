"""Hash commands against a real server: HSET HSETNX HMSET HGET HMGET HDEL
HLEN HSTRLEN HEXISTS HKEYS HVALS HGETALL HINCRBY HINCRBYFLOAT HRANDFIELD
HSCAN, their options and errors, both encodings and the conversion
thresholds, through redis-py and as raw bytes.

Deterministic replies are compared byte for byte with Debian's
redis-server (7.0) in RESP2 and RESP3, on hashes small enough to be
listpacks in both (their order is insertion order in both). Big hashes
(hashtables, whose order differs) are compared as sets. Random replies
(HRANDFIELD) are checked for their properties. Nothing here differs
between Redis 7.0 and 7.2 except where a test says so.
"""
import random
import shlex
import socket

import pytest
import redis

from conftest import cmd, key_on, shard_of


# --- raw RESP: one whole reply's bytes ---------------------------------------


class RawConn:
    """A socket that sends commands and returns each reply's exact bytes."""

    def __init__(self, host, port):
        self.s = socket.create_connection((host, port), timeout=30)
        self.buf = b""

    def close(self):
        self.s.close()

    def _fill(self):
        chunk = self.s.recv(1 << 16)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buf += chunk

    def _line(self, pos):
        while True:
            end = self.buf.find(b"\r\n", pos)
            if end >= 0:
                return end
            self._fill()

    def _skip(self, pos):
        """Returns the offset just after the RESP value at pos."""
        end = self._line(pos)
        kind = self.buf[pos:pos + 1]
        if kind in (b"+", b"-", b":", b",", b"#", b"_", b"("):
            return end + 2
        n = int(self.buf[pos + 1:end])
        if kind in (b"$", b"=", b"!"):
            if n < 0:
                return end + 2
            while len(self.buf) < end + 2 + n + 2:
                self._fill()
            return end + 2 + n + 2
        assert kind in (b"*", b"%", b"~", b">"), self.buf[pos:end]
        pos = end + 2
        for _ in range(max(n, 0) * (2 if kind == b"%" else 1)):
            pos = self._skip(pos)
        return pos

    def call(self, *args):
        self.s.sendall(cmd(*args))
        end = self._skip(0)
        reply, self.buf = self.buf[:end], self.buf[end:]
        return reply


def raw_pair(apiary, redis_ref, proto):
    """Raw connections to both servers in the given protocol."""
    kw = redis_ref.connection_pool.connection_kwargs
    ours = RawConn(apiary.host, apiary.port)
    ref = RawConn(kw.get("host", "127.0.0.1"), kw["port"])
    if proto == 3:
        ours.call("HELLO", "3")
        ref.call("HELLO", "3")
    return ours, ref


# The script for the byte-for-byte comparison. Every hash stays small, so
# both servers keep insertion order. Random commands appear only where the
# reply is determined (one field, or a count covering the whole hash).
DIFF_SCRIPT = r"""
hset h a 1 b 2 c hello
hset h a 10 d 4
hset h x y x z
hget h a
hget h x
hget h nosuch
hget nokey a
hmget h a nosuch b x
hmget nokey a b
hlen h
hlen nokey
hstrlen h c
hstrlen h a
hstrlen h nosuch
hstrlen nokey a
hexists h a
hexists h nosuch
hexists nokey a
hkeys h
hvals h
hgetall h
hkeys nokey
hvals nokey
hgetall nokey
hsetnx h a 99
hsetnx h e 5
hsetnx newh f v
hmset h m 1 n 2
hmset h
hmset h a
hmset h a 1 b
hset h a
hset h a 1 b
hsetnx h a
hdel h m n nosuch m
hdel h nosuch
hdel nokey a
hset h "" ""
hget h ""
hdel h ""
hset one f v
hdel one f
exists one
hincrby h a 5
hincrby h a -20
hincrby h newint 7
hincrby h c 1
hincrby h a x
hincrby h a 1.5
hincrby h a 9223372036854775808
hincrby big n 9223372036854775807
hincrby big n 1
hincrby big m -9223372036854775808
hincrby big m -1
hset strs s1 abc s2 " 1" s3 1.5 s4 "" s5 01 s6 -0 s7 1e3 s8 +1
hincrby strs s1 1
hincrby strs s2 1
hincrby strs s3 1
hincrby strs s4 1
hincrby strs s5 1
hincrby strs s6 1
hincrby strs s7 1
hincrby strs s8 1
hincrbyfloat strs s1 1
hincrbyfloat strs s2 1
hincrbyfloat strs s3 1
hincrbyfloat strs s4 1
hincrbyfloat strs s5 1
hincrbyfloat strs s6 1
hincrbyfloat strs s7 1
hincrbyfloat strs s8 1
hincrbyfloat f a 2.5
hincrbyfloat f a 0.1
hincrbyfloat f a -2.6
hincrbyfloat f b 1e20
hincrbyfloat f c 5.0e3
hincrbyfloat f d -1e-10
hincrbyfloat f e 3
hincrbyfloat f e 1.0
hincrbyfloat f e 0.000001
hincrbyfloat f g 1.7976931348623157e308
hincrbyfloat f g 1.18e4932
hincrbyfloat f h 1.1e4932
hincrbyfloat f h 1.1e4932
hincrbyfloat f a x
hincrbyfloat f a nan
hincrbyfloat f a inf
hincrbyfloat f a -inf
hincrbyfloat f a ""
hmget f a b c d e g h
set s x
hset s a b
hsetnx s a b
hmset s a b
hget s a
hmget s a
hdel s a
hlen s
hstrlen s a
hexists s a
hkeys s
hvals s
hgetall s
hincrby s a 1
hincrby s a x
hincrbyfloat s a 1
hincrbyfloat s a x
hincrbyfloat s a inf
hrandfield s
hrandfield s 1
hrandfield s x
hscan s 0
hscan s x
hset r only value
hrandfield r
hrandfield r 1
hrandfield r -3
hrandfield r 5 withvalues
hrandfield r -2 withvalues
hrandfield r 0
hrandfield r 0 withvalues
hrandfield r x
hrandfield r 1 x
hrandfield r 1 withvalues x
hrandfield r -9223372036854775808
hrandfield r -9223372036854775807 withvalues
hrandfield r -4611686018427387904 withvalues
hrandfield r 4611686018427387904 withvalues
hrandfield r 9223372036854775807
hrandfield nokey
hrandfield nokey 5
hrandfield nokey -5 withvalues
hrandfield h 100
hrandfield h 100 withvalues
hscan h 0
hscan h 0 count 1
hscan h 0 match a*
hscan h 0 match ?
hscan h 0 MATCH * COUNT 1000
hscan h 0 match 1
hscan h 0 count 0
hscan h 0 count -1
hscan h 0 count x
hscan h 0 match
hscan h 0 foo bar
hscan h 0 novalues
hscan h x
hscan h 18446744073709551615
hscan h 18446744073709551616
hscan h -1
hscan nokey 0
hscan nokey 0 foo
type h
object encoding h
hset lp f0 v0 f1 v1 f2 v2 f3 v3 f4 v4 f5 v5 f6 v6 f7 v7 f8 v8 f9 v9
object encoding lp
hset long f aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
object encoding long
hset long f aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
object encoding long
hset longf bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb v
object encoding longf
config set hash-max-listpack-value 4
hincrby ci n 9999
object encoding ci
hincrby ci n 1
object encoding ci
hincrby ci2 longfield 1
object encoding ci2
hincrbyfloat cf a 1.5
hincrbyfloat cf a 0.25
object encoding cf
hincrbyfloat cf a 0.125
object encoding cf
config set hash-max-listpack-value 64
hlen long
hget long f
hdel long f
exists long
"""


def run_script(ours, ref, script):
    """Runs every line on both connections; returns the mismatches."""
    mismatches = []
    for line in script.strip().splitlines():
        args = shlex.split(line)
        a, b = ours.call(*args), ref.call(*args)
        if a != b:
            mismatches.append("%s -> apiary %r, redis %r" % (line, a, b))
    return mismatches


@pytest.mark.parametrize("proto", [2, 3])
def test_same_bytes_as_redis(apiary, redis_ref, proto):
    """DIFF_SCRIPT gives the same reply bytes on Apiary and redis-server,
    in RESP2 and in RESP3."""
    redis_ref.flushall()
    ours, ref = raw_pair(apiary, redis_ref, proto)
    try:
        assert run_script(ours, ref, DIFF_SCRIPT) == []
    finally:
        ours.close()
        ref.close()


def test_encoding_thresholds_as_redis(apiary, redis_ref):
    """With hash-max-listpack-entries 128 (set on both: Redis's default
    is 512), 128 fields stay a listpack and 129 convert; a 64-byte field
    or value stays, 65 converts; never back; as redis-server."""
    redis_ref.flushall()
    ours, ref = raw_pair(apiary, redis_ref, 2)
    saved = [c.call("CONFIG", "GET", "hash-max-listpack-entries")
             .split(b"\r\n")[-2] for c in (ours, ref)]
    lines = ["config set hash-max-listpack-entries 128"]
    for i in range(128):
        lines.append("hset n f%d %d" % (i, i))
    lines += ["object encoding n", "hset n f0 changed", "object encoding n",
              "hset n f128 x", "object encoding n", "hlen n"]
    lines += ["hdel n f%d" % i for i in range(120)]
    lines += ["object encoding n", "hlen n",
              "hmget n " + " ".join("f%d" % i for i in range(118, 130))]
    lines += ["hset v %s %s" % ("a" * 64, "b" * 64), "object encoding v",
              "hset v x %s" % ("c" * 65), "object encoding v",
              "hsetnx w f %s" % ("d" * 65), "object encoding w",
              "hmset u %s v" % ("e" * 65), "object encoding u"]
    try:
        assert run_script(ours, ref, "\n".join(lines)) == []
    finally:
        for c, v in zip((ours, ref), saved):
            c.call("CONFIG", "SET", "hash-max-listpack-entries", v)
        ours.close()
        ref.close()


@pytest.fixture
def r(apiary):
    c = apiary.client(decode_responses=True)
    yield c
    c.close()


def fill_big(c, key, n, prefix="f"):
    """HSET of n fields prefix<i> = v<i> in batches."""
    p = c.pipeline(transaction=False)
    for start in range(0, n, 500):
        mapping = {"%s%d" % (prefix, i): "v%d" % i
                   for i in range(start, min(n, start + 500))}
        p.hset(key, mapping=mapping)
    p.execute()


def test_big_hash_as_redis(apiary, redis_ref):
    """A 5000-field hashtable: the same content, lengths, encoding and
    full HSCAN as redis-server (orders differ: compared as sets)."""
    redis_ref.flushall()
    ours = apiary.client(decode_responses=True)
    ref = redis.Redis(decode_responses=True,
                      **{k: v for k, v in
                         redis_ref.connection_pool.connection_kwargs.items()
                         if k != "decode_responses"})
    try:
        for c in (ours, ref):
            fill_big(c, "big", 5000)
            c.hincrby("big", "counter", 41)
            c.hincrbyfloat("big", "float", "1.5")
            c.hdel("big", *["f%d" % i for i in range(0, 5000, 7)])
        assert ours.object("encoding", "big") == "hashtable"
        assert ours.hlen("big") == ref.hlen("big")
        assert ours.hgetall("big") == ref.hgetall("big")
        assert sorted(ours.hkeys("big")) == sorted(ref.hkeys("big"))
        assert sorted(ours.hvals("big")) == sorted(ref.hvals("big"))
        assert ours.hmget("big", "f1", "f7", "counter") == \
            ref.hmget("big", "f1", "f7", "counter")
        # HSCAN with the cursor to the end: every field at least once.
        seen = {}
        cursor, calls = 0, 0
        while True:
            cursor, part = ours.hscan("big", cursor, count=100)
            assert len(part) < 1000
            seen.update(part)
            calls += 1
            if cursor == 0:
                break
        assert calls > 10
        assert seen == ref.hgetall("big")
        matched = dict(ours.hscan_iter("big", match="f12*", count=50))
        assert matched == {k: v for k, v in ref.hgetall("big").items()
                           if k.startswith("f12")}
    finally:
        ours.close()
        ref.close()


def test_hscan_sees_every_field_while_resizing(r):
    """Fields present for a whole HSCAN are returned even while the table
    grows and shrinks between calls."""
    fill_big(r, "h", 3000, prefix="keep")
    fill_big(r, "h", 3000, prefix="gone")
    seen = set()
    cursor, step = 0, 0
    while True:
        cursor, part = r.hscan("h", cursor, count=20)
        seen.update(part)
        if step < 100:
            r.hdel("h", *["gone%d" % i for i in range(step * 30,
                                                      step * 30 + 30)])
        else:
            r.hset("h", mapping={"new%d.%d" % (step, i): "x"
                                 for i in range(40)})
        step += 1
        if cursor == 0:
            break
    assert {"keep%d" % i for i in range(3000)} <= seen


def test_hrandfield_properties(r):
    """HRANDFIELD on both encodings: counts, distinctness, values."""
    r.hset("small", mapping={"f%d" % i: "v%d" % i for i in range(50)})
    fill_big(r, "big", 2000)
    assert r.object("encoding", "small") == "listpack"
    assert r.object("encoding", "big") == "hashtable"
    for key, n in (("small", 50), ("big", 2000)):
        assert r.hrandfield(key) in {"f%d" % i for i in range(n)}
        for count in (1, 5, n // 3, n // 2, n - 1, n, n + 10):
            got = r.hrandfield(key, count)
            assert len(got) == min(count, n)
            assert len(set(got)) == len(got)
            pairs = r.hrandfield(key, count, withvalues=True)
            assert len(pairs) == 2 * min(count, n)
            fields = pairs[0::2]
            assert len(set(fields)) == len(fields)
            for f, v in zip(pairs[0::2], pairs[1::2]):
                assert v == "v" + f[1:]
        rep = r.hrandfield(key, -3 * n)
        assert len(rep) == 3 * n
        assert set(rep) <= {"f%d" % i for i in range(n)}
        # With repetitions every field shows up eventually.
        assert len(set(r.hrandfield(key, -20 * n))) == n


def test_hrandfield_resp3_shapes(apiary):
    """RESP3: WITHVALUES gives an array of [field, value] pairs, for
    positive and negative counts alike."""
    raw = RawConn(apiary.host, apiary.port)
    try:
        raw.call("HELLO", "3")
        raw.call("HSET", "h", "a", "1")
        assert raw.call("HRANDFIELD", "h", "-2", "WITHVALUES") == \
            b"*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
        assert raw.call("HRANDFIELD", "h", "3", "WITHVALUES") == \
            b"*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
        assert raw.call("HGETALL", "h") == b"%1\r\n$1\r\na\r\n$1\r\n1\r\n"
        assert raw.call("HRANDFIELD", "nokey") == b"_\r\n"
    finally:
        raw.close()


def test_hrandfield_repetitions_are_bounded(r):
    """Ours: a negative count beyond 10M elements is refused (Redis
    builds the reply until it runs out of memory)."""
    r.hset("h", "a", "1")
    with pytest.raises(redis.ResponseError, match="value is out of range"):
        r.hrandfield("h", -10000001)
    with pytest.raises(redis.ResponseError, match="value is out of range"):
        r.execute_command("HRANDFIELD", "h", "-4611686018427387903",
                          "WITHVALUES")
    assert len(r.hrandfield("h", -100000)) == 100000


def test_config_thresholds(r):
    """CONFIG SET of the listpack limits applies on every shard."""
    saved = r.config_get("hash-max-listpack-*")
    r.config_set("hash-max-listpack-entries", 4)
    r.config_set("hash-max-listpack-value", 8)
    try:
        for shard in (0, 1):
            k = key_on(shard, "cfg")
            r.hset(k, mapping={"a": 1, "b": 2, "c": 3, "d": 4})
            assert r.object("encoding", k) == "listpack"
            r.hset(k, "e", 5)
            assert r.object("encoding", k) == "hashtable"
            k2 = key_on(shard, "cfgv")
            r.hset(k2, "f", "12345678")
            assert r.object("encoding", k2) == "listpack"
            r.hset(k2, "f", "123456789")
            assert r.object("encoding", k2) == "hashtable"
            # HINCRBY results convert too, as Redis.
            k3 = key_on(shard, "cfgi")
            r.hincrby(k3, "n", 99999999)
            assert r.object("encoding", k3) == "listpack"
            r.hincrby(k3, "n", 1)
            assert r.object("encoding", k3) == "hashtable"
            assert r.hget(k3, "n") == "100000000"
    finally:
        for name, value in saved.items():
            r.config_set(name, value)


def test_hashes_on_both_shards_and_across(r):
    """Hashes on either shard; COPY and RENAME between shards carry the
    whole hash (both encodings) with its TTL."""
    a, b = key_on(0, "ha"), key_on(1, "hb")
    assert shard_of(a) != shard_of(b)
    r.hset(a, mapping={"x": "1", "y": "2"})
    fill_big(r, b, 1000)
    assert r.copy(a, a + ":copy")
    assert r.copy(b, a + ":bigcopy")
    assert r.hgetall(a + ":copy") == {"x": "1", "y": "2"}
    assert r.hlen(a + ":bigcopy") == 1000
    assert r.object("encoding", a + ":bigcopy") == "hashtable"
    r.hset(a + ":bigcopy", "f0", "changed")
    assert r.hget(b, "f0") == "v0"
    r.expire(b, 1000)
    dest = key_on(0, "moved")
    r.rename(b, dest)
    assert r.exists(b) == 0
    assert r.hlen(dest) == 1000
    assert 0 < r.ttl(dest) <= 1000
    assert r.hget(dest, "f999") == "v999"
    assert r.type(dest) == "hash"


def test_delete_big_hash(apiary, r):
    """A 200k-field hash is deleted (DEL and UNLINK) and overwritten
    without trouble; the server keeps answering."""
    for key in ("d1", "d2", "d3"):
        fill_big(r, key, 200000)
    assert r.hlen("d1") == 200000
    assert r.delete("d1") == 1
    assert r.unlink("d2") == 1
    r.set("d3", "now a string")
    assert r.get("d3") == "now a string"
    assert r.ping()
    assert apiary.alive()


def test_expiry_and_empty_hash(r):
    """A hash with a TTL expires; a hash emptied by HDEL is gone."""
    r.hset("t", "f", "v")
    r.pexpire("t", 50)
    import time
    time.sleep(0.2)
    assert r.hgetall("t") == {}
    assert r.exists("t") == 0
    r.hset("e", mapping={"a": 1, "b": 2})
    assert r.hdel("e", "a", "b") == 2
    assert r.exists("e") == 0
    assert r.hsetnx("e", "a", 1) == 1
    assert r.hincrbyfloat("e", "f", 1.5) == 1.5
    assert r.hgetall("e") == {"a": "1", "f": "1.5"}


def test_random_ops_against_redis(apiary, redis_ref):
    """Random HSET/HDEL/HINCRBY/HINCRBYFLOAT/HSETNX on a few hashes of
    both encodings; after each batch every hash equals redis-server's."""
    redis_ref.flushall()
    ours = apiary.client(decode_responses=True)
    ref = redis.Redis(decode_responses=True,
                      **{k: v for k, v in
                         redis_ref.connection_pool.connection_kwargs.items()
                         if k != "decode_responses"})
    rnd = random.Random(1234)
    keys = ["rh:%d" % i for i in range(6)]
    try:
        for batch in range(20):
            for _ in range(200):
                k = rnd.choice(keys)
                f = "f%d" % rnd.randrange(300 if k.endswith("0") else 40)
                op = rnd.randrange(6)
                if op == 0:
                    args = ("HSET", k, f, "x" * rnd.randrange(0, 80))
                elif op == 1:
                    args = ("HDEL", k, f, "f%d" % rnd.randrange(40))
                elif op == 2:
                    args = ("HINCRBY", k, f, str(rnd.randrange(-50, 50)))
                elif op == 3:
                    args = ("HINCRBYFLOAT", k, f,
                            "%.3f" % rnd.uniform(-10, 10))
                elif op == 4:
                    args = ("HSETNX", k, f, str(rnd.randrange(1000)))
                else:
                    args = ("HSTRLEN", k, f)
                a = b = None
                try:
                    a = ours.execute_command(*args)
                except redis.ResponseError as e:
                    a = "ERR " + str(e)
                try:
                    b = ref.execute_command(*args)
                except redis.ResponseError as e:
                    b = "ERR " + str(e)
                assert a == b, args
            for k in keys:
                assert ours.hgetall(k) == ref.hgetall(k), k
                assert ours.hlen(k) == ref.hlen(k)
    finally:
        ours.close()
        ref.close()
