"""Protocol tests: raw RESP bytes over a socket against the real server.

Covers split reads, deep pipelining, inline commands, big values, malformed
input (an `-ERR Protocol error: ...` reply, then the connection closes while
the server keeps serving everyone else), oversized lengths, clients that
vanish mid-command, RESP3 through HELLO 3, error texts of unknown commands
and wrong arity, and the query buffer limit.

Expected replies are Redis 7's, byte for byte. Where Apiary sets its own
limit (at most 1M arguments per command) the test says so.
"""
import random
import socket
import struct
import time

import pytest

from conftest import cmd, key_on, recv_all, recv_until, shard_of

# Apiary's bound on arguments per command (core/limits.h AP_ARGC_MAX).
ARGC_MAX = 1024 * 1024
# Redis's default proto-max-bulk-len.
BULK_MAX_DEFAULT = 512 * 1024 * 1024
# Redis's limit on an inline command without a newline.
INLINE_MAX = 64 * 1024


def bulk(v):
    """The RESP2 encoding of a bulk string reply."""
    if isinstance(v, str):
        v = v.encode()
    return b"$%d\r\n%s\r\n" % (len(v), v)


def send_all(sock, data):
    """Sends data, ignoring a peer that closed or reset the connection
    first (the server may hang up before reading everything)."""
    try:
        sock.sendall(data)
        return True
    except (BrokenPipeError, ConnectionResetError):
        return False


def read_to_eof(sock, timeout=10):
    """Reads until the server closes the connection; returns the bytes and
    whether EOF (or a reset) was seen before the timeout."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            chunk = sock.recv(1 << 16)
        except ConnectionResetError:
            return data, True
        except socket.timeout:
            return data, False
        if not chunk:
            return data, True
        data += chunk
    return data, False


def recv_exact(sock, n, timeout=60):
    """Reads exactly n bytes (fewer only at EOF) without quadratic
    copying, for big replies."""
    sock.settimeout(timeout)
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    deadline = time.time() + timeout
    while got < n:
        assert time.time() < deadline, "reply not complete in time"
        k = sock.recv_into(view[got:], min(n - got, 1 << 22))
        if k == 0:
            break
        got += k
    return bytes(buf[:got])


def assert_open_and_silent(sock, wait=0.3):
    """Asserts that the server neither replied nor closed within wait."""
    sock.settimeout(wait)
    try:
        data = sock.recv(1 << 16)
    except socket.timeout:
        return
    raise AssertionError("expected no reply and an open connection, got %r"
                         % data[:200])


def roundtrip(sock, data, expected, timeout=30):
    """Sends data and asserts the reply is exactly expected."""
    sock.sendall(data)
    got = recv_all(sock, len(expected), timeout)
    assert got == expected


def assert_healthy(apiary):
    """The server is running and a new connection gets PONG."""
    assert apiary.alive(), apiary.read_log()[-4000:]
    s = apiary.connect()
    try:
        roundtrip(s, b"PING\r\n", b"+PONG\r\n", timeout=10)
    finally:
        s.close()


class Reader:
    """A small RESP2/RESP3 reply parser over a raw socket. Values: bytes
    for bulk and simple strings, int, float, bool, None for every null,
    list for arrays and pushes, dict for maps, set-like list for sets
    (kept as list), and Error for error replies."""

    class Error(str):
        pass

    def __init__(self, sock, timeout=30):
        self.sock = sock
        self.sock.settimeout(timeout)
        self.timeout = timeout
        self.buf = bytearray()
        self.pos = 0
        self.deadline = None

    def _fill(self):
        assert time.time() < self.deadline, "reply not complete in time"
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise EOFError("server closed the connection")
        if self.pos > (1 << 20):
            del self.buf[:self.pos]
            self.pos = 0
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos:i])
                self.pos = i + 2
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) - self.pos < n + 2:
            self._fill()
        data = bytes(self.buf[self.pos:self.pos + n])
        assert self.buf[self.pos + n:self.pos + n + 2] == b"\r\n"
        self.pos += n + 2
        return data

    def reply(self):
        """Reads one complete reply (within the timeout)."""
        self.deadline = time.time() + self.timeout
        return self._reply()

    def _reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest
        if t == b"-":
            return Reader.Error(rest.decode())
        if t == b":":
            return int(rest)
        if t in (b"$", b"="):
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if t in (b"*", b"~", b">"):
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        if t == b"%":
            n = int(rest)
            out = {}
            for _ in range(n):
                k = self._reply()
                out[k] = self._reply()
            return out
        if t == b"_":
            return None
        if t == b",":
            return float(rest)
        if t == b"#":
            return rest == b"t"
        if t == b"(":
            return int(rest)
        raise AssertionError("unknown reply type in %r" % line)


# --- inline commands ------------------------------------------------------


def test_inline_ping_variants(apiary):
    s = apiary.connect()
    roundtrip(s, b"PING\r\n", b"+PONG\r\n")
    roundtrip(s, b"PING\n", b"+PONG\r\n")
    roundtrip(s, b"ping hello\r\n", bulk("hello"))
    # Empty lines are ignored, as Redis does.
    roundtrip(s, b"\r\n\n\r\nPING\r\n", b"+PONG\r\n")
    # Runs of blanks separate arguments; trailing blanks are ignored.
    roundtrip(s, b"ECHO    x   \r\n", bulk("x"))
    s.close()


def test_inline_quoted_arguments(apiary):
    s = apiary.connect()
    roundtrip(s, b"SET \"my key\" 'it\\'s a value'\r\n", b"+OK\r\n")
    roundtrip(s, cmd("GET", "my key"), bulk("it's a value"))
    roundtrip(s, b'ECHO "a\\x41b\\n"\r\n', bulk(b"aAb\n"))
    roundtrip(s, b'ECHO "tab\\there\\r\\\\"\r\n', bulk(b"tab\there\r\\"))
    roundtrip(s, b'ECHO ""\r\n', bulk(b""))
    roundtrip(s, b"ECHO 'single \"double\" inside'\r\n",
              bulk(b'single "double" inside'))
    s.close()


def test_inline_and_multibulk_mixed_in_one_send(apiary):
    s = apiary.connect()
    data = (b"SET a 1\r\n" + cmd("INCR", "a") + b"INCR a\n" +
            cmd("GET", "a") + b"GET a\r\n")
    roundtrip(s, data, b"+OK\r\n:2\r\n:3\r\n" + bulk("3") + bulk("3"))
    s.close()


def test_inline_long_line_and_too_big(apiary):
    s = apiary.connect()
    # A long inline command with its newline is fine.
    arg = b"a" * 60000
    roundtrip(s, b"ECHO " + arg + b"\r\n", bulk(arg))
    s.close()
    # More than 64 KB without a newline is refused.
    s = apiary.connect()
    send_all(s, b"ECHO " + b"a" * (INLINE_MAX + 4096))
    data, eof = read_to_eof(s)
    assert data == b"-ERR Protocol error: too big inline request\r\n"
    assert eof
    s.close()
    assert_healthy(apiary)


# --- split reads and pipelining --------------------------------------------

SPLIT_SCRIPT = (cmd("SET", "sk", "line1\r\nline2") + b"GET sk\r\n" +
                cmd("GET", "sk") + cmd("ECHO", "") + b"PING\r\n" +
                cmd("APPEND", "sk", "!") + cmd("STRLEN", "sk"))
SPLIT_REPLY = (b"+OK\r\n" + bulk("line1\r\nline2") + bulk("line1\r\nline2") +
               bulk("") + b"+PONG\r\n" + b":13\r\n" + b":13\r\n")


def test_split_reads_one_byte_at_a_time(apiary):
    """Inline and multibulk commands, one byte per send."""
    s = apiary.connect()
    s.sendall(cmd("DEL", "sk"))
    assert recv_all(s, 4) == b":0\r\n"
    for i in range(len(SPLIT_SCRIPT)):
        s.sendall(SPLIT_SCRIPT[i:i + 1])
        time.sleep(0.001)
    assert recv_all(s, len(SPLIT_REPLY)) == SPLIT_REPLY
    s.close()


def test_split_at_every_offset(apiary):
    """The same command sent in two pieces, split at every byte."""
    s = apiary.connect()
    value = "v\r\n" * 7
    msg = cmd("SET", "split:key", value) + cmd("GET", "split:key")
    expected = b"+OK\r\n" + bulk(value)
    for i in range(1, len(msg)):
        s.sendall(msg[:i])
        time.sleep(0.002)
        s.sendall(msg[i:])
        assert recv_all(s, len(expected)) == expected, "split at %d" % i
    s.close()


def test_pipeline_10k_commands_replies_in_order(apiary):
    """10k commands in one send, keys on both shards: replies come back in
    order, byte for byte."""
    k0, k1 = key_on(0, "ctr"), key_on(1, "ctr")
    parts, want = [], []
    for i in range(2500):
        key = "pipe:%d" % i
        parts.append(cmd("SET", key, "val:%d" % i))
        want.append(b"+OK\r\n")
        parts.append(cmd("GET", key))
        want.append(bulk("val:%d" % i))
        ctr = k0 if i % 2 == 0 else k1
        parts.append(cmd("INCR", ctr))
        want.append(b":%d\r\n" % (i // 2 + 1))
        parts.append(cmd("EXISTS", key, "pipe:none"))
        want.append(b":1\r\n")
    data, expected = b"".join(parts), b"".join(want)
    s = apiary.connect()
    s.sendall(data)
    got = recv_all(s, len(expected), timeout=60)
    assert len(got) == len(expected)
    assert got == expected
    # Nothing more is pending.
    assert_open_and_silent(s, 0.2)
    s.close()


def test_pipeline_across_shards_interleaved_gets(apiary):
    """GETs that alternate between shards, pipelined, keep their order."""
    keys = ["x:%d" % i for i in range(200)]
    assert {shard_of(k) for k in keys} == {0, 1}
    s = apiary.connect()
    s.sendall(b"".join(cmd("SET", k, k.upper()) for k in keys))
    assert recv_all(s, 5 * len(keys)) == b"+OK\r\n" * len(keys)
    order = keys[::-1] + keys
    s.sendall(b"".join(cmd("GET", k) for k in order))
    expected = b"".join(bulk(k.upper()) for k in order)
    assert recv_all(s, len(expected)) == expected
    s.close()


# --- big values -------------------------------------------------------------


def test_big_value_50mb_roundtrip(apiary):
    size = 50 * 1024 * 1024
    payload = random.Random(7).randbytes(size)
    s = apiary.connect()
    s.sendall(cmd("SET", "big", payload))
    assert recv_all(s, 5, timeout=60) == b"+OK\r\n"
    s.sendall(cmd("STRLEN", "big") +
              cmd("GETRANGE", "big", size - 3, -1))
    expected = b":%d\r\n" % size + bulk(payload[-3:])
    assert recv_all(s, len(expected)) == expected
    # GET it from two connections (connections are spread over shards, so
    # one of them is likely served across shards).
    t = apiary.connect()
    head = b"$%d\r\n" % size
    for conn in (s, t):
        conn.sendall(cmd("GET", "big"))
        got = recv_exact(conn, len(head) + size + 2)
        assert got[:len(head)] == head
        assert got[len(head):-2] == payload
        assert got[-2:] == b"\r\n"
    s.close()
    t.close()
    assert_healthy(apiary)


# --- malformed input ---------------------------------------------------------

MALFORMED = [
    (b"*x\r\n", b"invalid multibulk length"),
    (b"*1x\r\n", b"invalid multibulk length"),
    (b"*2\r\nfoo\r\n", b"expected '$', got 'f'"),
    (b"*2\r\n$4\r\nget\r\n*1\r\n", b"expected '$', got '1'"),
    (b"*1\r\n$x\r\n", b"invalid bulk length"),
    (b"*1\r\n$-5\r\n", b"invalid bulk length"),
    (b'SET "abc\r\n', b"unbalanced quotes in request"),
    (b"ECHO 'a'b\r\n", b"unbalanced quotes in request"),
    (b'ECHO "a"b\r\n', b"unbalanced quotes in request"),
    # Oversized lengths.
    (b"*2000000\r\n", b"invalid multibulk length"),
    (b"*%d\r\n" % (ARGC_MAX + 1), b"invalid multibulk length"),
    (b"*1\r\n$600000000\r\n", b"invalid bulk length"),
    (b"*1\r\n$%d\r\n" % (BULK_MAX_DEFAULT + 1), b"invalid bulk length"),
    (b"*1\r\n$99999999999999999999\r\n", b"invalid bulk length"),
]


@pytest.mark.parametrize("data,error", MALFORMED,
                         ids=[repr(m[0][:24]) for m in MALFORMED])
def test_malformed_input_closes_only_that_connection(apiary, data, error):
    bystander = apiary.connect()
    roundtrip(bystander, cmd("SET", "safe", "1"), b"+OK\r\n")
    s = apiary.connect()
    send_all(s, data)
    got, eof = read_to_eof(s)
    assert got == b"-ERR Protocol error: " + error + b"\r\n"
    assert eof, "connection left open after a protocol error"
    s.close()
    # The other client is untouched and the server still serves.
    roundtrip(bystander, cmd("GET", "safe"), bulk("1"))
    bystander.close()
    assert_healthy(apiary)


def test_protocol_error_after_valid_commands(apiary):
    """Commands before the bad bytes are run and answered, then the error;
    keys on both shards (a command served by another shard must not be
    lost when its connection closes)."""
    k0, k1 = key_on(0, "pe"), key_on(1, "pe")
    s = apiary.connect()
    send_all(s, b"PING\r\n" + cmd("SET", k0, "1") + cmd("SET", k1, "1") +
             b"*x\r\n" + cmd("SET", k0, "2"))
    got, eof = read_to_eof(s)
    assert got == (b"+PONG\r\n+OK\r\n+OK\r\n"
                   b"-ERR Protocol error: invalid multibulk length\r\n")
    assert eof
    s.close()
    c = apiary.client()
    assert c.mget(k0, k1) == [b"1", b"1"]
    c.close()


def test_empty_and_null_multibulk_are_ignored(apiary):
    s = apiary.connect()
    roundtrip(s, b"*0\r\n*-1\r\nPING\r\n", b"+PONG\r\n")
    roundtrip(s, b"*1\r\n$0\r\n\r\n",
              b"-ERR unknown command '', with args beginning with: \r\n")
    s.close()


def test_argc_limit_boundary_is_accepted(apiary):
    """Exactly ARGC_MAX arguments is a valid command (EXISTS of one key
    repeated ARGC_MAX - 1 times)."""
    s = apiary.connect()
    roundtrip(s, cmd("SET", "a", "1"), b"+OK\r\n")
    n = ARGC_MAX - 1
    s.sendall(b"*%d\r\n$6\r\nEXISTS\r\n" % ARGC_MAX + b"$1\r\na\r\n" * n)
    assert recv_until(s, b"\r\n", timeout=60) == b":%d\r\n" % n
    s.close()
    assert_healthy(apiary)


def test_bulk_length_boundary_is_accepted(apiary):
    """A bulk of exactly proto-max-bulk-len is announced without error; the
    server waits for its bytes."""
    s = apiary.connect()
    s.sendall(b"*1\r\n$%d\r\n" % BULK_MAX_DEFAULT)
    assert_open_and_silent(s)
    s.close()
    assert_healthy(apiary)


def test_proto_max_bulk_len_configured(make_server):
    srv = make_server("--proto-max-bulk-len", "1mb")
    limit = 1024 * 1024
    s = srv.connect()
    send_all(s, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n" % (limit + 1))
    got, eof = read_to_eof(s)
    assert got == b"-ERR Protocol error: invalid bulk length\r\n"
    assert eof
    s.close()
    # A value of exactly the limit is stored.
    value = b"z" * limit
    s = srv.connect()
    roundtrip(s, cmd("SET", "k", value), b"+OK\r\n")
    roundtrip(s, cmd("GET", "k"), bulk(value))
    # APPEND and SETRANGE may not grow a string past the limit.
    roundtrip(s, cmd("APPEND", "k", "x"),
              b"-ERR string exceeds maximum allowed size "
              b"(proto-max-bulk-len)\r\n")
    roundtrip(s, cmd("SETRANGE", "k", limit, "x"),
              b"-ERR string exceeds maximum allowed size "
              b"(proto-max-bulk-len)\r\n")
    roundtrip(s, cmd("STRLEN", "k"), b":%d\r\n" % limit)
    s.close()
    assert_healthy(srv)


# --- clients that vanish -----------------------------------------------------


def test_disconnect_mid_command(apiary):
    partials = [
        b"*3\r\n$3\r\nSE",
        b"*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$100000\r\n" + b"h" * 50000,
        b"*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$5\r\nabc",
        b"SET half inline-without-newline",
    ]
    for data in partials:
        s = apiary.connect()
        s.sendall(data)
        time.sleep(0.05)
        s.close()
    # An abortive close (RST) in the middle of a bulk.
    s = apiary.connect()
    s.sendall(b"*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$100000\r\n" + b"h" * 1000)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    assert_healthy(apiary)
    c = apiary.client()
    assert c.exists("half") == 0
    c.close()


def test_disconnect_with_replies_pending(apiary):
    """A client that pipelines many big replies and leaves without reading
    them must not disturb the server."""
    c = apiary.client()
    c.set("fat", b"f" * 100000)
    for _ in range(3):
        s = apiary.connect()
        s.sendall(cmd("GET", "fat") * 1000)
        time.sleep(0.05)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
        s.close()
    assert_healthy(apiary)
    assert c.strlen("fat") == 100000
    c.close()


# --- RESP3 ------------------------------------------------------------------


def test_hello_3_switches_to_resp3(apiary):
    s = apiary.connect()
    s.sendall(b"HELLO 3\r\n")
    rd = Reader(s)
    hello = rd.reply()
    assert isinstance(hello, dict)
    assert list(hello.keys()) == [b"server", b"version", b"proto", b"id",
                                  b"mode", b"role", b"modules"]
    assert hello[b"server"] == b"redis"
    assert hello[b"proto"] == 3
    assert hello[b"mode"] == b"standalone"
    assert hello[b"role"] == b"master"
    assert hello[b"modules"] == []
    assert isinstance(hello[b"id"], int)
    # Null is "_" in RESP3, also inside arrays.
    roundtrip(s, cmd("GET", "r3:none"), b"_\r\n")
    roundtrip(s, cmd("SET", "r3:a", "1"), b"+OK\r\n")
    roundtrip(s, cmd("MGET", "r3:a", "r3:none"),
              b"*2\r\n" + bulk("1") + b"_\r\n")
    roundtrip(s, cmd("SET", "r3:a", "2", "GET"), bulk("1"))
    roundtrip(s, cmd("INCRBYFLOAT", "r3:a", "0.5"), bulk("2.5"))
    roundtrip(s, cmd("DEBUG", "PROTOCOL", "double"), b",3.141\r\n")
    roundtrip(s, cmd("DEBUG", "PROTOCOL", "true"), b"#t\r\n")
    roundtrip(s, cmd("DEBUG", "PROTOCOL", "null"), b"_\r\n")
    roundtrip(s, cmd("DEBUG", "PROTOCOL", "map"),
              b"%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n")
    # Back to RESP2: HELLO 2 is a flat array, null is $-1.
    s.sendall(b"HELLO 2\r\n")
    hello2 = rd.reply()
    assert isinstance(hello2, list) and len(hello2) == 14
    assert hello2[4:6] == [b"proto", 2]
    roundtrip(s, cmd("GET", "r3:none"), b"$-1\r\n")
    roundtrip(s, cmd("MGET", "r3:none"), b"*1\r\n$-1\r\n")
    roundtrip(s, cmd("DEBUG", "PROTOCOL", "double"), bulk("3.141"))
    roundtrip(s, cmd("DEBUG", "PROTOCOL", "true"), b":1\r\n")
    s.close()


def test_hello_errors_and_options(apiary):
    s = apiary.connect()
    roundtrip(s, b"HELLO 4\r\n", b"-NOPROTO unsupported protocol version\r\n")
    roundtrip(s, b"HELLO 1\r\n", b"-NOPROTO unsupported protocol version\r\n")
    roundtrip(s, b"HELLO abc\r\n",
              b"-ERR Protocol version is not an integer or out of range\r\n")
    roundtrip(s, cmd("HELLO", "3", "SETNAME", "a b"),
              b"-ERR Client names cannot contain spaces, newlines or "
              b"special characters.\r\n")
    # The failed HELLOs left the connection in RESP2.
    roundtrip(s, cmd("GET", "none"), b"$-1\r\n")
    s.sendall(cmd("HELLO", "3", "SETNAME", "tester"))
    assert Reader(s).reply()[b"proto"] == 3
    roundtrip(s, cmd("GET", "none"), b"_\r\n")
    s.close()


def test_hello_auth(make_server):
    srv = make_server("--requirepass", "s3cret")
    s = srv.connect()
    roundtrip(s, cmd("GET", "x"), b"-NOAUTH Authentication required.\r\n")
    roundtrip(s, cmd("HELLO", "3", "AUTH", "default", "wrong"),
              b"-WRONGPASS invalid username-password pair or user is "
              b"disabled.\r\n")
    roundtrip(s, cmd("GET", "x"), b"-NOAUTH Authentication required.\r\n")
    s.sendall(cmd("HELLO", "3", "AUTH", "default", "s3cret"))
    assert Reader(s).reply()[b"proto"] == 3
    roundtrip(s, cmd("GET", "x"), b"_\r\n")
    s.close()


# --- error texts -------------------------------------------------------------


def test_unknown_command_and_arity_errors(apiary):
    s = apiary.connect()
    roundtrip(s, cmd("FOO"),
              b"-ERR unknown command 'FOO', with args beginning with: \r\n")
    roundtrip(s, cmd("FOO", "bar", "baz"),
              b"-ERR unknown command 'FOO', with args beginning with: "
              b"'bar' 'baz' \r\n")
    roundtrip(s, cmd("GET"),
              b"-ERR wrong number of arguments for 'get' command\r\n")
    roundtrip(s, cmd("get", "a", "b"),
              b"-ERR wrong number of arguments for 'get' command\r\n")
    roundtrip(s, cmd("SET", "a"),
              b"-ERR wrong number of arguments for 'set' command\r\n")
    roundtrip(s, cmd("MSET", "a"),
              b"-ERR wrong number of arguments for 'mset' command\r\n")
    roundtrip(s, cmd("PING", "a", "b"),
              b"-ERR wrong number of arguments for 'ping' command\r\n")
    # The connection is still usable after errors.
    roundtrip(s, b"PING\r\n", b"+PONG\r\n")
    s.close()


def test_unknown_command_error_is_truncated_like_redis(apiary):
    """Redis quotes the command name up to 128 bytes and the arguments
    until the list reaches 128 bytes (each argument cut to fit)."""
    s = apiary.connect()
    long_name = "x" * 200
    roundtrip(s, cmd(long_name),
              b"-ERR unknown command '" + b"x" * 128 +
              b"', with args beginning with: \r\n")
    roundtrip(s, cmd("foo", "a" * 200, "b", "c"),
              b"-ERR unknown command 'foo', with args beginning with: '" +
              b"a" * 128 + b"' \r\n")
    args = ["arg%02d" % i for i in range(60)]
    # Each "'argNN' " is 8 bytes: Redis stops once 128 bytes are written.
    quoted = b"".join(b"'%s' " % a.encode() for a in args[:16])
    roundtrip(s, cmd("foo", *args),
              b"-ERR unknown command 'foo', with args beginning with: " +
              quoted + b"\r\n")
    s.close()


# --- query buffer limit ------------------------------------------------------


def test_query_buffer_limit(make_server):
    """client-query-buffer-limit bounds what a client may have buffered
    before a command is complete. As in Redis, a client past the limit is
    disconnected (at most an error reply first); complete commands that
    the server consumes as they arrive never hit it."""
    srv = make_server("--client-query-buffer-limit", "1mb",
                      "--proto-max-bulk-len", "10mb")
    # A 2 MB bulk sent partially: more than 1 MB buffered, never complete.
    s = srv.connect()
    send_all(s, b"*3\r\n$3\r\nSET\r\n$2\r\nqb\r\n$2000000\r\n")
    for _ in range(24):
        if not send_all(s, b"q" * 65536):
            break
        time.sleep(0.005)
    got, eof = read_to_eof(s, timeout=10)
    assert eof, "client past client-query-buffer-limit not disconnected"
    assert got == b"" or (got.startswith(b"-ERR") and
                          got.endswith(b"\r\n") and got.count(b"\r\n") == 1)
    s.close()
    # A complete 2 MB command cannot be buffered either.
    s = srv.connect()
    send_all(s, cmd("SET", "qb", b"Q" * 2000000))
    got, eof = read_to_eof(s, timeout=10)
    assert eof
    assert not got.startswith(b"+OK")
    s.close()
    c = srv.client()
    assert c.exists("qb") == 0
    # Under the limit: a 500 KB value is fine.
    assert c.set("qb", b"w" * 500000) is True
    assert c.strlen("qb") == 500000
    c.close()
    # 3 MB of small complete commands in one send are all served.
    s = srv.connect()
    n = 40000
    data = b"".join(cmd("SET", "qs:%d" % i, "x" * 60) for i in range(n))
    assert len(data) > 3 * 1024 * 1024
    s.sendall(data)
    assert recv_all(s, 5 * n, timeout=60) == b"+OK\r\n" * n
    s.close()
    assert_healthy(srv)
