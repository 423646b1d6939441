"""Streamed replies (docs/architecture.md "Streamed replies"): SMEMBERS,
HGETALL, HKEYS, HVALS, ZRANGE (rank, REV, WITHSCORES, BYSCORE LIMIT),
ZREVRANGE and LRANGE of 200k-element collections are written a budget
per loop tick. Checked end to end, with 1, 2 and 3 shards (remote
batches, squash groups) and on epoll:

- the reply equals redis-server's for the same data (RESP2 and RESP3;
  the same bytes where the order is defined) and Apiary's own reply
  written in one go (inside MULTI/EXEC, where nothing streams);
- another connection is served while a stream is under way (its reader
  reads slowly; INFO shows the stream active meanwhile);
- writers of the key (SADD, DEL, EXPIRE, a writing EXEC, FLUSHALL) wait
  and apply after: the streamed reply shows the old contents;
- a key whose TTL passes mid-stream is not freed under the stream;
- a reader that disconnects mid-stream, or overruns its output buffer
  limit, leaves the server healthy and the key writable;
- pipelined commands after a streamed one are answered in order.
"""
import signal
import socket
import threading
import time

import pytest

from conftest import Server, cmd, key_on

N = 200_000


# --- RESP reading ---------------------------------------------------------------


class Reader:
    """Reads whole RESP2/RESP3 replies from a socket, keeping their bytes."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.pos = 0

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("connection closed")
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos:i])
                self.pos = i + 2
                return line
            self._fill()

    def _bytes(self, n):
        while len(self.buf) - self.pos < n + 2:
            self._fill()
        b = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n + 2
        return b

    def _value(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t in (b"+", b"-"):
            return ("err", rest) if t == b"-" else rest
        if t == b":":
            return int(rest)
        if t == b",":
            return ("double", rest)
        if t == b"_":
            return None
        if t == b"#":
            return rest == b"t"
        if t in (b"$", b"="):
            n = int(rest)
            return None if n < 0 else self._bytes(n)
        if t in (b"*", b"~", b">"):
            n = int(rest)
            if n < 0:
                return None
            items = [self._value() for _ in range(n)]
            return ("set", items) if t == b"~" else items
        if t == b"%":
            n = int(rest)
            return ("map", [(self._value(), self._value()) for _ in range(n)])
        raise AssertionError("bad reply line %r" % line)

    def reply(self):
        """The next reply: (value, its raw bytes)."""
        del self.buf[:self.pos]
        self.pos = 0
        v = self._value()
        return v, bytes(self.buf[:self.pos])

    def raw(self):
        return self.reply()[1]


def connect(host, port, proto=2, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(60)
    s.connect((host, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    r = Reader(s)
    if proto == 3:
        s.sendall(cmd("HELLO", "3"))
        r.reply()
    return s, r


def call(conn, *args):
    s, r = conn
    s.sendall(cmd(*args))
    return r.reply()


def canon(name, v):
    """The reply v of command name (SMEMBERS, HGETALL, HKEYS, HVALS),
    whose order is the server's own, made comparable."""
    kind = None
    if isinstance(v, tuple):
        kind, v = v
    if kind == "map":
        return kind, sorted(v)
    if name == "HGETALL":  # RESP2: field, value, field, value ...
        return kind, sorted(zip(v[0::2], v[1::2]))
    return kind, sorted(v)


# --- data -----------------------------------------------------------------------


def load(c, name, key, n=N, width=8):
    """Fills key with n elements through the redis-py client c."""
    p = c.pipeline(transaction=False)
    for i in range(0, n, 2000):
        part = range(i, min(i + 2000, n))
        if name == "set":
            p.sadd(key, *["m%0*d" % (width, j) for j in part])
        elif name == "hash":
            p.hset(key, mapping={"f%0*d" % (width, j): "v%d" % (j * 7)
                                 for j in part})
        elif name == "zset":
            p.zadd(key, {"z%0*d" % (width, j): (j * 37) % 1000 / 4
                         for j in part})
        else:
            p.rpush(key, *["e%0*d" % (width, j) if j % 3 else str(j)
                           for j in part])
        p.execute()
        p = c.pipeline(transaction=False)


def stats(c):
    i = c.info("stats")
    return i["reply_streams"], i["reply_streams_active"]


def wait_idle(c, timeout=10):
    """Waits until no stream is active on any shard."""
    end = time.time() + timeout
    while time.time() < end:
        if stats(c)[1] == 0:
            return
        time.sleep(0.01)
    raise AssertionError("a stream is still active")


# (command, key kind, ordered: the same bytes as Redis expected)
COMMANDS = [
    (("SMEMBERS", "{s}"), "set", False),
    (("HGETALL", "{h}"), "hash", False),
    (("HKEYS", "{h}"), "hash", False),
    (("HVALS", "{h}"), "hash", False),
    (("ZRANGE", "{z}", "0", "-1"), "zset", True),
    (("ZRANGE", "{z}", "0", "-1", "WITHSCORES"), "zset", True),
    (("ZRANGE", "{z}", "7", "-9", "REV", "WITHSCORES"), "zset", True),
    (("ZREVRANGE", "{z}", "0", "-1"), "zset", True),
    (("ZRANGE", "{z}", "(10", "+inf", "BYSCORE", "LIMIT", "5", "150000",
      "WITHSCORES"), "zset", True),
    (("ZRANGEBYSCORE", "{z}", "-inf", "+inf"), "zset", True),
    (("LRANGE", "{l}", "0", "-1"), "list", True),
    (("LRANGE", "{l}", "-150000", "-3"), "list", True),
]


@pytest.fixture(scope="module")
def ref_data(redis_ref):
    redis_ref.flushall()
    for kind, key in (("set", "{s}"), ("hash", "{h}"), ("zset", "{z}"),
                      ("list", "{l}")):
        load(redis_ref, kind, key)
    return redis_ref


@pytest.mark.parametrize("shards", [1, 2, 3])
def test_replies_like_redis(make_server, ref_data, shards):
    srv = make_server(shards=shards)
    c = srv.client()
    for kind, key in (("set", "{s}"), ("hash", "{h}"), ("zset", "{z}"),
                      ("list", "{l}")):
        load(c, kind, key)
    ref_host = "127.0.0.1"
    ref_port = ref_data.connection_pool.connection_kwargs["port"]
    for proto in (2, 3):
        a = connect(srv.host, srv.port, proto)
        r = connect(ref_host, ref_port, proto)
        for args, kind, ordered in COMMANDS:
            before = stats(c)[0]
            got, got_raw = call(a, *args)
            want, want_raw = call(r, *args)
            assert stats(c)[0] == before + 1, args
            if ordered:
                assert got_raw == want_raw, args
            else:
                assert got_raw.split(b"\r\n", 1)[0] == \
                    want_raw.split(b"\r\n", 1)[0], args
                assert canon(args[0], got) == canon(args[0], want), args
            # Apiary's own reply in one go (nothing streams in EXEC).
            a[0].sendall(cmd("MULTI") + cmd(*args) + cmd("EXEC"))
            a[1].reply()
            a[1].reply()
            once = a[1].raw()
            assert once == (b"*1\r\n" + got_raw), args
            assert stats(c)[0] == before + 1, args
        a[0].close()
        r[0].close()
    wait_idle(c)


def test_small_replies_not_streamed(server):
    load(server, "set", "s", 8192)
    load(server, "list", "l", 8193)
    before = stats(server)[0]
    assert len(server.smembers("s")) == 8192
    assert len(server.lrange("l", 1, -1)) == 8192
    assert server.zrange("nokey", 0, -1) == []
    assert stats(server)[0] == before
    assert len(server.lrange("l", 0, -1)) == 8193
    assert stats(server)[0] == before + 1


# --- interleaving ---------------------------------------------------------------


def start_slow_reader(srv, *args, rcvbuf=4096):
    """Sends args on a connection that does not read yet (small receive
    buffer, so the stream soon waits for it); returns the connection."""
    conn = connect(srv.host, srv.port, rcvbuf=rcvbuf)
    conn[0].sendall(cmd(*args))
    return conn


def wait_active(c, n=1, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if stats(c)[1] >= n:
            return
        time.sleep(0.005)
    raise AssertionError("no stream became active")


@pytest.mark.parametrize("shards,reactor", [(1, "auto"), (1, "epoll"),
                                            (2, "auto"), (3, "epoll")])
def test_others_served_during_stream(make_server, shards, reactor):
    srv = make_server(shards=shards, reactor=reactor)
    c = srv.client()
    key = key_on(0, "big", shards)
    near = "{%s}:x" % key  # another key of the same shard
    load(c, "set", key, N, width=60)  # a ~13 MB reply
    c.set(near, "v")
    expect = c.scard(key)
    slow = start_slow_reader(srv, "SMEMBERS", key)
    wait_active(c)
    other = connect(srv.host, srv.port)
    for _ in range(20):
        t0 = time.time()
        assert call(other, "PING")[0] == b"PONG"
        assert call(other, "GET", near)[0] == b"v"
        assert time.time() - t0 < 1.0
    # The first reply is still arriving: its stream is active.
    assert stats(c)[1] == 1
    got, _ = slow[1].reply()
    assert len(got) == expect and len(set(got)) == expect
    wait_idle(c)
    slow[0].close()
    other[0].close()
    assert c.ping()


@pytest.mark.parametrize("shards", [1, 2])
@pytest.mark.parametrize("write", ["sadd", "del", "expire", "exec",
                                   "flushall", "move"])
def test_writers_wait_for_stream(make_server, shards, write):
    srv = make_server(shards=shards)
    c = srv.client()
    key = key_on(1 % shards, "w", shards)
    load(c, "set", key, N, width=60)
    old = c.smembers(key)
    slow = start_slow_reader(srv, "SMEMBERS", key)
    wait_active(c)
    w = srv.client()
    if write == "sadd":
        assert w.sadd(key, "new-member") == 1
        assert w.scard(key) == len(old) + 1
    elif write == "del":
        assert w.delete(key) == 1
        assert w.exists(key) == 0
    elif write == "expire":
        assert w.expire(key, 100) is True
        assert 0 < w.ttl(key) <= 100
    elif write == "exec":
        p = w.pipeline(transaction=True)
        p.sadd(key, "new-member")
        p.scard(key)
        assert p.execute() == [1, len(old) + 1]
    elif write == "flushall":
        assert w.flushall() is True
        assert w.dbsize() == 0
    else:
        # MOVE into the db where the streamed key lives waits too.
        w2 = srv.client(db=3)
        w2.sadd(key, "other-db")
        assert w2.move(key, 0) == 0  # exists in db 0
        assert w2.exists(key) == 1
    # The writer went first (the stream ran to its end for it), yet the
    # streamed reply is the set as it was.
    got, _ = slow[1].reply()
    assert set(got) == old and len(got) == len(old)
    slow[0].close()
    wait_idle(c)


def test_ttl_passes_mid_stream(make_server):
    srv = make_server(shards=1)
    c = srv.client()
    load(c, "set", "s", N, width=60)
    old = c.smembers("s")
    slow = connect(srv.host, srv.port, rcvbuf=4096)
    slow[0].sendall(cmd("PEXPIRE", "s", "300") + cmd("SMEMBERS", "s"))
    wait_active(c)
    time.sleep(0.5)  # the TTL passes while the reply is under way
    assert c.exists("s") == 0  # expired: absent to readers ...
    assert c.dbsize() == 1  # ... but not freed under the stream
    assert stats(c)[1] == 1
    assert slow[1].reply()[0] == 1
    got, _ = slow[1].reply()
    assert set(got) == old and len(got) == len(old)
    wait_idle(c)
    assert c.exists("s") == 0
    assert c.dbsize() == 0
    slow[0].close()


@pytest.mark.parametrize("shards,reactor", [(1, "auto"), (2, "auto"),
                                            (2, "epoll")])
def test_disconnect_mid_stream(make_server, shards, reactor):
    srv = make_server(shards=shards, reactor=reactor)
    c = srv.client()
    keys = [key_on(i, "d", shards) for i in range(shards)]
    for k in keys:
        load(c, "set", k, N, width=60)
    for k in keys:
        for how in ("none", "some"):
            slow = start_slow_reader(srv, "SMEMBERS", k)
            wait_active(c)
            if how == "some":
                slow[0].recv(100000)
            slow[0].close()
            wait_idle(c)
            assert c.sadd(k, "after-%s" % how) == 1
    # Pipelined streams, then gone before reading anything.
    s = socket.create_connection((srv.host, srv.port))
    s.sendall(b"".join(cmd("SMEMBERS", k) for k in keys) * 3)
    time.sleep(0.05)
    s.close()
    wait_idle(c)
    for k in keys:
        assert c.scard(k) == N + 2
        assert c.delete(k) == 1
    assert c.dbsize() == 0


def test_output_limit_applies(make_server):
    srv = make_server("--client-output-buffer-limit", "normal 2mb 0 0",
                      shards=1)
    c = srv.client()
    load(c, "set", "s", N, width=60)
    slow = start_slow_reader(srv, "SMEMBERS", "s", rcvbuf=4096)
    # A paced stream keeps its output near 1 MB: the reader survives.
    time.sleep(0.3)
    assert stats(c)[1] == 1
    got, _ = slow[1].reply()
    assert len(got) == N
    slow[0].close()
    # A writer waiting makes the stream run to its end regardless of the
    # socket: the output passes 2 MB and the reader is closed, as Redis
    # closes a client whose reply outgrows the limit.
    slow = start_slow_reader(srv, "SMEMBERS", "s", rcvbuf=4096)
    wait_active(c)
    assert c.sadd("s", "x") == 1
    with pytest.raises((ConnectionError, OSError)):
        for _ in range(N + 10):
            slow[1].reply()
    slow[0].close()
    wait_idle(c)
    assert c.scard("s") == N + 1


@pytest.mark.parametrize("shards", [1, 2, 3])
def test_pipelined_order(make_server, shards):
    srv = make_server(shards=shards)
    c = srv.client()
    keys = [key_on(i, "p", shards) for i in range(shards)]
    for i, k in enumerate(keys):
        load(c, "list", "{%s}l" % k, 20000 + i)
        load(c, "set", "{%s}s" % k, 30000 + i)
        c.set("{%s}v" % k, "val%d" % i)
    pipe = []
    expect = []
    for i, k in enumerate(keys):
        for j, kk in enumerate(keys):
            # A remote or local GET, then a big read: a squash group
            # with a streamed local reply, or batches with remote ones.
            pipe += [("GET", "{%s}v" % kk), ("LRANGE", "{%s}l" % k, 0, -1),
                     ("PING",), ("SCARD", "{%s}s" % k),
                     ("SMEMBERS", "{%s}s" % kk), ("ECHO", "e%d%d" % (i, j))]
            expect += [b"val%d" % j, 20000 + i, b"PONG", 30000 + i,
                       30000 + j, b"e%d%d" % (i, j)]
    before = stats(c)[0]
    conn = connect(srv.host, srv.port)
    conn[0].sendall(b"".join(cmd(*a) for a in pipe))
    for want in expect:
        got, _ = conn[1].reply()
        if isinstance(got, list):
            got = len(got)
        assert got == want
    assert stats(c)[0] - before == 2 * len(keys) * len(keys)
    conn[0].close()
    wait_idle(c)


def test_concurrent_streams_same_key(make_server):
    srv = make_server(shards=1)
    c = srv.client()
    load(c, "zset", "z", N)
    want = c.zrange("z", 0, -1, withscores=True)
    conns = [start_slow_reader(srv, "ZRANGE", "z", 0, -1, "WITHSCORES")
             for _ in range(4)]
    wait_active(c, 4)
    results = [None] * len(conns)

    def read(i):
        results[i] = conns[i][1].reply()[1]
    threads = [threading.Thread(target=read, args=(i,))
               for i in range(len(conns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(set(results)) == 1
    assert results[0].startswith(b"*%d\r\n" % (2 * N))
    assert len(want) == N
    for conn in conns:
        conn[0].close()
    wait_idle(c)


@pytest.mark.parametrize("shards", [1, 2])
def test_reply_off_and_other_db(make_server, shards):
    srv = make_server(shards=shards)
    c = srv.client(db=5)
    assert stats(c) == (0, 0)
    keys = [key_on(i, "o", shards) for i in range(shards)]
    for k in keys:
        load(c, "hash", k, 30000)
    conn = connect(srv.host, srv.port, proto=3)
    # Streamed replies dropped by CLIENT REPLY OFF, then one kept, in
    # database 5.
    pipe = [("SELECT", 5), ("CLIENT", "REPLY", "OFF")]
    pipe += [("HGETALL", k) for k in keys]
    pipe += [("CLIENT", "REPLY", "ON"), ("HLEN", keys[0]),
             ("HGETALL", keys[-1]), ("PING",)]
    conn[0].sendall(b"".join(cmd(*a) for a in pipe))
    assert conn[1].reply()[0] == b"OK"  # SELECT
    assert conn[1].reply()[0] == b"OK"  # CLIENT REPLY ON
    assert conn[1].reply()[0] == 30000
    got = conn[1].reply()[0]
    assert conn[1].reply()[0] == b"PONG"
    assert stats(c)[0] == len(keys) + 1
    assert got[0] == "map" and len(got[1]) == 30000
    assert dict(got[1]) == c.hgetall(keys[-1])
    conn[0].close()
    wait_idle(c)


@pytest.mark.parametrize("shards", [1, 2])
def test_shutdown_with_streams_active(shards):
    srv = Server(shards=shards)
    conns = []
    try:
        c = srv.client()
        keys = [key_on(i, "q", shards) for i in range(shards)]
        for k in keys:
            load(c, "list", k, N, width=60)
        conns = [start_slow_reader(srv, "LRANGE", k, 0, -1)
                 for k in keys for _ in range(2)]
        wait_active(c, 1)
        # Streams for remote readers run to their end at once (their
        # batches go home); those of local readers wait for them. No
        # cross-shard work may be in flight at the stop (a batch away
        # when its shards stop is never freed, streamed or not).
        time.sleep(0.5)
        assert stats(c)[1] >= 1
        c.close()
        # SIGTERM while streams wait for their readers: the shards stop
        # them unfinished; then the readers go away.
        srv.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
    finally:
        for x in conns:
            x[0].close()
        srv.stop()  # exits cleanly (no sanitizer report)
