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
