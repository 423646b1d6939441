#!/usr/bin/python3
"""Snapshot and restart benchmark: Apiary against Redis on the same data.

For each server configuration, one at a time (never two loaded servers at
once), the script:

1. starts the server with nothing saved on its own (`save ""`,
   `appendonly no`) in a fresh directory, and loads N string keys of
   --value-size bytes (about --gb gigabytes of values) with pipelined SETs;
2. runs the snapshot test --runs times: a writer process (open loop, one
   connection, SET of random existing keys at --writer-rate requests/s)
   records every request's latency from its intended send time; after
   --baseline-secs the script sends BGSAVE and polls INFO persistence until
   the save is done, sampling memory meanwhile; the writer's latencies are
   split into "baseline" (before BGSAVE) and "during" (BGSAVE to done);
3. runs the restart test --restart-runs times: SHUTDOWN NOSAVE, start the
   server again on the saved files, and time until PING answers PONG and
   DBSIZE is the number of keys loaded (Redis answers -LOADING meanwhile,
   Apiary loads before it accepts connections);
4. stops the server and deletes its directory.

Memory during a snapshot: the peak over samples (every --sample-ms) of the
server's resident set plus, for a forking server, the pages its children
map privately (Private_Clean + Private_Dirty of /proc/CHILD/smaps_rollup):
after fork a page is shared until one side writes it, then the writer
gets a copy and the old page stays mapped by the child alone, so the
child's private pages are exactly the copy-on-write cost plus the child's
own buffers. Pages still shared are counted once, in the parent's RSS.
The parent's VmHWM (reset through /proc/PID/clear_refs before BGSAVE) is
reported too, as a check that sampling did not miss the parent's peak.

Only Python's standard library and redis-py are used. Run with
/usr/bin/python3 (Debian's python3-redis). See bench/README.md.
"""

import argparse
import array
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

import redis

PAGE = os.sysconf("SC_PAGE_SIZE")
KEY_FMT = "k:%010d"


# ---------------------------------------------------------------- values


def value_buffer(kind, size, seed):
    """Return `size` bytes to slice values from: random bytes (kind
    "random", incompressible) or random words from a 2000-word vocabulary
    (kind "text", compresses 2-3x with LZ-style compressors)."""
    rng = random.Random(seed)
    if kind == "random":
        return rng.randbytes(size)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = [
        "".join(rng.choice(letters) for _ in range(rng.randint(2, 10))).encode()
        for _ in range(2000)
    ]
    out = bytearray()
    while len(out) < size:
        out += b" ".join(rng.choices(vocab, k=4096)) + b" "
    return bytes(out[:size])


def set_command(key, val):
    """Return the RESP encoding of SET key val (both bytes-like)."""
    return b"".join(
        (
            b"*3\r\n$3\r\nSET\r\n$%d\r\n" % len(key),
            key,
            b"\r\n$%d\r\n" % len(val),
            val,
            b"\r\n",
        )
    )


def recv_oks(sock, count, pending=b""):
    """Read `count` "+OK" replies from sock; raise on anything else.
    Returns the bytes read past the last reply."""
    want = 5 * count
    buf = bytearray(pending)
    while len(buf) < want:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise RuntimeError("server closed the connection while loading")
        buf += chunk
        if b"-" in chunk:
            raise RuntimeError("server error while loading: %r" % bytes(buf[:200]))
    body = bytes(buf[:want])
    if body != b"+OK\r\n" * count:
        raise RuntimeError("unexpected reply while loading: %r" % body[:200])
    return bytes(buf[want:])


def load_data(port, nkeys, value_size, kind, batch=1000):
    """SET keys 0..nkeys-1 with value_size-byte values, `batch` SETs per
    write, one batch in flight while the next is built."""
    buf = value_buffer(kind, 64 << 20, 1)
    mv = memoryview(buf)
    span = len(buf) - value_size
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    vhdr = b"\r\n$%d\r\n" % value_size
    khdr = b"*3\r\n$3\r\nSET\r\n$%d\r\n" % len(KEY_FMT % 0)
    in_flight = 0
    rest = b""
    for start in range(0, nkeys, batch):
        end = min(nkeys, start + batch)
        parts = []
        for i in range(start, end):
            off = (i * 40503 * 64) % span
            parts += (khdr, (KEY_FMT % i).encode(), vhdr, mv[off : off + value_size], b"\r\n")
        sock.sendall(b"".join(parts))
        if in_flight:
            rest = recv_oks(sock, in_flight, rest)
        in_flight = end - start
    if in_flight:
        recv_oks(sock, in_flight, rest)
    sock.close()


# ---------------------------------------------------------------- writer


def writer_main(args):
    """The writer process: open-loop SETs of random keys of [0, nkeys) at
    args.rate per second on one connection until SIGTERM (then on until
    every request due before the signal is answered, at most 600 s), then write
    (intended send time ns, latency from intended time ns, latency from
    actual send ns, error flag, writer lag ns) per request to args.out as
    int64s. The writer lag is how late the writer itself sent a request
    (after both its due time and the previous reply): if it is large, the
    writer was starved of CPU and its latencies are not the server's."""
    stop_at = []
    signal.signal(signal.SIGTERM, lambda *_: stop_at.append(time.monotonic_ns()))
    rng = random.Random(args.seed)
    buf = value_buffer(args.kind, 16 << 20, args.seed)
    mv = memoryview(buf)
    span = len(buf) - args.value_size
    sock = socket.create_connection(("127.0.0.1", args.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    rec = array.array("q")
    interval = int(1e9 / args.rate)
    clock = time.monotonic_ns
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    due = clock()
    done = due
    while not stop_at or (due < stop_at[0] and clock() < stop_at[0] + 600_000_000_000):
        key = (KEY_FMT % rng.randrange(args.nkeys)).encode()
        off = rng.randrange(span)
        cmd = set_command(key, mv[off : off + args.value_size])
        now = clock()
        if due - now > 2_000_000:
            time.sleep((due - now - 1_000_000) / 1e9)
        while clock() < due:
            pass
        sent = clock()
        prev_done = done
        sock.sendall(cmd)
        reply = b""
        while not reply.endswith(b"\r\n"):
            chunk = sock.recv(4096)
            if not chunk:
                raise SystemExit("writer: connection closed")
            reply += chunk
        done = clock()
        lag = sent - max(due, prev_done)
        rec.extend((due, done - due, done - sent, 0 if reply == b"+OK\r\n" else 1, lag))
        due += interval
    with open(args.out, "wb") as f:
        rec.tofile(f)


def writer_start(port, nkeys, value_size, rate, kind, cpu, out, seed):
    """Start the writer process (pinned to `cpu` unless None) and wait
    until it is connected."""
    cmd = [
        sys.executable, os.path.abspath(__file__), "--writer",
        "--port", str(port), "--nkeys", str(nkeys),
        "--value-size", str(value_size), "--rate", str(rate),
        "--kind", kind, "--out", out, "--seed", str(seed),
    ]
    if cpu is not None:
        cmd = ["taskset", "-c", str(cpu)] + cmd
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    if p.stdout.readline().strip() != "ready":
        raise RuntimeError("writer did not start")
    return p


def writer_stop(p, out):
    """Stop the writer and return its records as a list of tuples
    (intended ns, latency ns, service ns, error, writer lag ns)."""
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=700)
    rec = array.array("q")
    with open(out, "rb") as f:
        rec.frombytes(f.read())
    os.unlink(out)
    return [tuple(rec[i : i + 5]) for i in range(0, len(rec), 5)]


def lat_stats(recs, lo, hi, field=1):
    """Latency summary (ms) of the records in [lo, hi): count, p50, p99,
    p99.9, max, errors, the writer's own worst lag. field 1 (latency
    from the intended time) selects records by intended time; field 2
    (service time: from the actual send to the reply) by actual send
    time, so it describes the requests the server handled in the window
    (what a closed-loop client would see)."""
    if field == 1:
        sel = [r for r in recs if lo <= r[0] < hi]
    else:
        sel = [r for r in recs if lo <= r[0] + r[1] - r[2] < hi]
    if not sel:
        return {"n": 0}
    lat = sorted(r[field] for r in sel)

    def pct(q):
        return lat[min(len(lat) - 1, int(q * len(lat)))] / 1e6

    return {
        "n": len(lat),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "p999_ms": pct(0.999),
        "max_ms": lat[-1] / 1e6,
        "mean_ms": sum(lat) / len(lat) / 1e6,
        "errors": sum(r[3] for r in sel),
        "writer_lag_max_ms": max(r[4] for r in sel) / 1e6,
    }


def dump_latencies(d, srv, run, recs, t0, t1):
    """Write one run's requests as CSV: intended time relative to BGSAVE
    (ms), latency from intended time, service time, writer lag (ms)."""
    os.makedirs(d, exist_ok=True)
    name = "%s-run%d.csv" % (srv.label().replace(" ", "_").replace(",", ""), run)
    with open(os.path.join(d, name), "w") as f:
        f.write("# bgsave at 0, done at %.3f ms\n" % ((t1 - t0) / 1e6))
        f.write("t_ms,latency_ms,service_ms,lag_ms,error\n")
        for due, lat, svc, err, lag in recs:
            f.write("%.3f,%.3f,%.3f,%.3f,%d\n" % ((due - t0) / 1e6, lat / 1e6, svc / 1e6, lag / 1e6, err))


# ---------------------------------------------------------------- /proc


def rss_bytes(pid):
    """Resident set of pid from /proc/PID/statm (cheap: counters only)."""
    with open("/proc/%d/statm" % pid) as f:
        return int(f.read().split()[1]) * PAGE


def status_field(pid, name):
    """A "kB" field of /proc/PID/status, in bytes."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1]) * 1024
    return 0


def cpu_secs(pid):
    """CPU time of pid and its reaped children (utime + stime + cutime +
    cstime of /proc/PID/stat), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def children_of(pid):
    """The child processes of pid (all its threads' children)."""
    kids = []
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                kids += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return kids


def private_bytes(pid):
    """Pages mapped by pid alone (Private_Clean + Private_Dirty of
    smaps_rollup), in bytes; 0 if the process is gone."""
    total = 0
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith(("Private_Clean:", "Private_Dirty:")):
                    total += int(line.split()[1]) * 1024
    except OSError:
        return 0
    return total


class MemSampler(threading.Thread):
    """Samples the server's memory every `ms` milliseconds until stopped:
    parent RSS + private pages of its children; keeps the peaks."""

    def __init__(self, pid, ms):
        super().__init__(daemon=True)
        self.pid, self.ms = pid, ms
        self.peak_total = self.peak_child = self.peak_parent = 0
        self.samples = 0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            parent = rss_bytes(self.pid)
            child = sum(private_bytes(k) for k in children_of(self.pid))
            self.peak_parent = max(self.peak_parent, parent)
            self.peak_child = max(self.peak_child, child)
            self.peak_total = max(self.peak_total, parent + child)
            self.samples += 1
            self.done.wait(self.ms / 1000)

    def stop(self):
        self.done.set()
        self.join()


# ---------------------------------------------------------------- servers


class Server:
    """One server under test: how to start it, where its files are."""

    def __init__(self, kind, binary, port, workdir, cpu, shards, compression, args):
        self.kind, self.binary, self.port = kind, binary, port
        self.dir, self.cpu, self.shards = workdir, cpu, shards
        self.compression, self.args = compression, args
        self.proc = None
        self.log = os.path.join(workdir, "server.log")

    def label(self):
        pin = "cpu%s" % self.cpu if self.cpu is not None else "unpinned"
        if self.kind == "redis":
            return "redis %s" % pin
        comp = ", compression %s" % self.compression if self.compression else ""
        return "apiary shards=%d %s%s" % (self.shards, pin, comp)

    def command(self):
        if self.kind == "redis":
            cmd = [
                self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", self.dir,
                "--dbfilename", "dump.rdb", "--daemonize", "no",
                "--rdbcompression", self.args.redis_rdbcompression,
            ]
        else:
            cmd = [
                self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", self.dir,
                "--shards", str(self.shards),
            ]
            if self.compression:
                cmd += ["--snapshot-compression", self.compression]
        if self.cpu is not None:
            cmd = ["taskset", "-c", str(self.cpu)] + cmd
        return cmd

    def start(self, timeout=600):
        """Start the server; return seconds until PING answers PONG (after
        any -LOADING) and DBSIZE answers."""
        logf = open(self.log, "ab")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(self.command(), stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        while True:
            if self.proc.poll() is not None:
                with open(self.log, "rb") as f:
                    tail = f.read()[-2000:].decode(errors="replace")
                raise RuntimeError("%s exited at start:\n%s" % (self.label(), tail))
            if time.monotonic() - t0 > timeout:
                raise RuntimeError("%s did not answer in %ds" % (self.label(), timeout))
            try:
                r = redis.Redis(port=self.port, socket_timeout=60)
                if r.ping():
                    elapsed = time.monotonic() - t0
                    self.dbsize = r.dbsize()
                    r.close()
                    return elapsed
            except (redis.ConnectionError, redis.BusyLoadingError, redis.ResponseError):
                pass
            time.sleep(0.005)

    def pid(self):
        """The server's pid (taskset execs the server in place)."""
        return self.proc.pid

    def client(self):
        return redis.Redis(port=self.port, socket_timeout=600)

    def stop(self):
        """SHUTDOWN NOSAVE, then wait for the process to exit."""
        if not self.proc or self.proc.poll() is not None:
            return
        try:
            self.client().execute_command("SHUTDOWN", "NOSAVE")
        except (redis.ConnectionError, redis.ResponseError):
            pass
        try:
            self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait(timeout=60)

    def snapshot_bytes(self):
        """Size of the saved data set on disk."""
        if self.kind == "redis":
            p = os.path.join(self.dir, "dump.rdb")
            return os.path.getsize(p) if os.path.exists(p) else 0
        total = 0
        d = os.path.join(self.dir, "appendonlydir")
        for name in os.listdir(d) if os.path.isdir(d) else []:
            if ".base." in name:
                total += os.path.getsize(os.path.join(d, name))
        return total


def info_persistence(r):
    return r.info("persistence")


def snapshot_run(srv, args, nkeys, run):
    """One BGSAVE under the writer's load; returns the measurements."""
    r = srv.client()
    before = info_persistence(r)
    saves0 = before.get("rdb_saves", 0)
    last0 = before.get("rdb_last_save_time", 0)
    pid = srv.pid()
    rss_before = rss_bytes(pid)
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")  # reset VmHWM to the current RSS
    out = os.path.join(args.workdir, "writer.%d.bin" % os.getpid())
    wcpu = args.writer_cpu if srv.cpu is not None else None
    w = writer_start(srv.port, nkeys, args.value_size, args.writer_rate,
                     args.value_kind, wcpu, out, 1000 + run)
    time.sleep(args.baseline_secs)
    sampler = MemSampler(pid, args.sample_ms)
    sampler.start()
    load0 = loadavg()
    cpu0 = cpu_secs(pid)
    t0 = time.monotonic_ns()
    r.bgsave()
    while True:
        time.sleep(args.poll_ms / 1000)
        info = info_persistence(r)
        if not info.get("rdb_bgsave_in_progress") and (
            info.get("rdb_saves", 0) != saves0 or info.get("rdb_last_save_time") != last0
        ):
            break
    t1 = time.monotonic_ns()
    cpu1 = cpu_secs(pid)
    sampler.stop()
    hwm = status_field(pid, "VmHWM")
    time.sleep(args.tail_secs)
    recs = writer_stop(w, out)
    if args.dump_latencies:
        dump_latencies(args.dump_latencies, srv, run, recs, t0, t1)
    info_stats = r.info("stats")
    status = info.get("rdb_last_bgsave_status")
    r.close()
    warm = recs[0][0] + int(args.warmup_secs * 1e9) if recs else 0
    base = lat_stats(recs, warm, t0)
    during = lat_stats(recs, t0, t1)
    base_svc = lat_stats(recs, warm, t0, field=2)
    during_svc = lat_stats(recs, t0, t1, field=2)
    # Requests answered per second while the snapshot ran.
    achieved = len([x for x in recs if t0 <= x[0] + x[1] < t1]) / max(1e-9, (t1 - t0) / 1e9)
    return {
        "run": run,
        "snapshot_secs": (t1 - t0) / 1e9,
        "server_cpu_secs": cpu1 - cpu0,
        "loadavg_before": load0,
        "loadavg_after": loadavg(),
        "bgsave_status": status,
        "rss_before": rss_before,
        "peak_total": max(sampler.peak_total, hwm),
        "peak_parent_sampled": sampler.peak_parent,
        "peak_parent_hwm": hwm,
        "peak_child_private": sampler.peak_child,
        "samples": sampler.samples,
        "fork_usec": info_stats.get("latest_fork_usec") if srv.kind == "redis" else None,
        "snapshot_bytes": srv.snapshot_bytes(),
        "baseline": base,
        "during": during,
        "baseline_service": base_svc,
        "during_service": during_svc,
        "answered_per_sec_during": achieved,
    }


def used_memory(srv):
    r = srv.client()
    m = r.info("memory").get("used_memory", 0)
    r.close()
    return m


def bench_server(srv, args, nkeys, dataset):
    """Load, snapshot --runs times, restart --restart-runs times, clean."""
    shutil.rmtree(srv.dir, ignore_errors=True)
    os.makedirs(srv.dir)
    res = {"label": srv.label(), "kind": srv.kind, "pinned": srv.cpu is not None, "nkeys": nkeys,
           "dataset_bytes": dataset}
    try:
        srv.start()
        t = time.monotonic()
        load_data(srv.port, nkeys, args.value_size, args.value_kind)
        res["load_secs"] = time.monotonic() - t
        r = srv.client()
        res["dbsize"] = r.dbsize()
        r.close()
        if res["dbsize"] != nkeys:
            raise RuntimeError("%s: DBSIZE %d after loading %d keys" % (srv.label(), res["dbsize"], nkeys))
        res["rss_loaded"] = rss_bytes(srv.pid())
        res["used_memory"] = used_memory(srv)
        log("%s: loaded %d keys in %.1fs, RSS %.2f GB" % (srv.label(), nkeys, res["load_secs"], res["rss_loaded"] / 1e9))
        res["snapshots"] = []
        for run in range(args.runs):
            s = snapshot_run(srv, args, nkeys, run)
            res["snapshots"].append(s)
            log("  snapshot %d: %.2fs, peak %.2f GB (%.2fx data), file %.2f GB, "
                "p99 %.2f -> %.2f ms, max %.2f -> %.2f ms" % (
                    run, s["snapshot_secs"], s["peak_total"] / 1e9,
                    s["peak_total"] / dataset, s["snapshot_bytes"] / 1e9,
                    s["baseline"].get("p99_ms", 0), s["during"].get("p99_ms", 0),
                    s["baseline"].get("max_ms", 0), s["during"].get("max_ms", 0)))
        res["restarts"] = []
        for run in range(args.restart_runs):
            srv.stop()
            secs = srv.start()
            if srv.dbsize != nkeys:
                raise RuntimeError("%s: restart loaded %d keys, expected %d" % (srv.label(), srv.dbsize, nkeys))
            rss = rss_bytes(srv.pid())
            res["restarts"].append({"run": run, "secs": secs, "rss": rss})
            log("  restart %d: %.2fs to PONG with %d keys, RSS %.2f GB" % (run, secs, nkeys, rss / 1e9))
    finally:
        srv.stop()
        if not args.keep:
            shutil.rmtree(srv.dir, ignore_errors=True)
    return res


# ---------------------------------------------------------------- report


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")


def summarize(res):
    """Medians over the runs of one configuration."""
    snaps, rest = res.get("snapshots", []), res.get("restarts", [])
    d = res["dataset_bytes"]
    row = {
        "label": res["label"],
        "kind": res["kind"],
        "pinned": res.get("pinned"),
        "snapshot_secs": med([s["snapshot_secs"] for s in snaps]),
        "server_cpu_secs": med([s["server_cpu_secs"] for s in snaps]),
        "peak_over_data": med([s["peak_total"] / d for s in snaps]),
        "rss_before_over_data": med([s["rss_before"] / d for s in snaps]),
        "cow_gb": med([s["peak_child_private"] / 1e9 for s in snaps]),
        "file_gb": med([s["snapshot_bytes"] / 1e9 for s in snaps]),
        "restart_secs": med([x["secs"] for x in rest]),
        "answered_per_sec": med([s["answered_per_sec_during"] for s in snaps]),
        "runs": len(snaps),
        "restart_runs": len(rest),
    }
    for name, key in (("base", "baseline"), ("snap", "during"), ("base_svc", "baseline_service"),
                      ("snap_svc", "during_service")):
        for q in ("p50_ms", "mean_ms", "p99_ms", "max_ms"):
            row["%s_%s" % (name, q[:-3])] = med([s[key].get(q) for s in snaps])
    return row


COLUMNS = [
    ("config", lambda r: r["label"]),
    ("snapshot s", lambda r: "%.2f" % r["snapshot_secs"]),
    ("server CPU s", lambda r: "%.2f" % r["server_cpu_secs"]),
    ("peak RSS / data", lambda r: "%.2f" % r["peak_over_data"]),
    ("RSS before / data", lambda r: "%.2f" % r["rss_before_over_data"]),
    ("child COW GB", lambda r: "%.2f" % r["cow_gb"]),
    ("file GB", lambda r: "%.2f" % r["file_gb"]),
    ("latency before p50/p99/max ms", lambda r: "%.2f / %.2f / %.1f" % (r["base_p50"], r["base_p99"], r["base_max"])),
    ("latency during p50/p99/max ms", lambda r: "%.2f / %.2f / %.1f" % (r["snap_p50"], r["snap_p99"], r["snap_max"])),
    ("service during mean/p99/max ms",
     lambda r: "%.2f / %.2f / %.1f" % (r["snap_svc_mean"], r["snap_svc_p99"], r["snap_svc_max"])),
    ("answered/s during", lambda r: "%.0f" % r["answered_per_sec"]),
    ("restart s", lambda r: "%.2f" % r["restart_secs"]),
]


def print_table(rows):
    """The medians as a Markdown table, then each Apiary row's ratios to
    the Redis row of the same mode (pinned or not)."""
    print("| " + " | ".join(c[0] for c in COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for r in rows:
        print("| " + " | ".join(f(r) for _, f in COLUMNS) + " |")
    print()
    print("| Apiary / Redis | snapshot s | server CPU s | peak RSS | file | p99 during | max during | restart s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        ref = [x for x in rows if x["kind"] == "redis" and x["pinned"] == r["pinned"]]
        if r["kind"] == "redis" or not ref:
            continue
        ref = ref[0]

        def q(k):
            return "%.2f" % (r[k] / ref[k]) if ref[k] else "-"

        print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["label"], q("snapshot_secs"), q("server_cpu_secs"), q("peak_over_data"), q("file_gb"),
            q("snap_p99"), q("snap_max"), q("restart_secs")))


def log(msg):
    print(time.strftime("%H:%M:%S ") + msg, flush=True)


# ---------------------------------------------------------------- main


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gb", type=float, default=5.0, help="gigabytes (1e9) of values to load (5)")
    p.add_argument("--value-size", type=int, default=1024, help="bytes per value (1024)")
    p.add_argument("--value-kind", choices=("random", "text"), default="random",
                   help="random bytes (incompressible) or words (compressible)")
    p.add_argument("--writer-rate", type=int, default=5000, help="writer SETs/s during the test (5000)")
    p.add_argument("--runs", type=int, default=2, help="snapshot runs per configuration (2)")
    p.add_argument("--restart-runs", type=int, default=2, help="restart runs per configuration (2)")
    p.add_argument("--baseline-secs", type=float, default=8.0, help="writer time before BGSAVE (8)")
    p.add_argument("--warmup-secs", type=float, default=1.0, help="writer time not counted in the baseline (1)")
    p.add_argument("--tail-secs", type=float, default=1.0, help="writer time after the save (1)")
    p.add_argument("--sample-ms", type=float, default=50, help="memory sampling interval (50)")
    p.add_argument("--poll-ms", type=float, default=50, help="INFO persistence polling interval (50)")
    p.add_argument("--servers", default="redis,apiary", help="order of servers: redis,apiary")
    p.add_argument("--apiary", default="/tmp/h4/rel/apiary-server")
    p.add_argument("--redis", default="/usr/bin/redis-server")
    p.add_argument("--redis-rdbcompression", choices=("yes", "no"), default="yes",
                   help="Redis's rdbcompression (LZF of strings; yes is its default)")
    p.add_argument("--compression", default="",
                   help="comma-separated snapshot-compression values to run Apiary with "
                        "(e.g. no,lz4); empty: do not pass the directive")
    p.add_argument("--shards", type=int, default=1, help="Apiary shards in the pinned mode (1)")
    p.add_argument("--server-cpu", type=int, default=1, help="CPU for the server in the pinned mode (1)")
    p.add_argument("--writer-cpu", type=int, default=0, help="CPU for the writer in the pinned mode (0)")
    p.add_argument("--unpinned-shards", type=int, default=0,
                   help="also run unpinned (no taskset, writer unpinned): Apiary with this many "
                        "shards and Redis; 0 = skip")
    p.add_argument("--no-pinned", action="store_true", help="skip the pinned mode")
    p.add_argument("--port", type=int, default=7391)
    p.add_argument("--workdir", default="/tmp/h4/pb", help="server directories go under here")
    p.add_argument("--json", help="write every measurement to this file")
    p.add_argument("--keep", action="store_true", help="keep the data files")
    p.add_argument("--dump-latencies", metavar="DIR", help="write every request of every run as CSV here")
    p.add_argument("--report", nargs="+", metavar="JSON",
                   help="print the tables of earlier --json files (merged) and exit")
    # The writer subprocess.
    p.add_argument("--writer", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--nkeys", type=int, help=argparse.SUPPRESS)
    p.add_argument("--rate", type=int, help=argparse.SUPPRESS)
    p.add_argument("--kind", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    return p.parse_args()


def check_resources(args, dataset):
    """Refuse to run without room for the data set: memory for one server
    and its copy-on-write, disk for two snapshot files."""
    with open("/proc/meminfo") as f:
        avail = next(int(l.split()[1]) * 1024 for l in f if l.startswith("MemAvailable:"))
    st = os.statvfs(args.workdir)
    disk = st.f_bavail * st.f_frsize
    log("data set %.2f GB; memory available %.1f GB; disk free %.1f GB" % (dataset / 1e9, avail / 1e9, disk / 1e9))
    if avail < 2.0 * dataset:
        sys.exit("not enough memory: need about 2x the data set available")
    if disk < 3.0 * dataset:
        sys.exit("not enough disk under %s: need about 3x the data set" % args.workdir)


def configs(args):
    """The server configurations to run, in order."""
    comps = [c for c in args.compression.split(",") if c] or [None]
    modes = []
    if not args.no_pinned:
        modes.append((args.server_cpu, args.shards))
    if args.unpinned_shards:
        modes.append((None, args.unpinned_shards))
    out = []
    for cpu, shards in modes:
        for kind in args.servers.split(","):
            if kind == "redis":
                out.append(("redis", args.redis, cpu, 1, None))
            else:
                for c in comps:
                    out.append(("apiary", args.apiary, cpu, shards, c))
    return out


def main():
    args = parse_args()
    if args.writer:
        writer_main(args)
        return
    if args.report:
        results = []
        for name in args.report:
            with open(name) as f:
                results += json.load(f)["results"]
        print_table([summarize(r) for r in results])
        return
    nkeys = int(args.gb * 1e9 / args.value_size)
    keylen = len(KEY_FMT % 0)
    dataset = nkeys * (args.value_size + keylen)
    os.makedirs(args.workdir, exist_ok=True)
    check_resources(args, dataset)
    log("%d keys of %d bytes (%s), writer %d SET/s" % (nkeys, args.value_size, args.value_kind, args.writer_rate))
    results = []
    for i, (kind, binary, cpu, shards, comp) in enumerate(configs(args)):
        d = os.path.join(args.workdir, "s%d-%s" % (i, kind))
        srv = Server(kind, binary, args.port, d, cpu, shards, comp, args)
        results.append(bench_server(srv, args, nkeys, dataset))
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"args": vars(args), "results": results}, f, indent=1)
    rows = [summarize(r) for r in results]
    print()
    print("data set: %d keys x %d-byte %s values = %.2f GB (keys + values); medians of runs" % (
        nkeys, args.value_size, args.value_kind, dataset / 1e9))
    print_table(rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "results": results, "summary": rows}, f, indent=1)


if __name__ == "__main__":
    main()
