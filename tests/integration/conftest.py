"""Integration test fixtures: start the real apiary-server on loopback with
an ephemeral port and a temporary directory, hand tests a client, stop the
server at teardown and fail the test if it did not exit cleanly (a
sanitizer report makes the exit status non-zero).

Environment:
  APIARY_SERVER   path of the server binary (default: build/apiary-server)
  APIARY_REACTOR  auto | uring | epoll (default: auto)
  APIARY_SHARDS   shards per server (default: 2)
"""
import os
import re
import signal
import socket
import subprocess
import tempfile
import time

import shutil

import pytest
import redis

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVER = os.environ.get("APIARY_SERVER", os.path.join(ROOT, "build", "apiary-server"))
REACTOR = os.environ.get("APIARY_REACTOR", "auto")
SHARDS = int(os.environ.get("APIARY_SHARDS", "2"))


class Server:
    """One apiary-server process."""

    def __init__(self, *args, shards=None, reactor=None, config=None):
        self.dir = tempfile.mkdtemp(prefix="apiary-test-")
        self.log_path = os.path.join(self.dir, "server.log")
        cmd = [SERVER]
        if config is not None:
            path = os.path.join(self.dir, "apiary.conf")
            with open(path, "w") as f:
                f.write(config)
            cmd.append(path)
        cmd += ["--port", "0", "--bind", "127.0.0.1",
                "--reactor", reactor or REACTOR,
                "--shards", str(shards or SHARDS)]
        cmd += [str(a) for a in args]
        self.log = open(self.log_path, "w")
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        self.proc = subprocess.Popen(cmd, cwd=self.dir, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env)
        self.port = self._wait_ready()
        self.host = "127.0.0.1"

    def _wait_ready(self):
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited at start:\n" + self.read_log())
            m = re.search(r"ready: .* port (\d+)", self.read_log())
            if m:
                return int(m.group(1))
            time.sleep(0.02)
        self.proc.kill()
        raise RuntimeError("server did not start:\n" + self.read_log())

    def read_log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def client(self, **kw):
        kw.setdefault("socket_timeout", 30)
        return redis.Redis(host=self.host, port=self.port, **kw)

    def connect(self):
        """A raw socket to the server."""
        s = socket.create_connection((self.host, self.port), timeout=30)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def alive(self):
        return self.proc.poll() is None

    def stop(self, check=True):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                if check:
                    raise AssertionError("server did not stop on SIGTERM:\n" + self.read_log())
        self.log.close()
        if check and self.proc.returncode != 0:
            raise AssertionError("server exited with %d:\n%s"
                                 % (self.proc.returncode, self.read_log()[-20000:]))


def recv_until(sock, n_replies_text, timeout=30):
    """Reads from sock until the data ends with the expected bytes."""
    sock.settimeout(timeout)
    data = b""
    while not data.endswith(n_replies_text):
        chunk = sock.recv(1 << 16)
        if not chunk:
            break
        data += chunk
    return data


def recv_all(sock, expected_len, timeout=30):
    """Reads exactly expected_len bytes (or until EOF)."""
    sock.settimeout(timeout)
    data = b""
    while len(data) < expected_len:
        chunk = sock.recv(1 << 16)
        if not chunk:
            break
        data += chunk
    return data


@pytest.fixture
def apiary():
    """A running server object (port, client(), connect(), read_log())."""
    s = Server()
    yield s
    s.stop()


@pytest.fixture
def server(apiary):
    """A redis.Redis client of a fresh server."""
    c = apiary.client()
    yield c
    c.close()


@pytest.fixture
def make_server():
    """Factory for servers with custom arguments; all stopped at teardown."""
    made = []

    def make(*args, **kw):
        s = Server(*args, **kw)
        made.append(s)
        return s
    yield make
    for s in made:
        s.stop()


# --- helpers shared by the test files -----------------------------------------


def cmd(*args):
    """Encodes one command as a RESP multibulk."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, int):
            a = str(a)
        if isinstance(a, str):
            a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def crc16(data):
    """CRC16-CCITT (XMODEM), the Redis Cluster key hash."""
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def shard_of(key, shards=2):
    """The shard that owns key when slots are split evenly in order."""
    k = key.encode() if isinstance(key, str) else key
    s = k.find(b"{")
    if s >= 0:
        e = k.find(b"}", s + 1)
        if e > s + 1:
            k = k[s + 1:e]
    return (crc16(k) % 16384) * shards // 16384


def key_on(shard, prefix="k", shards=2):
    """A key named prefix:N owned by the given shard."""
    for i in range(10000):
        k = "%s:%d" % (prefix, i)
        if shard_of(k, shards) == shard:
            return k
    raise AssertionError("no key found for shard %d" % shard)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_ref():
    """Debian's redis-server on a free loopback port, as a reference."""
    exe = shutil.which("redis-server")
    if not exe:
        pytest.skip("redis-server is not installed")
    workdir = tempfile.mkdtemp(prefix="apiary-ref-")
    for _ in range(3):
        port = _free_port()
        proc = subprocess.Popen(
            [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", workdir, "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        c = redis.Redis(port=port, socket_timeout=10)
        for _ in range(250):
            if proc.poll() is not None:
                break
            try:
                c.ping()
                yield c
                c.close()
                proc.terminate()
                proc.wait(timeout=10)
                return
            except redis.ConnectionError:
                time.sleep(0.02)
        proc.kill()
        proc.wait()
    pytest.skip("could not start redis-server")

