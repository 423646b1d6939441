"""Real clients against the real server: redis-cli (one-shot commands,
--pipe with 1,000,000 commands, --scan), a hiredis program
(hiredis_smoke.c, compiled here with gcc) and python3-redis pipelines.
"""
import os
import shutil
import socket
import subprocess
import time

import pytest
import redis

from conftest import cmd

HERE = os.path.dirname(os.path.abspath(__file__))
REDIS_CLI = shutil.which("redis-cli")

needs_cli = pytest.mark.skipif(REDIS_CLI is None,
                               reason="redis-cli is not installed")


def cli(server, *args, stdin=None, timeout=60):
    """Runs redis-cli against server (output not a tty: raw replies);
    returns the completed process."""
    cmd = [REDIS_CLI, "-h", "127.0.0.1", "-p", str(server.port)]
    cmd += [str(a) for a in args]
    return subprocess.run(cmd, input=stdin, capture_output=True,
                          timeout=timeout)


def cli_out(server, *args, **kw):
    """redis-cli's standard output as text; asserts it exited 0."""
    p = cli(server, *args, **kw)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return p.stdout.decode()


def resp(*args):
    """Encodes one command as a RESP multibulk."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


# --- redis-cli ---------------------------------------------------------------


@needs_cli
def test_cli_one_shot_commands(apiary):
    assert cli_out(apiary, "PING") == "PONG\n"
    assert cli_out(apiary, "SET", "cli:k", "hello world") == "OK\n"
    assert cli_out(apiary, "GET", "cli:k") == "hello world\n"
    assert cli_out(apiary, "GET", "cli:none") == "\n"
    assert cli_out(apiary, "INCR", "cli:n") == "1\n"
    assert cli_out(apiary, "INCRBY", "cli:n", "41") == "42\n"
    assert cli_out(apiary, "MSET", "cli:a", "1", "cli:b", "2") == "OK\n"
    assert cli_out(apiary, "MGET", "cli:a", "cli:none", "cli:b") == \
        "1\n\n2\n"
    assert cli_out(apiary, "EXISTS", "cli:a", "cli:b", "cli:none") == "2\n"
    assert cli_out(apiary, "NOSUCHCMD", "x") == \
        "ERR unknown command 'NOSUCHCMD', with args beginning with: 'x' \n\n"
    # The human-readable form.
    assert cli_out(apiary, "--no-raw", "GET", "cli:none") == "(nil)\n"
    assert cli_out(apiary, "--no-raw", "GET", "cli:k") == \
        '"hello world"\n'
    assert cli_out(apiary, "--no-raw", "INCR", "cli:n") == \
        "(integer) 43\n"
    assert cli_out(apiary, "--no-raw", "GET") == \
        "(error) ERR wrong number of arguments for 'get' command\n"


@needs_cli
def test_cli_options(apiary):
    # -n: database; -x: last argument from stdin; -r: repeat.
    assert cli_out(apiary, "-n", "5", "SET", "cli:db", "five") == "OK\n"
    assert cli_out(apiary, "-n", "5", "GET", "cli:db") == "five\n"
    assert cli_out(apiary, "GET", "cli:db") == "\n"
    assert cli_out(apiary, "-x", "SET", "cli:stdin",
                   stdin=b"from\0stdin\n") == "OK\n"
    c = apiary.client()
    assert c.get("cli:stdin") == b"from\0stdin\n"
    c.close()
    assert cli_out(apiary, "-r", "5", "INCR", "cli:rep") == \
        "1\n2\n3\n4\n5\n"


@needs_cli
def test_cli_pipe_one_million_sets(apiary, tmp_path):
    n = 1000000
    path = tmp_path / "pipe.txt"
    with open(path, "wb") as f:
        chunk = []
        for i in range(n):
            chunk.append(resp("SET", "key:%d" % i, "val:%d" % i))
            if len(chunk) == 50000:
                f.write(b"".join(chunk))
                chunk = []
        f.write(b"".join(chunk))
    with open(path, "rb") as f:
        p = subprocess.run([REDIS_CLI, "-h", "127.0.0.1", "-p",
                            str(apiary.port), "--pipe"], stdin=f,
                           capture_output=True, timeout=120)
    out = p.stdout.decode()
    assert p.returncode == 0, out + p.stderr.decode(errors="replace")
    assert "errors: 0, replies: %d" % n in out, out
    c = apiary.client(decode_responses=True)
    assert c.dbsize() == n
    sample = [0, 1, 499999, 777777, n - 1]
    assert c.mget(["key:%d" % i for i in sample]) == \
        ["val:%d" % i for i in sample]
    c.close()


@needs_cli
def test_cli_pipe_counts_errors(apiary):
    data = b"".join(resp("SET", "pe:%d" % i, "v") for i in range(10))
    data += resp("NOSUCHCMD") + resp("GET") + resp("INCR", "pe:0")
    data += b"PING\r\n"
    p = cli(apiary, "--pipe", stdin=data)
    out = p.stdout.decode()
    assert "errors: 3, replies: 14" in out, out


@needs_cli
def test_cli_scan_pattern(apiary):
    c = apiary.client(decode_responses=True)
    p = c.pipeline(transaction=False)
    for i in range(10000):
        p.set("k:%d" % i, "v")
    p.mset({"other:%d" % i: "v" for i in range(100)})
    p.execute()
    want = {"k:%d" % i for i in range(10000) if str(i).startswith("1")}
    assert len(want) == 1111
    lines = cli_out(apiary, "--scan", "--pattern", "k:1*").splitlines()
    assert set(lines) == want
    # SCAN may repeat a key, never invent one.
    assert len(lines) >= len(want)
    lines = cli_out(apiary, "--scan", "--pattern", "other:*").splitlines()
    assert set(lines) == {"other:%d" % i for i in range(100)}
    lines = cli_out(apiary, "--scan").splitlines()
    assert len(set(lines)) == 10100
    c.close()


# --- hiredis -----------------------------------------------------------------


@pytest.fixture(scope="module")
def hiredis_smoke(tmp_path_factory):
    """hiredis_smoke.c compiled with gcc against the system hiredis."""
    if not shutil.which("gcc") or not shutil.which("pkg-config"):
        pytest.skip("gcc or pkg-config is not installed")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "hiredis"],
                           capture_output=True, text=True)
    if flags.returncode != 0:
        pytest.skip("hiredis development files are not installed")
    exe = str(tmp_path_factory.mktemp("hiredis") / "hiredis_smoke")
    p = subprocess.run(["gcc", "-std=gnu17", "-Wall", "-Wextra", "-Werror",
                        "-O1", "-o", exe,
                        os.path.join(HERE, "hiredis_smoke.c")] +
                       flags.stdout.split(), capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    return exe


def test_hiredis_smoke(apiary, hiredis_smoke):
    p = subprocess.run([hiredis_smoke, "127.0.0.1", str(apiary.port)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout == "hiredis_smoke: OK\n"
    c = apiary.client(decode_responses=True)
    assert c.get("hs:p:ctr") == "2500"
    assert c.get("hs:p:2499") == "v2499!"
    assert c.get("hs:ctr") == "41"
    c.close()


def test_hiredis_smoke_reports_failure(hiredis_smoke, tmp_path):
    """The smoke program itself fails when no server answers."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        p = subprocess.run([hiredis_smoke, "127.0.0.1", str(port)],
                           capture_output=True, text=True, timeout=60)
    assert p.returncode == 1
    assert "connect" in p.stderr


# --- python3-redis -----------------------------------------------------------


def test_python_pipeline_10k(apiary):
    c = apiary.client(decode_responses=True)
    p = c.pipeline(transaction=False)
    want = []
    for i in range(2500):
        key = "py:%d" % i
        p.set(key, "v%d" % i)
        want.append(True)
        p.get(key)
        want.append("v%d" % i)
        p.incr("py:ctr:%d" % (i % 10))
        want.append(i // 10 + 1)
        p.exists(key, "py:none")
        want.append(1)
    got = p.execute()
    assert len(got) == 10000
    assert got == want
    c.close()


def test_python_pipeline_with_errors_in_the_middle(apiary):
    c = apiary.client(decode_responses=True)
    c.set("pyerr:word", "abc")
    p = c.pipeline(transaction=False)
    for i in range(3000):
        if i % 1000 == 500:
            p.incr("pyerr:word")
        else:
            p.incr("pyerr:n")
    got = p.execute(raise_on_error=False)
    assert len(got) == 3000
    n = 0
    for i, v in enumerate(got):
        if i % 1000 == 500:
            assert isinstance(v, redis.ResponseError)
            assert str(v) == "value is not an integer or out of range"
        else:
            n += 1
            assert v == n
    assert c.get("pyerr:n") == "2997"
    c.close()


def test_python_many_connections(apiary):
    """Connections are spread over the shards; each sees every key."""
    clients = [apiary.client(decode_responses=True) for _ in range(16)]
    for i, c in enumerate(clients):
        c.set("conn:%d" % i, str(i))
    names = ["conn:%d" % i for i in range(16)]
    for c in clients:
        assert c.mget(names) == [str(i) for i in range(16)]
    for c in clients:
        c.close()


def test_receive_backpressure_instead_of_disconnect(make_server):
    """A client that keeps sending while its connection waits (here: a
    BLPOP) is no longer read once 4 MB wait unprocessed; the kernel's
    window slows it down instead of the query buffer limit closing it."""
    import threading
    srv = make_server("--client-query-buffer-limit", "2mb")
    other = srv.client()
    s = socket.create_connection(("127.0.0.1", srv.port))
    n = 150000  # about 30 MB of SETs, far over 4 x 2 MB
    val = b"x" * 180
    one = b"*3\r\n$3\r\nSET\r\n$3\r\nbpk\r\n$180\r\n" + val + b"\r\n"
    done = threading.Event()

    def sender():
        s.sendall(cmd("BLPOP", "bplist", "0"))
        chunk = one * 1000
        for _ in range(n // 1000):
            s.sendall(chunk)
        done.set()
    t = threading.Thread(target=sender)
    t.start()
    time.sleep(1.0)
    assert not done.is_set()  # the server stopped reading: sender blocks
    other.rpush("bplist", "go")
    want = len(b"*2\r\n$6\r\nbplist\r\n$2\r\ngo\r\n") + n * len(b"+OK\r\n")
    got = 0
    s.settimeout(30)
    while got < want:
        chunk = s.recv(1 << 20)
        assert chunk, "connection closed after %d of %d bytes" % (got, want)
        got += len(chunk)
    t.join(30)
    assert done.is_set() and got == want
    s.close()
