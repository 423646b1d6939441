"""apiary-bench against real servers and a fake cluster.

- Cluster mode (--cluster-mode) against a fake Redis Cluster written here:
  nodes on loopback ports that answer CLUSTER SLOTS, MOVED, ASK and ASKING
  as Redis does, count what they executed and which redirects they sent.
  The bench must follow every redirect (no errors), count exactly the
  redirects the nodes sent, learn a node it only heard of in a MOVED, and
  give up (an error) on a request bounced AP_BENCH_REDIRECTS_MAX times.
- Cluster mode against a real Redis Cluster (three redis-server processes
  and redis-cli --cluster create), including a slot migration during the
  run (ASK while migrating, MOVED once it is done); skipped with the reason
  if the cluster cannot be set up here.
- --protocol memcache_text and memcache_binary against Debian's memcached.
- The epoll back end, forced (--io epoll) and as the fallback of --io auto
  when io_uring_setup is refused (a seccomp filter in a small launcher).

Environment: APIARY_BENCH (default: the apiary-bench next to
$APIARY_SERVER, else build/bench/apiary-bench).
"""
import json
import os
import random
import shutil
import socket
import socketserver
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import ROOT, SERVER, crc16

BENCH = os.environ.get("APIARY_BENCH") or next(
    (p for p in (os.path.join(os.path.dirname(SERVER), "bench", "apiary-bench"),
                 os.path.join(ROOT, "build", "bench", "apiary-bench"))
     if os.path.exists(p)), os.path.join(ROOT, "build", "bench", "apiary-bench"))

pytestmark = pytest.mark.skipif(not os.path.exists(BENCH),
                                reason="apiary-bench not built at %s" % BENCH)

SLOTS = 16384
REDIRECTS_MAX = 5  # AP_BENCH_REDIRECTS_MAX in core/limits.h


def key_slot(key):
    k = key.encode() if isinstance(key, str) else key
    s = k.find(b"{")
    if s >= 0:
        e = k.find(b"}", s + 1)
        if e > s + 1:
            k = k[s + 1:e]
    return crc16(k) % SLOTS


def run_bench(*args, timeout=120, env=None, launcher=None):
    """Runs apiary-bench with a JSON output; returns (proc, result)."""
    out = tempfile.NamedTemporaryFile(prefix="bench-", suffix=".json", delete=False)
    out.close()
    cmd = ([launcher] if launcher else []) + [BENCH, "-q", "--json-out-file", out.name]
    cmd += [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    res = None
    if p.returncode == 0:
        with open(out.name) as f:
            res = json.load(f)
    os.unlink(out.name)
    return p, res


# --- a fake Redis Cluster ------------------------------------------------------


def resp_error(text):
    return b"-" + text.encode() + b"\r\n"


def resp_bulk(b):
    if b is None:
        return b"$-1\r\n"
    return b"$%d\r\n%s\r\n" % (len(b), b)


def resp_slots(ranges):
    """CLUSTER SLOTS for [(start, end, host, port), ...], Redis 7 style."""
    out = [b"*%d\r\n" % len(ranges)]
    for lo, hi, host, port in ranges:
        out.append(b"*3\r\n:%d\r\n:%d\r\n*4\r\n%s:%d\r\n%s*0\r\n"
                   % (lo, hi, resp_bulk(host.encode()), port,
                      resp_bulk(b"%040x" % port)))
    return b"".join(out)


class FakeCluster:
    """Nodes named by index. owner(slot) is the node that has the slot;
    migrating maps slot -> (source, target): the source answers ASK target,
    the target serves it only right after ASKING (else MOVED source).
    bounce: slots every node answers with MOVED to the other one."""

    def __init__(self, nodes, owner, slots_reply_ranges, migrating=None, bounce=()):
        self.lock = threading.Lock()
        self.owner = owner
        self.migrating = migrating or {}
        self.bounce = set(bounce)
        self.data = {}
        self.servers = []
        self.stats = []
        for _ in range(nodes):
            srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), self._handler())
            srv.daemon_threads = True
            srv.node = len(self.servers)
            self.servers.append(srv)
            self.stats.append({"executed": 0, "moved": 0, "ask": 0, "asking": 0,
                               "slots": {}})
        self.ports = [s.server_address[1] for s in self.servers]
        self.slots_reply = resp_slots(
            [(lo, hi, "127.0.0.1", self.ports[n]) for lo, hi, n in slots_reply_ranges])
        for s in self.servers:
            threading.Thread(target=s.serve_forever, daemon=True).start()

    def close(self):
        for s in self.servers:
            s.shutdown()
            s.server_close()

    def addr(self, node):
        return "127.0.0.1:%d" % self.ports[node]

    def execute(self, node, args, asking):
        name = args[0].upper()
        st = self.stats[node]
        if name == b"CLUSTER" and len(args) == 2 and args[1].upper() == b"SLOTS":
            return self.slots_reply
        if name == b"INFO":
            return resp_bulk(b"# Server\r\nredis_version:7.0.99\r\n")
        if name == b"PING":
            return b"+PONG\r\n"
        if name == b"ASKING":
            with self.lock:
                st["asking"] += 1
            return b"+OK\r\n"
        if name not in (b"SET", b"GET") or len(args) < 2:
            return resp_error("ERR unknown command")
        slot = key_slot(args[1])
        with self.lock:
            if slot in self.bounce:
                st["moved"] += 1
                return resp_error("MOVED %d %s" % (slot, self.addr(1 - node)))
            mig = self.migrating.get(slot)
            if mig and node == mig[0]:
                st["ask"] += 1
                return resp_error("ASK %d %s" % (slot, self.addr(mig[1])))
            if mig and node == mig[1] and asking:
                pass
            elif self.owner(slot) != node:
                st["moved"] += 1
                return resp_error("MOVED %d %s" % (slot, self.addr(self.owner(slot))))
            st["executed"] += 1
            st["slots"][slot] = st["slots"].get(slot, 0) + 1
            if name == b"SET":
                self.data[args[1]] = args[2]
                return b"+OK\r\n"
            return resp_bulk(self.data.get(args[1]))

    def _handler(self):
        cluster = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                buf = b""
                asking = False
                node = self.server.node
                while True:
                    try:
                        chunk = self.request.recv(65536)
                    except OSError:
                        return
                    if not chunk:
                        return
                    buf += chunk
                    out = []
                    while True:
                        parsed = parse_command(buf)
                        if parsed is None:
                            break
                        args, buf = parsed
                        out.append(cluster.execute(node, args, asking))
                        asking = args[0].upper() == b"ASKING"
                    if out:
                        self.request.sendall(b"".join(out))
        return Handler


def parse_command(buf):
    """One RESP array of bulk strings from buf: (args, rest) or None."""
    if not buf.startswith(b"*"):
        if buf:
            raise ValueError("inline commands not supported: %r" % buf[:20])
        return None
    nl = buf.find(b"\r\n")
    if nl < 0:
        return None
    n = int(buf[1:nl])
    pos = nl + 2
    args = []
    for _ in range(n):
        nl = buf.find(b"\r\n", pos)
        if nl < 0:
            return None
        blen = int(buf[pos + 1:nl])
        start = nl + 2
        if len(buf) < start + blen + 2:
            return None
        args.append(buf[start:start + blen])
        pos = start + blen + 2
    return args, buf[pos:]


def totals(cluster, field):
    return sum(s[field] for s in cluster.stats)


@pytest.mark.parametrize("io", ["uring", "epoll"])
def test_fake_cluster_follows_moved_and_ask(io):
    # Truth: node 0 has 0-8191 except 4000-4999 (node 1); node 1 has
    # 8192-12999; node 2 (not in CLUSTER SLOTS) has 13000-16383. Slots
    # 2000-2999 are migrating from node 0 to node 1.
    def owner(slot):
        if 4000 <= slot < 5000:
            return 1
        if slot < 8192:
            return 0
        return 1 if slot < 13000 else 2
    migrating = {s: (0, 1) for s in range(2000, 3000)}
    fc = FakeCluster(3, owner, [(0, 8191, 0), (8192, 16383, 1)], migrating)
    try:
        p, res = run_bench("-p", fc.ports[0], "--cluster-mode", "--io", io,
                           "-t", 1, "-c", 4, "--pipeline", 4, "-n", 600,
                           "--ratio", "1:1", "--key-maximum", 3000)
        assert p.returncode == 0, p.stderr + p.stdout
        run = res["run"]
        requests = 4 * 600
        assert run["requests"] == requests
        assert run["errors"] == 0, p.stdout
        assert run["unanswered"] == 0
        # every request executed exactly once, on the node that has it
        assert totals(fc, "executed") == requests
        for node, st in enumerate(fc.stats):
            for slot in st["slots"]:
                assert owner(slot) == node or migrating.get(slot, (0, -1))[1] == node
        # the counts are the redirects the nodes sent
        assert run["moved"] == totals(fc, "moved") > 0
        assert run["ask"] == totals(fc, "ask") > 0
        assert fc.stats[1]["asking"] == run["ask"]
        # the node only named in MOVED replies was found and used
        assert fc.stats[2]["executed"] > 0
        assert res["config"]["cluster_nodes"] == 3
        assert "Cluster: 3 nodes" in p.stdout
        # MOVED remaps the slot: at most one MOVED per slot and request in
        # flight when it was learnt (4 clients x pipeline 4), not one per
        # request
        moved_slots = {key_slot("memtier-%d" % k) for k in range(3001)}
        moved_slots = {s for s in moved_slots if owner(s) != (0 if s < 8192 else 1)}
        assert run["moved"] <= 16 * len(moved_slots)
        # ASK does not remap: every request for a migrating slot was asked,
        # then executed on the target
        asked = sum(n for s, n in fc.stats[1]["slots"].items() if s in migrating)
        assert run["ask"] == asked
        assert not any(s in migrating for s in fc.stats[0]["slots"])
    finally:
        fc.close()


def test_fake_cluster_gives_up_on_bouncing():
    # slots of the keys memtier-0..memtier-9 bounce between the two nodes
    bounce = {key_slot("memtier-%d" % k) for k in range(10)}
    fc = FakeCluster(2, lambda s: 0 if s < 8192 else 1,
                     [(0, 8191, 0), (8192, 16383, 1)], bounce=bounce)
    try:
        p, res = run_bench("-p", fc.ports[0], "--cluster-mode", "-t", 1, "-c", 2,
                           "--pipeline", 2, "-n", 50, "--ratio", "1:0",
                           "--key-maximum", 9)
        assert p.returncode == 0, p.stderr
        run = res["run"]
        assert run["requests"] == 100
        assert run["errors"] == 100
        # each request: REDIRECTS_MAX followed, the last one counted as error
        assert run["moved"] == 100 * (REDIRECTS_MAX + 1) == totals(fc, "moved")
        assert totals(fc, "executed") == 0
    finally:
        fc.close()


def test_cluster_mode_refuses_a_non_cluster(redis_ref):
    port = redis_ref.connection_pool.connection_kwargs["port"]
    p, _ = run_bench("-p", port, "--cluster-mode", "-n", 10)
    assert p.returncode == 1
    assert "cluster support disabled" in p.stderr


def test_cluster_slots_without_slots():
    fc = FakeCluster(1, lambda s: 0, [])
    try:
        p, _ = run_bench("-p", fc.ports[0], "--cluster-mode", "-n", 10)
        assert p.returncode == 1
        assert "lists no slot" in p.stderr
    finally:
        fc.close()


# --- a real Redis Cluster ------------------------------------------------------


def _port_pair_free(port):
    for p in (port, port + 10000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                return False
    return True


@pytest.fixture(scope="module")
def redis_cluster():
    exe, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if not exe or not cli:
        pytest.skip("redis-server and redis-cli are needed for a real cluster")
    ports = []
    rnd = random.Random(os.getpid())
    while len(ports) < 3:
        p = rnd.randrange(20000, 29000)
        if p not in ports and _port_pair_free(p):
            ports.append(p)
    procs = []
    workdir = tempfile.mkdtemp(prefix="apiary-cluster-")
    try:
        for p in ports:
            d = os.path.join(workdir, str(p))
            os.mkdir(d)
            procs.append(subprocess.Popen(
                [exe, "--port", str(p), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                 "--cluster-config-file", "nodes.conf", "--save", "", "--appendonly", "no",
                 "--dir", d, "--daemonize", "no"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for p in ports:
            for _ in range(250):
                r = subprocess.run([cli, "-p", str(p), "ping"], capture_output=True, text=True)
                if r.stdout.strip() == "PONG":
                    break
                time.sleep(0.02)
        r = subprocess.run([cli, "--cluster", "create"] + ["127.0.0.1:%d" % p for p in ports]
                           + ["--cluster-replicas", "0", "--cluster-yes"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            pytest.skip("redis-cli --cluster create failed here: " + r.stdout[-500:] + r.stderr[-500:])
        deadline = time.time() + 30
        while time.time() < deadline:
            states = [subprocess.run([cli, "-p", str(p), "cluster", "info"],
                                     capture_output=True, text=True).stdout for p in ports]
            if all("cluster_state:ok" in s for s in states):
                break
            time.sleep(0.1)
        else:
            pytest.skip("the Redis cluster did not reach cluster_state:ok")
        yield ports
    finally:
        for pr in procs:
            pr.terminate()
        for pr in procs:
            try:
                pr.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pr.kill()
        shutil.rmtree(workdir, ignore_errors=True)


def rcli(port, *args):
    r = subprocess.run(["redis-cli", "-p", str(port)] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=30)
    return r.stdout.strip()


def commandstats_calls(port, cmd):
    for line in rcli(port, "info", "commandstats").splitlines():
        if line.startswith("cmdstat_%s:" % cmd):
            return int(line.split("calls=")[1].split(",")[0])
    return 0


def test_real_cluster(redis_cluster):
    ports = redis_cluster
    before = [commandstats_calls(p, "set") for p in ports]
    p, res = run_bench("-p", ports[0], "--cluster-mode", "-t", 2, "-c", 4, "--pipeline", 8,
                       "--prefill", "--key-maximum", 9999, "-n", 500, "--ratio", "1:1")
    assert p.returncode == 0, p.stderr
    run = res["run"]
    assert run["errors"] == 0 and run["unanswered"] == 0
    assert run["moved"] == 0 and run["ask"] == 0
    assert run["misses"] == 0  # prefilled on every node
    assert res["config"]["cluster_nodes"] == 3
    after = [commandstats_calls(p, "set") for p in ports]
    # prefill (10000 keys) + 2000 SETs, spread over the three nodes
    assert sum(after) - sum(before) == 10000 + 2000
    assert all(a - b > 1000 for a, b in zip(after, before))
    assert sum(int(rcli(p, "dbsize")) for p in ports) == 10000
    # RESP3 (HELLO 3 on every connection) and epoll route the same way
    p, res = run_bench("-p", ports[1], "--cluster-mode", "-P", "resp3", "--io", "epoll",
                       "-c", 3, "--pipeline", 4, "--key-maximum", 9999, "-n", 300)
    assert p.returncode == 0, p.stderr
    assert res["run"]["errors"] == 0 and res["run"]["misses"] == 0
    assert res["run"]["moved"] == 0 and res["run"]["requests"] == 900


def slot_owner(ports, key):
    """The port of the node serving key (a MOVED names it, else ports[0])."""
    out = rcli(ports[0], "get", key)
    if "MOVED" in out:
        return int(out.rsplit(":", 1)[1])
    return ports[0]


def test_real_cluster_migration(redis_cluster):
    """Every key in one slot ({m} hashtag); the slot migrates while the
    bench runs: ASK while migrating, MOVED once the slot is handed over."""
    ports = redis_cluster
    slot = key_slot("{m}")
    ids = {p: rcli(p, "cluster", "myid") for p in ports}
    src = slot_owner(ports, "{m}")
    dst = next(p for p in ports if p != src)
    assert rcli(dst, "cluster", "setslot", slot, "importing", ids[src]) == "OK"
    assert rcli(src, "cluster", "setslot", slot, "migrating", ids[dst]) == "OK"
    # GETs of keys the source does not have: all ASKed to the target
    p, res = run_bench("-p", ports[0], "--cluster-mode", "-c", 2, "--pipeline", 4,
                       "-n", 200, "--ratio", "0:1", "--key-prefix", "{m}",
                       "--key-maximum", 99)
    assert p.returncode == 0, p.stderr
    assert res["run"]["errors"] == 0
    assert res["run"]["ask"] == 400
    assert res["run"]["moved"] == 0
    # hand the slot over while a timed run goes on
    out = tempfile.NamedTemporaryFile(prefix="bench-", suffix=".json", delete=False)
    out.close()
    proc = subprocess.Popen([BENCH, "-q", "-p", str(src), "--cluster-mode", "-c", "2",
                             "--pipeline", "4", "--test-time", "3", "--ratio", "1:1",
                             "--key-prefix", "{m}", "--key-maximum", "99",
                             "--json-out-file", out.name],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1)
    for q in ports:
        assert rcli(q, "cluster", "setslot", slot, "node", ids[dst]) == "OK"
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    with open(out.name) as f:
        res = json.load(f)
    os.unlink(out.name)
    assert res["run"]["errors"] == 0, err
    assert res["run"]["moved"] >= 1
    assert res["run"]["ops"] > 0
    assert slot_owner(ports, "{m}") == dst


# --- memcached -----------------------------------------------------------------


@pytest.fixture(scope="module")
def memcached():
    exe = shutil.which("memcached")
    if not exe:
        pytest.skip("memcached is not installed (apt-get install memcached)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [exe, "-p", str(port), "-l", "127.0.0.1", "-U", "0", "-t", "1", "-m", "256"]
    if os.geteuid() == 0:
        cmd += ["-u", "root"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(250):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.02)
    yield port
    proc.terminate()
    proc.wait(timeout=10)


def mc_get(port, key):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"get %s\r\n" % key.encode())
        data = b""
        while not data.endswith(b"END\r\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


@pytest.mark.parametrize("proto", ["memcache_text", "memcache_binary"])
@pytest.mark.parametrize("io", ["uring", "epoll"])
def test_memcached(memcached, proto, io):
    prefix = "%s-%s-" % (proto, io)
    p, res = run_bench("-p", memcached, "-P", proto, "--io", io, "-c", 4, "--pipeline", 8,
                       "-n", 2000, "--prefill", "--key-prefix", prefix,
                       "--key-maximum", 999, "--data-size-range", "0-3000",
                       "--expiry-range", "100-200")
    assert p.returncode == 0, p.stderr
    run = res["run"]
    assert run["requests"] == 8000
    assert run["errors"] == 0 and run["unanswered"] == 0
    assert run["misses"] == 0  # prefilled
    assert res["config"]["protocol"] == proto
    assert res["server"]["version"].startswith("memcached ")
    assert ("epoll" in res["io"]) == (io == "epoll")
    # the values the bench stored are there, with the sizes it drew
    got = mc_get(memcached, prefix + "7")
    assert got.startswith(b"VALUE %s7 0 " % prefix.encode())
    size = int(got.split(b"\r\n")[0].split()[3])
    assert 0 <= size <= 3000
    # GET misses are counted as misses, not errors
    p, res = run_bench("-p", memcached, "-P", proto, "-c", 2, "-n", 100, "--ratio", "0:1",
                       "--key-prefix", "never-set-" + prefix)
    assert p.returncode == 0, p.stderr
    assert res["run"]["misses"] == 200 and res["run"]["errors"] == 0


def test_memcached_text_errors(memcached):
    # a value above memcached's item size limit is refused with SERVER_ERROR
    p, res = run_bench("-p", memcached, "-P", "memcache_text", "-c", 1, "-n", 3,
                       "--ratio", "1:0", "-d", 2 * 1024 * 1024)
    assert p.returncode == 0, p.stderr
    assert res["run"]["errors"] == 3
    # the connection stays usable after the refusals (memcached swallows
    # the value): a mixed run still has no errors
    p, res = run_bench("-p", memcached, "-P", "memcache_text", "-c", 1, "-n", 100,
                       "--ratio", "1:1", "-d", 1000)
    assert p.returncode == 0 and res["run"]["errors"] == 0


# --- the epoll back end ----------------------------------------------------------

SECCOMP_LAUNCHER = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Runs argv[1..] with io_uring_setup failing with EPERM. */
int main(int argc, char **argv)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};

	if (argc < 2 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
		perror("seccomp");
		return 126;
	}
	execv(argv[1], argv + 1);
	perror("execv");
	return 127;
}
"""


@pytest.fixture(scope="module")
def no_uring_launcher():
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler for the seccomp launcher")
    d = tempfile.mkdtemp(prefix="apiary-seccomp-")
    src, exe = os.path.join(d, "l.c"), os.path.join(d, "no-uring")
    with open(src, "w") as f:
        f.write(SECCOMP_LAUNCHER)
    subprocess.run([cc, "-O1", "-o", exe, src], check=True)
    yield exe
    shutil.rmtree(d, ignore_errors=True)


def test_epoll_forced(redis_ref):
    port = redis_ref.connection_pool.connection_kwargs["port"]
    p, res = run_bench("-p", port, "--io", "epoll", "-c", 8, "--pipeline", 16, "-n", 2000,
                       "--prefill", "--key-maximum", 5000, "--data-size-range", "1-20000")
    assert p.returncode == 0, p.stderr
    assert res["io"] == "epoll, edge-triggered (--io epoll)"
    assert res["config"]["io"] == "epoll"
    assert res["run"]["requests"] == 16000
    assert res["run"]["errors"] == 0 and res["run"]["misses"] == 0
    assert "I/O: epoll" in p.stdout


def test_epoll_fallback(redis_ref, no_uring_launcher):
    port = redis_ref.connection_pool.connection_kwargs["port"]
    # with io_uring refused, auto falls back to epoll and says why
    p, res = run_bench("-p", port, "-c", 4, "-n", 500, launcher=no_uring_launcher)
    assert p.returncode == 0, p.stderr
    assert res["io"].startswith("epoll, edge-triggered (io_uring unavailable: "
                                "io_uring_queue_init failed: Operation not permitted")
    assert res["run"]["requests"] == 2000 and res["run"]["errors"] == 0
    # --io uring insists, and fails with the likely cause
    p, _ = run_bench("-p", port, "--io", "uring", "-c", 1, "-n", 10,
                     launcher=no_uring_launcher)
    assert p.returncode == 1
    assert "io_uring_queue_init failed" in p.stderr
    assert "io_uring_disabled" in p.stderr
    # and without the filter, auto is io_uring
    p, res = run_bench("-p", port, "-c", 1, "-n", 10)
    assert p.returncode == 0 and res["io"].startswith("io_uring")


def test_open_loop_epoll(redis_ref):
    port = redis_ref.connection_pool.connection_kwargs["port"]
    p, res = run_bench("-p", port, "--io", "epoll", "-c", 4, "--rate", 2000,
                       "--test-time", 1, "--key-maximum", 100)
    assert p.returncode == 0, p.stderr
    ops = res["run"]["ops_per_sec"]
    assert 1500 < ops < 2500
    assert res["run"]["errors"] == 0
