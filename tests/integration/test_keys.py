"""Keyspace commands and expiry through redis-py: DEL UNLINK EXISTS TYPE
TOUCH EXPIRE PEXPIRE EXPIREAT PEXPIREAT (NX XX GT LT) EXPIRETIME
PEXPIRETIME TTL PTTL PERSIST RENAME RENAMENX COPY MOVE KEYS SCAN (MATCH
COUNT TYPE) RANDOMKEY DBSIZE SELECT SWAPDB FLUSHDB FLUSHALL OBJECT, lazy and
active expiry, DEBUG SET-ACTIVE-EXPIRE.

The default server has 2 shards; keys are chosen on both so that RENAME,
COPY and the keyspace-wide commands cross shards. Expected values are
Redis 7's; test_same_replies_as_redis compares a script with Debian's
redis-server.
"""
import shlex
import time

import pytest
import redis

from conftest import key_on, shard_of

ERR_INT = "value is not an integer or out of range"
ERR_SYNTAX = "syntax error"
ERR_DB_RANGE = "DB index is out of range"
ERR_SAME = "source and destination objects are the same"


def cmd_error(r, *args):
    """The error text of a raw command."""
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    return str(e.value)


def wait_for(fn, timeout, step=0.05):
    """Polls fn until it returns true or timeout seconds pass; returns its
    last value."""
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() >= deadline:
            return v
        time.sleep(step)


@pytest.fixture
def r(apiary):
    c = apiary.client(decode_responses=True)
    yield c
    c.close()


@pytest.fixture
def rr(apiary):
    """A client without redis-py's reply conversions."""
    c = apiary.client(decode_responses=True)
    c.response_callbacks.clear()
    yield c
    c.close()


@pytest.fixture
def k01():
    """Two keys, one per shard."""
    return key_on(0, "ks"), key_on(1, "ks")


# --- DEL UNLINK EXISTS TOUCH TYPE --------------------------------------------


def test_del_unlink_exists_touch_across_shards(r, k01):
    a, b = k01
    r.mset({a: "1", b: "2", "c": "3"})
    assert r.exists(a, b, "c", "none") == 3
    assert r.exists(a, a, b) == 3
    assert r.touch(a, b, "none", a) == 3
    assert r.delete(a, a, "none") == 1
    assert r.exists(a) == 0
    assert r.unlink(b, "c", "none") == 2
    assert r.exists(a, b, "c") == 0
    assert r.dbsize() == 0
    assert cmd_error(r, "DEL") == "wrong number of arguments for 'del' command"
    assert cmd_error(r, "EXISTS") == \
        "wrong number of arguments for 'exists' command"


def test_del_many_keys_across_shards(r):
    keys = ["dm:%d" % i for i in range(500)]
    r.mset({k: "v" for k in keys})
    assert r.exists(*keys) == 500
    assert r.delete(*keys[:250], "dm:none") == 250
    assert r.unlink(*keys) == 250
    assert r.dbsize() == 0


def test_type(r):
    r.set("t:s", "v")
    assert r.type("t:s") == "string"
    assert r.type("t:none") == "none"


# --- expiry commands ---------------------------------------------------------


def test_ttl_pttl_persist(r):
    assert r.ttl("e:none") == -2
    assert r.pttl("e:none") == -2
    r.set("e:a", "v")
    assert r.ttl("e:a") == -1
    assert r.pttl("e:a") == -1
    assert r.persist("e:a") is False
    assert r.expire("e:a", 100) is True
    assert 99 <= r.ttl("e:a") <= 100
    assert 99000 <= r.pttl("e:a") <= 100000
    assert r.persist("e:a") is True
    assert r.ttl("e:a") == -1
    assert r.persist("e:none") is False
    assert r.pexpire("e:a", 5000) is True
    assert 4000 <= r.pttl("e:a") <= 5000
    assert r.expire("e:none", 100) is False


def test_expireat_expiretime(r):
    now = int(time.time())
    r.set("e:t", "v")
    assert r.expiretime("e:t") == -1
    assert r.pexpiretime("e:t") == -1
    assert r.expiretime("e:none") == -2
    assert r.pexpiretime("e:none") == -2
    assert r.expireat("e:t", now + 1000) is True
    assert r.expiretime("e:t") == now + 1000
    assert r.pexpiretime("e:t") == (now + 1000) * 1000
    assert r.pexpireat("e:t", (now + 2000) * 1000 + 7) is True
    assert r.pexpiretime("e:t") == (now + 2000) * 1000 + 7
    assert r.expiretime("e:t") == now + 2000
    # In the past: the key is deleted at once.
    assert r.expireat("e:t", 1) is True
    assert r.exists("e:t") == 0
    r.set("e:t", "v")
    assert r.pexpireat("e:t", now * 1000 - 1000) is True
    assert r.exists("e:t") == 0


@pytest.mark.parametrize("cmd", ["EXPIRE", "PEXPIRE"])
def test_expire_zero_or_negative_deletes(r, cmd):
    r.set("e:z", "v")
    assert r.execute_command(cmd, "e:z", "0") == 1
    assert r.exists("e:z") == 0
    r.set("e:z", "v")
    assert r.execute_command(cmd, "e:z", "-10") == 1
    assert r.exists("e:z") == 0


def test_expire_nx_xx_gt_lt(r):
    r.set("e:o", "v")
    # No TTL yet: XX and GT fail, NX and LT succeed.
    assert r.expire("e:o", 100, xx=True) is False
    assert r.expire("e:o", 100, gt=True) is False
    assert r.ttl("e:o") == -1
    assert r.expire("e:o", 100, nx=True) is True
    assert r.expire("e:o", 50, nx=True) is False
    assert 99 <= r.ttl("e:o") <= 100
    assert r.expire("e:o", 200, xx=True) is True
    assert 199 <= r.ttl("e:o") <= 200
    assert r.expire("e:o", 100, gt=True) is False
    assert r.expire("e:o", 300, gt=True) is True
    assert 299 <= r.ttl("e:o") <= 300
    assert r.expire("e:o", 400, lt=True) is False
    assert r.expire("e:o", 100, lt=True) is True
    assert 99 <= r.ttl("e:o") <= 100
    r.persist("e:o")
    assert r.expire("e:o", 100, lt=True) is True
    assert 99 <= r.ttl("e:o") <= 100
    # Same options on the other three commands.
    now = int(time.time())
    assert r.pexpire("e:o", 500000, gt=True) is True
    assert r.pexpire("e:o", 400000, gt=True) is False
    assert r.expireat("e:o", now + 10000, xx=True) is True
    assert r.expireat("e:o", now + 20000, nx=True) is False
    assert r.pexpireat("e:o", (now + 5000) * 1000, lt=True) is True
    assert r.expiretime("e:o") == now + 5000
    assert r.pexpireat("e:o", (now + 6000) * 1000, lt=True) is False


@pytest.mark.parametrize("cmd", ["EXPIRE", "PEXPIRE", "EXPIREAT",
                                 "PEXPIREAT"])
def test_expire_option_errors(r, cmd):
    r.set("e:x", "v")
    assert cmd_error(r, cmd, "e:x", "100", "NX", "XX") == \
        "NX and XX, GT or LT options at the same time are not compatible"
    assert cmd_error(r, cmd, "e:x", "100", "NX", "GT") == \
        "NX and XX, GT or LT options at the same time are not compatible"
    assert cmd_error(r, cmd, "e:x", "100", "GT", "LT") == \
        "GT and LT options at the same time are not compatible"
    assert cmd_error(r, cmd, "e:x", "100", "FOO") == "Unsupported option FOO"
    assert cmd_error(r, cmd, "e:x", "abc") == ERR_INT
    assert cmd_error(r, cmd, "e:x", "1.5") == ERR_INT
    assert cmd_error(r, cmd, "e:x") == \
        "wrong number of arguments for '%s' command" % cmd.lower()
    assert r.ttl("e:x") == -1


@pytest.mark.parametrize("cmd,value", [
    ("EXPIRE", "9223372036854775807"),
    ("EXPIRE", "9223372036854775"),
    ("PEXPIRE", "9223372036854775807"),
    ("EXPIREAT", "9223372036854775807"),
    ("EXPIRE", "-9223372036854775808"),
])
def test_expire_overflow(r, cmd, value):
    r.set("e:big", "v")
    assert cmd_error(r, cmd, "e:big", value) == \
        "invalid expire time in '%s' command" % cmd.lower()
    assert r.get("e:big") == "v"
    assert r.ttl("e:big") == -1


# --- RENAME RENAMENX COPY MOVE -----------------------------------------------


def test_rename_across_shards_keeps_value_and_ttl(r, k01):
    a, b = k01
    r.set(a, "payload", px=100000)
    assert r.rename(a, b) is True
    assert r.exists(a) == 0
    assert r.get(b) == "payload"
    assert 99000 <= r.pttl(b) <= 100000
    # And back, onto an existing key whose TTL is replaced.
    r.set(a, "old", ex=5000)
    r.persist(b)
    assert r.rename(b, a) is True
    assert r.get(a) == "payload"
    assert r.ttl(a) == -1
    assert r.exists(b) == 0


def test_rename_errors_and_same_key(r, k01):
    a, b = k01
    assert cmd_error(r, "RENAME", "rn:none", "x") == "no such key"
    assert cmd_error(r, "RENAMENX", "rn:none", "x") == "no such key"
    r.set(a, "v")
    assert r.rename(a, a) is True
    assert r.get(a) == "v"
    assert r.renamenx(a, a) is False


def test_renamenx_across_shards(r, k01):
    a, b = k01
    r.set(a, "1", ex=100)
    r.set(b, "2")
    assert r.renamenx(a, b) is False
    assert r.mget(a, b) == ["1", "2"]
    r.delete(b)
    assert r.renamenx(a, b) is True
    assert r.get(b) == "1"
    assert 99 <= r.ttl(b) <= 100
    assert r.exists(a) == 0


def test_copy_across_shards(r, k01):
    a, b = k01
    r.set(a, "src", px=100000)
    assert r.copy(a, b) is True
    assert r.mget(a, b) == ["src", "src"]
    assert 99000 <= r.pttl(b) <= 100000
    assert r.copy(a, b) is False
    r.set(a, "newer")
    assert r.copy(a, b, replace=True) is True
    assert r.get(b) == "newer"
    assert r.ttl(b) == -1
    # The copy is independent of the source.
    r.append(b, "!")
    assert r.mget(a, b) == ["newer", "newer!"]
    assert r.copy("cp:none", b) is False


def test_copy_to_other_db_across_shards(apiary, r, k01):
    a, b = k01
    r.set(a, "v", ex=1000)
    assert r.copy(a, b, destination_db=3) is True
    assert r.exists(b) == 0
    r3 = apiary.client(db=3, decode_responses=True)
    assert r3.get(b) == "v"
    assert 999 <= r3.ttl(b) <= 1000
    assert r.copy(a, b, destination_db=3) is False
    assert r.copy(a, a, destination_db=3) is True
    assert r3.get(a) == "v"
    r3.close()


def test_copy_errors(r, k01):
    a, b = k01
    r.set(a, "v")
    assert cmd_error(r, "COPY", a, a) == ERR_SAME
    assert cmd_error(r, "COPY", a, a, "DB", "0") == ERR_SAME
    assert cmd_error(r, "COPY", a, b, "DB", "16") == ERR_DB_RANGE
    assert cmd_error(r, "COPY", a, b, "DB", "-1") == ERR_DB_RANGE
    assert cmd_error(r, "COPY", a, b, "DB", "abc") == ERR_INT
    assert cmd_error(r, "COPY", a, b, "DB") == ERR_SYNTAX
    assert cmd_error(r, "COPY", a, b, "FOO") == ERR_SYNTAX
    assert r.exists(b) == 0


def test_move(apiary, r):
    r.set("mv", "v", ex=1000)
    assert r.move("mv", 1) is True
    assert r.exists("mv") == 0
    r1 = apiary.client(db=1, decode_responses=True)
    assert r1.get("mv") == "v"
    assert 999 <= r1.ttl("mv") <= 1000
    # Destination exists, or source missing: 0 and nothing changes.
    r.set("mv", "other")
    assert r.move("mv", 1) is False
    assert r.get("mv") == "other" and r1.get("mv") == "v"
    assert r.move("mv:none", 1) is False
    assert cmd_error(r, "MOVE", "mv", "0") == ERR_SAME
    assert cmd_error(r, "MOVE", "mv", "16") == ERR_DB_RANGE
    assert cmd_error(r, "MOVE", "mv", "abc") == ERR_INT
    r1.close()


# --- KEYS SCAN RANDOMKEY DBSIZE ----------------------------------------------


def test_keys_patterns(r):
    names = ["hello", "hallo", "hxllo", "hllo", "heeeello", "hillo",
             "h*llo", "other", "ab:1", "ab:2", "ab:10"]
    r.mset({k: "v" for k in names})
    assert {shard_of(k) for k in names} == {0, 1}

    def keys(p):
        return sorted(r.keys(p))
    assert keys("*") == sorted(names)
    assert keys("h?llo") == ["h*llo", "hallo", "hello", "hillo", "hxllo"]
    assert keys("h*llo") == sorted(["hello", "hallo", "hxllo", "hllo",
                                    "heeeello", "hillo", "h*llo"])
    assert keys("h[ae]llo") == ["hallo", "hello"]
    assert keys("h[^e]llo") == ["h*llo", "hallo", "hillo", "hxllo"]
    assert keys("h[a-e]llo") == ["hallo", "hello"]
    assert keys("h\\*llo") == ["h*llo"]
    assert keys("ab:?") == ["ab:1", "ab:2"]
    assert keys("nomatch*") == []
    assert keys("hello") == ["hello"]


def test_dbsize_and_randomkey(r, k01):
    assert r.dbsize() == 0
    assert r.randomkey() is None
    a, b = k01
    r.set(a, "1")
    assert r.randomkey() == a
    r.set(b, "2")
    assert r.dbsize() == 2
    seen = set()
    for _ in range(200):
        seen.add(r.randomkey())
        if seen == {a, b}:
            break
    assert seen == {a, b}


@pytest.fixture
def ten_k(r):
    """10,000 string keys sc:0 .. sc:9999, set with one pipeline."""
    keys = ["sc:%d" % i for i in range(10000)]
    p = r.pipeline(transaction=False)
    for k in keys:
        p.set(k, "v")
    assert all(p.execute())
    assert r.dbsize() == 10000
    return keys


def full_scan(r, **kw):
    """Runs SCAN to the end (bounded); returns every key returned, with
    repetitions, and the number of calls."""
    cursor, out, calls = 0, [], 0
    deadline = time.time() + 30
    while True:
        cursor, batch = r.scan(cursor, **kw)
        out += batch
        calls += 1
        if cursor == 0:
            return out, calls
        assert calls < 100000 and time.time() < deadline, "SCAN never ends"


def test_scan_returns_every_key(r, ten_k):
    got, calls = full_scan(r)
    assert set(got) == set(ten_k)
    assert calls > 1
    got, calls100 = full_scan(r, count=1000)
    assert set(got) == set(ten_k)
    assert calls100 < calls


def test_scan_match_and_type(r, ten_k):
    want = {k for k in ten_k if k.startswith("sc:1")}
    got, _ = full_scan(r, match="sc:1*", count=500)
    assert set(got) == want
    assert len(want) == 1111
    got, _ = full_scan(r, _type="string", count=500)
    assert set(got) == set(ten_k)
    got, _ = full_scan(r, _type="list", count=500)
    assert got == []
    got, _ = full_scan(r, match="nomatch*", count=500)
    assert got == []


def test_scan_iter(r, ten_k):
    got = set(r.scan_iter(match="sc:99*", count=200))
    assert got == {k for k in ten_k if k.startswith("sc:99")}
    assert len(got) == 111


def test_scan_errors(r):
    assert cmd_error(r, "SCAN", "abc") == "invalid cursor"
    assert cmd_error(r, "SCAN", "0", "COUNT", "0") == ERR_SYNTAX
    assert cmd_error(r, "SCAN", "0", "COUNT", "abc") == ERR_INT
    assert cmd_error(r, "SCAN", "0", "MATCH") == ERR_SYNTAX
    assert cmd_error(r, "SCAN", "0", "FOO", "bar") == ERR_SYNTAX


def test_scan_empty_database(r):
    """Redis answers cursor 0 at once when the database is empty."""
    got, calls = full_scan(r)
    assert got == []
    assert r.scan(0) == (0, [])


def test_scan_during_deletes_keeps_surviving_keys(r, ten_k):
    """Keys present for the whole scan are returned at least once."""
    survivors = set(ten_k[::2])
    cursor, got, calls = 0, set(), 0
    doomed = ten_k[1::2]
    deadline = time.time() + 30
    while True:
        cursor, batch = r.scan(cursor, count=100)
        got.update(batch)
        if doomed:
            r.delete(*doomed[:200])
            doomed = doomed[200:]
        calls += 1
        if cursor == 0:
            break
        assert calls < 100000 and time.time() < deadline, "SCAN never ends"
    assert survivors <= got


# --- SELECT SWAPDB FLUSHDB FLUSHALL ------------------------------------------


def test_select_16_databases(apiary, rr):
    for db in range(16):
        assert rr.execute_command("SELECT", db) == "OK"
        assert rr.execute_command("SET", "dbkey", "db%d" % db) == "OK"
        assert rr.execute_command("SET", "only%d" % db, "x") == "OK"
    for db in range(16):
        c = apiary.client(db=db, decode_responses=True)
        assert c.get("dbkey") == "db%d" % db
        assert c.dbsize() == 2
        assert c.keys("only*") == ["only%d" % db]
        c.close()
    assert cmd_error(rr, "SELECT", "16") == ERR_DB_RANGE
    assert cmd_error(rr, "SELECT", "-1") == ERR_DB_RANGE
    assert cmd_error(rr, "SELECT", "abc") == ERR_INT


def test_swapdb(apiary, r):
    r.set("sw:a", "in0")
    r1 = apiary.client(db=1, decode_responses=True)
    r1.mset({"sw:b": "in1", "sw:c": "in1"})
    r1.expire("sw:b", 1000)
    other = apiary.client(decode_responses=True)  # another connection, db 0
    assert other.get("sw:a") == "in0"
    assert r.swapdb(0, 1) is True
    assert r.get("sw:a") is None
    assert r.mget("sw:b", "sw:c") == ["in1", "in1"]
    assert 999 <= r.ttl("sw:b") <= 1000
    assert other.dbsize() == 2
    assert other.get("sw:b") == "in1"
    assert r1.get("sw:a") == "in0"
    assert r1.dbsize() == 1
    assert r.swapdb(0, 0) is True
    assert r.dbsize() == 2
    assert cmd_error(r, "SWAPDB", "0", "16") == ERR_DB_RANGE
    assert cmd_error(r, "SWAPDB", "abc", "1") == "invalid first DB index"
    assert cmd_error(r, "SWAPDB", "0", "abc") == "invalid second DB index"
    r1.close()
    other.close()


def test_flushdb_flushall(apiary, r):
    r1 = apiary.client(db=1, decode_responses=True)
    keys = ["fl:%d" % i for i in range(300)]
    r.mset({k: "v" for k in keys})
    r1.mset({k: "v" for k in keys})
    assert r.flushdb() is True
    assert r.dbsize() == 0
    assert r1.dbsize() == 300
    r.mset({k: "v" for k in keys})
    assert r.flushdb(asynchronous=True) is True
    assert r.dbsize() == 0
    assert r1.dbsize() == 300
    r.mset({k: "v" for k in keys})
    assert r.execute_command("FLUSHDB", "SYNC") is True
    assert r.dbsize() == 0
    r.mset({k: "v" for k in keys})
    assert r.flushall() is True
    assert r.dbsize() == 0 and r1.dbsize() == 0
    r.mset({k: "v" for k in keys})
    r1.mset({k: "v" for k in keys})
    assert r.flushall(asynchronous=True) is True
    assert r.dbsize() == 0 and r1.dbsize() == 0
    assert r.get(keys[0]) is None
    # The databases work normally afterwards.
    r.set(keys[0], "again")
    assert r.get(keys[0]) == "again"
    assert cmd_error(r, "FLUSHDB", "FOO") == ERR_SYNTAX
    assert cmd_error(r, "FLUSHALL", "FOO") == ERR_SYNTAX
    r1.close()


# --- OBJECT ------------------------------------------------------------------


def test_object_encoding(r, rr):
    cases = [("123", "int"), ("-1", "int"), ("0", "int"),
             ("9223372036854775807", "int"), ("01", "embstr"),
             ("12345678901234567890", "embstr"), ("a" * 44, "embstr"),
             ("a" * 45, "raw"), ("", "embstr"), ("1.5", "embstr")]
    for value, enc in cases:
        r.set("ob", value)
        assert r.object("encoding", "ob") == enc, value
    assert rr.execute_command("OBJECT", "ENCODING", "ob:none") is None
    # APPEND to a missing key stores its argument as SET would; values
    # grown in place are raw; INCR gives an int.
    r.delete("ob")
    r.append("ob", "1")
    assert r.object("encoding", "ob") == "int"
    r.append("ob", "2")
    assert r.object("encoding", "ob") == "raw"
    r.delete("ob")
    r.setrange("ob", 0, "x")
    assert r.object("encoding", "ob") == "raw"
    r.delete("ob")
    r.incr("ob")
    assert r.object("encoding", "ob") == "int"
    r.set("ob", "1.5")
    r.incrbyfloat("ob", 1)
    assert r.object("encoding", "ob") == "embstr"


def test_object_refcount_idletime_freq(r, rr):
    r.set("ob:s", "some string value")
    assert rr.execute_command("OBJECT", "REFCOUNT", "ob:s") == 1
    assert rr.execute_command("OBJECT", "REFCOUNT", "ob:none") is None
    assert rr.execute_command("OBJECT", "IDLETIME", "ob:s") == 0
    assert rr.execute_command("OBJECT", "IDLETIME", "ob:none") is None
    time.sleep(1.3)
    assert rr.execute_command("OBJECT", "IDLETIME", "ob:s") >= 1
    r.get("ob:s")
    assert rr.execute_command("OBJECT", "IDLETIME", "ob:s") == 0
    # Without an LFU policy OBJECT FREQ is an error.
    assert cmd_error(rr, "OBJECT", "FREQ", "ob:s") == (
        "An LFU maxmemory policy is not selected, access frequency not "
        "tracked. Please note that when switching between policies at "
        "runtime LRU and LFU data will take some time to adjust.")


def test_object_errors(rr):
    rr.execute_command("SET", "ob", "v")
    assert cmd_error(rr, "OBJECT", "FOO", "ob") == \
        "unknown subcommand 'FOO'. Try OBJECT HELP."
    assert cmd_error(rr, "OBJECT", "ENCODING") == \
        "wrong number of arguments for 'object|encoding' command"
    assert cmd_error(rr, "OBJECT", "ENCODING", "ob", "x") == \
        "wrong number of arguments for 'object|encoding' command"
    assert cmd_error(rr, "OBJECT") == \
        "wrong number of arguments for 'object' command"
    help_lines = rr.execute_command("OBJECT", "HELP")
    assert isinstance(help_lines, list) and len(help_lines) > 4
    assert help_lines[0].startswith("OBJECT <subcommand>")


# --- expiry ------------------------------------------------------------------


def test_lazy_expiry_on_access(r):
    keys = ["lz:%d" % i for i in range(40)]
    p = r.pipeline(transaction=False)
    for k in keys:
        p.set(k, "v", px=100)
    p.execute()
    assert r.exists(*keys) == 40
    time.sleep(0.25)
    for k in keys[:20]:
        assert r.get(k) is None
    assert r.exists(*keys[20:]) == 0
    assert r.ttl(keys[0]) == -2
    assert r.dbsize() == 0


def test_active_expiry_without_access(r):
    keys = ["ax:%d" % i for i in range(300)]
    assert {shard_of(k) for k in keys} == {0, 1}
    r.mset({"keep:%d" % i: "v" for i in range(10)})
    p = r.pipeline(transaction=False)
    for k in keys:
        p.set(k, "v", px=100)
    p.execute()
    assert r.dbsize() == 310
    # Nothing touches the keys: only active expiry can remove them.
    assert wait_for(lambda: r.dbsize() == 10, timeout=2.5, step=0.1), \
        "DBSIZE still %d after 2.5 s" % r.dbsize()


def test_debug_set_active_expire(rr, r):
    assert rr.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0") == "OK"
    try:
        keys = ["da:%d" % i for i in range(100)]
        r.mset({"dkeep:%d" % i: "v" for i in range(5)})
        p = r.pipeline(transaction=False)
        for k in keys:
            p.set(k, "v", px=100)
        p.execute()
        time.sleep(0.6)
        # Expired but never accessed: still counted.
        assert r.dbsize() == 105
        # Never visible, though.
        assert sorted(r.keys("da:*")) == []
        assert r.exists(*keys[:50]) == 0
        assert r.mget(keys[50:]) == [None] * 50
        assert r.dbsize() == 5
    finally:
        assert rr.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1") == "OK"
    p = r.pipeline(transaction=False)
    for k in keys:
        p.set(k, "v", px=100)
    p.execute()
    assert wait_for(lambda: r.dbsize() == 5, timeout=2.5, step=0.1)


def test_expired_keys_invisible_to_scan_and_randomkey(rr, r):
    assert rr.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0") == "OK"
    try:
        r.set("live", "v")
        p = r.pipeline(transaction=False)
        for i in range(50):
            p.set("dead:%d" % i, "v", px=50)
        p.execute()
        time.sleep(0.2)
        assert set(r.scan_iter(count=1000)) == {"live"}
        for _ in range(20):
            assert r.randomkey() == "live"
        assert r.keys("*") == ["live"]
    finally:
        rr.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_rename_and_copy_of_expiring_key(r, k01):
    a, b = k01
    r.set(a, "v", px=100)
    time.sleep(0.2)
    assert cmd_error(r, "RENAME", a, b) == "no such key"
    assert r.copy(a, b) is False
    assert r.exists(a, b) == 0


# --- differential run against Debian's redis-server --------------------------



DIFF_SCRIPT = """
mset a 1 b 2 c 3 foo x bar y
del a b zz
exists a c c foo zz
unlink c foo
type bar
touch bar bar nothing
expire bar 100
ttl bar
expire bar 50 nx
expire bar 200 xx
expire bar 100 gt
expire bar 300 gt
expire bar 400 lt
expire bar 100 lt
ttl bar
expire bar 100 nx xx
expire bar 100 gt lt
expire bar 100 foo
persist bar
persist bar
expire bar 100 gt
expire bar 100 lt
expiretime nothing
pexpiretime nothing
set r1 v
rename r1 r2
rename r1 r3
rename r2 r2
renamenx r2 r2
set r4 v4
renamenx r2 r4
renamenx r2 r5
copy r5 cp
copy r5 cp
copy r5 cp replace
copy r5 r5
copy r5 cp3 db 1
copy r5 cp3 db 1
copy r5 cp3 db 16
copy r5 cp3 db 0 replace
move cp 1
move cp 1
move cp3 0
move cp3 16
keys c*
keys nomatch
dbsize
select 16
select -1
swapdb 0 16
swapdb x 0
swapdb 0 x
object encoding r5
object encoding nothing
object refcount nothing
object foo r5
object encoding
object freq r5
flushdb foo
flushall foo
scan abc
scan 0 count 0
scan 0 count -1
scan 0 match
scan 0 type
scan 0 foo bar
expire
ttl
del
rename a
dbsize x
randomkey x
keys
copy a
move a
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
        if isinstance(a, list) and isinstance(b, list) and \
                args[0] == "keys":
            a, b = sorted(a), sorted(b)
        if a != b:
            mismatches.append("%s -> apiary %r, redis %r" % (line, a, b))
    ours.close()
    ref.close()
    assert mismatches == []


def test_memory_usage(server, redis_ref):
    server.set("small", "v")
    server.set("big", "x" * 10000)
    server.sadd("set", *range(1000))
    small = server.memory_usage("small")
    assert 16 <= small < 128
    assert server.memory_usage("big") > 10000
    assert server.memory_usage("set") > 1000 * 4
    assert server.memory_usage("nosuch") is None
    for c in (server, redis_ref):
        c.set("small", "v")
        with pytest.raises(redis.ResponseError) as e:
            c.execute_command("MEMORY", "USAGE", "small", "SAMPLES", "x")
        assert str(e.value) == "value is not an integer or out of range"
        with pytest.raises(redis.ResponseError) as e:
            c.execute_command("MEMORY", "USAGE", "small", "FOO", "1")
        assert str(e.value) == "syntax error"
