"""The SCAN family's arguments (SCAN, HSCAN, SSCAN), parsed by one helper
in core/cmd.c: the cursor as Redis 7 reads it (strtoul in base 10: a sign,
a negative value wrapping, an empty text 0, the text ending at a NUL
byte, nothing beyond 64 bits), MATCH, COUNT and SCAN's TYPE, and the
order of the checks (cursor, then key, then options).

Every reply is compared byte for byte with Debian's redis-server (7.0),
in RESP2 and RESP3, on data whose scan replies depend neither on the
cursor's value nor on the key order: an empty database (SCAN runs in
database 1), a missing key, a one-field hash (a listpack) and a set of
small integers (an intset), which a scan returns whole with cursor 0 in
Redis 7.0, 7.2 and Apiary alike.
"""
import pytest

# The raw connection (exact reply bytes) of the hash tests.
from test_hashes import raw_pair

EMPTY_SCAN = b"*2\r\n$1\r\n0\r\n*0\r\n"

CURSORS = [
    b"0", b"007", b"+5", b"-0", b"", b"-1", b"18446744073709551615",
    b"-18446744073709551615", b"5\x00x", b"\x001",
    b"18446744073709551616", b"-18446744073709551616", b"-", b"+", b"+-1",
    b" 1", b"\t1", b"1 ", b"0x1", b"1e3", b"abc", b"x\x001",
]

OPTIONS = [
    [], [b"count", b"1"], [b"COUNT", b"9223372036854775807"],
    [b"count", b"0"], [b"count", b"-1"], [b"count", b"x"],
    [b"count", b"9223372036854775808"], [b"count"], [b"match"],
    [b"match", b"*"], [b"MATCH", b"1*"], [b"match", b"nomatch"],
    [b"match", b"a", b"count"], [b"foo", b"bar"], [b"type"],
    [b"type", b"string"], [b"TYPE", b"nosuchtype"],
    [b"count", b"x", b"foo"], [b"foo", b"count", b"x"],
    [b"count", b"5", b"count", b"0"], [b"match", b"x", b"match", b"*"],
]


@pytest.fixture(params=[2, 3])
def pair(apiary, redis_ref, request):
    """Raw connections to Apiary and redis-server, both holding the same
    small hash h and intset s, in the protocol under test."""
    redis_ref.flushall()
    conns = raw_pair(apiary, redis_ref, request.param)
    for c in conns:
        assert c.call(b"hset", b"h", b"f", b"v") == b":1\r\n"
        assert c.call(b"sadd", b"s", b"1", b"2", b"3") == b":3\r\n"
    yield conns
    for c in conns:
        c.close()


def run(conn, args):
    """One command's reply; SCAN runs in the empty database 1, so that its
    reply does not depend on how a server orders its keys."""
    if args[0] != b"scan":
        return conn.call(*args)
    assert conn.call(b"select", b"1") == b"+OK\r\n"
    try:
        return conn.call(*args)
    finally:
        assert conn.call(b"select", b"0") == b"+OK\r\n"


def mismatches(pair, commands):
    """The commands whose replies differ between the two servers."""
    ours, ref = pair
    out = []
    for args in commands:
        a, b = run(ours, args), run(ref, args)
        if a != b:
            out.append("%r -> apiary %r, redis %r" % (args, a, b))
    return out


def test_cursors_as_redis(pair):
    """Every cursor text gives Redis's reply on SCAN, HSCAN and SSCAN, on
    present and missing keys (an invalid cursor is reported first)."""
    commands = []
    for c in CURSORS:
        commands += [[b"scan", c], [b"hscan", b"h", c], [b"sscan", b"s", c],
                     [b"hscan", b"nokey", c], [b"sscan", b"nokey", c]]
    assert mismatches(pair, commands) == []


def test_cursor_checked_before_options(pair):
    """A bad cursor wins over bad options, as in Redis."""
    assert mismatches(pair, [
        [b"scan", b"x", b"count", b"0"],
        [b"hscan", b"h", b"x", b"foo"],
        [b"sscan", b"nokey", b"-", b"count", b"x"],
    ]) == []
    ours, _ = pair
    assert run(ours, [b"scan", b"x", b"count", b"0"]) == \
        b"-ERR invalid cursor\r\n"


def test_options_as_redis(pair):
    """MATCH, COUNT and TYPE (SCAN's only) with their errors; a missing
    key answers an empty scan whatever its options, as Redis."""
    commands = []
    for o in OPTIONS:
        commands += [[b"scan", b"0"] + o, [b"hscan", b"h", b"0"] + o,
                     [b"sscan", b"s", b"0"] + o,
                     [b"hscan", b"nokey", b"0"] + o,
                     [b"sscan", b"nokey", b"0"] + o]
    assert mismatches(pair, commands) == []
    ours, _ = pair
    assert ours.call(b"sscan", b"nokey", b"0", b"foo") == EMPTY_SCAN
    assert ours.call(b"sscan", b"s", b"0", b"type", b"set") == \
        b"-ERR syntax error\r\n"


def test_wrong_type_after_cursor(pair):
    """The key's type is checked after the cursor and before options."""
    assert mismatches(pair, [
        [b"hscan", b"s", b"0"], [b"hscan", b"s", b"x"],
        [b"hscan", b"s", b"0", b"count", b"0"],
        [b"sscan", b"h", b"-1", b"foo"],
    ]) == []
