"""INFO, CLIENT, CONFIG and COMMAND against the real server (Redis 7
semantics and error texts).

Servers run with several shards (conftest: APIARY_SHARDS, default 2), so everything that needs
other shards' data (INFO totals, CLIENT LIST/KILL, CONFIG SET, RESETSTAT,
CLIENT PAUSE) goes through the fan-out; tests open several connections so
that clients live on both shards, and assert on counter deltas rather than
absolute values where the server's own traffic could interfere.
"""
import os
import shutil
import subprocess
import time

import pytest
import redis

from conftest import SHARDS, cmd, recv_until


class Raw:
    """A raw RESP connection: replies are parsed without redis-py's
    per-command callbacks (which reshape INFO, COMMAND, CONFIG GET)."""

    def __init__(self, apiary):
        self.s = apiary.connect()
        self.buf = b""

    def _fill(self):
        chunk = self.s.recv(1 << 16)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _blob(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest
        if t == b"-":
            text = rest.decode()  # without "ERR ", as redis-py
            return redis.ResponseError(text[4:] if text.startswith("ERR ") else text)
        if t == b":":
            return int(rest)
        if t in (b"$", b"="):
            n = int(rest)
            if n < 0:
                return None
            data = self._blob(n)
            return data[4:] if t == b"=" else data
        if t in (b"*", b"~", b">"):
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        if t == b"%":
            n = int(rest)
            return {self.read(): self.read() for _ in range(n)}
        if t == b"_":
            return None
        raise AssertionError("unexpected reply type %r" % line)

    def call(self, *args):
        self.s.sendall(cmd(*args))
        r = self.read()
        if isinstance(r, redis.ResponseError):
            raise r
        return r

    def at_eof(self, timeout=10):
        """True once the server has closed the connection."""
        self.s.settimeout(timeout)
        try:
            while True:
                self._fill()
        except EOFError:
            return True
        except OSError:
            return True

    def close(self):
        self.s.close()


def info_text(apiary, *sections):
    """INFO's raw text (redis-py would parse it into a dict)."""
    r = Raw(apiary)
    text = r.call("INFO", *sections).decode()
    r.close()
    return text


def err(excinfo):
    return str(excinfo.value)


def clients(apiary, n):
    """n extra connections, each pinged so it is registered on its shard."""
    cs = [apiary.client(decode_responses=True) for _ in range(n)]
    for c in cs:
        assert c.ping()
    return cs


# --- INFO ---------------------------------------------------------------


DEFAULT_SECTIONS = ["Server", "Clients", "Memory", "Persistence", "Stats",
                    "Replication", "CPU", "Errorstats", "Cluster", "Keyspace"]


def section_names(text):
    return [l[2:] for l in text.split("\r\n") if l.startswith("# ")]


def test_info_default_sections_in_order(apiary):
    text = info_text(apiary)
    assert section_names(text) == DEFAULT_SECTIONS
    assert "cmdstat_" not in text
    # One blank line between sections, every line CRLF-terminated.
    assert "\r\n\r\n# Clients\r\n" in text
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")


def test_info_section_selection(apiary):
    assert section_names(info_text(apiary, "server")) == ["Server"]
    text = info_text(apiary, "CPU", "keyspace", "MEMORY")
    assert section_names(text) == ["Memory", "CPU", "Keyspace"]
    assert info_text(apiary, "nosuchsection") == ""
    all_ = section_names(info_text(apiary, "all"))
    assert "Commandstats" in all_ and "Keyspace" in all_
    assert section_names(info_text(apiary, "everything")) == all_
    assert section_names(info_text(apiary, "default")) == DEFAULT_SECTIONS


def test_info_server_fields(apiary, server):
    i = server.info("server")
    assert i["redis_version"] == "7.2.0"
    assert i["redis_mode"] == "standalone"
    assert i["tcp_port"] == apiary.port
    assert i["shards"] == SHARDS
    assert i["multiplexing_api"] in ("io_uring", "epoll")
    assert i["process_id"] == apiary.proc.pid
    assert len(i["run_id"]) == 40
    assert i["arch_bits"] == 64
    assert i["io_threads_active"] == 0
    assert i["uptime_in_seconds"] >= 0
    assert abs(i["server_time_usec"] / 1e6 - time.time()) < 60
    assert "apiary_version" in i


def test_info_clients_counts_all_shards(apiary, server):
    extra = clients(apiary, 5)
    i = server.info("clients")
    assert i["connected_clients"] == 6
    per = [i["shard%d_connected_clients" % k] for k in range(SHARDS)]
    assert sum(per) == 6
    assert all(n > 0 for n in per)  # new connections go to the least loaded
    assert i["blocked_clients"] == 0
    assert i["maxclients"] > 0
    for c in extra:
        c.close()


def test_info_memory(server):
    i = server.info("memory")
    assert i["used_memory"] > 0
    assert i["used_memory"] == sum(i["shard%d_used_memory" % k]
                                   for k in range(SHARDS))
    assert i["used_memory_peak"] >= i["used_memory"]
    assert i["used_memory_rss"] > 0
    assert i["maxmemory_policy"] == "noeviction"
    assert i["mem_allocator"] == "mimalloc"
    assert i["used_memory_human"].endswith(("B", "K", "M", "G"))
    # Memory grows with data, and the peak follows.
    pipe = server.pipeline(transaction=False)
    for k in range(2000):
        pipe.set("mem:%d" % k, "x" * 500)
    pipe.execute()
    j = server.info("memory")
    assert j["used_memory"] > i["used_memory"] + 500 * 2000
    assert j["used_memory_peak"] >= j["used_memory"]


def test_info_stats_deltas(server):
    a = server.info("stats")
    server.set("k", "v")
    server.get("k")        # hit
    server.get("missing")  # miss
    with pytest.raises(redis.ResponseError):
        server.execute_command("NOSUCHCOMMAND")
    b = server.info("stats")
    assert b["keyspace_hits"] - a["keyspace_hits"] == 1
    assert b["keyspace_misses"] - a["keyspace_misses"] == 1
    assert b["total_error_replies"] - a["total_error_replies"] == 1
    # INFO itself, SET, 2 GETs and the unknown command.
    assert b["total_commands_processed"] - a["total_commands_processed"] >= 4
    assert b["total_net_input_bytes"] > a["total_net_input_bytes"]
    for f in ("xshard_messages", "xshard_batches", "xshard_wakeups",
              "total_connections_received", "expired_keys",
              "rejected_connections", "instantaneous_ops_per_sec"):
        assert f in b


def test_info_expired_keys(server):
    a = server.info("stats")["expired_keys"]
    for k in range(10):
        server.set("exp:%d" % k, "v", px=1)
    time.sleep(0.05)
    for k in range(10):
        assert server.get("exp:%d" % k) is None
    assert server.info("stats")["expired_keys"] - a == 10


def test_info_keyspace_sums_shards(server):
    assert server.info("keyspace") == {}
    for k in range(100):
        server.set("ks:%d" % k, k)
    for k in range(10):
        server.expire("ks:%d" % k, 1000)
    server.execute_command("SELECT", 3)
    server.set("other", 1)
    i = server.info("keyspace")
    assert i["db0"] == {"keys": 100, "expires": 10, "avg_ttl": 0}
    assert i["db3"]["keys"] == 1
    assert "db1" not in i  # empty databases are left out


def test_info_commandstats(server):
    for _ in range(3):
        server.set("a", "1")
    server.config_get("maxclients")
    with pytest.raises(redis.ResponseError):
        server.execute_command("INCR", "a", "extra")  # arity
    with pytest.raises(redis.ResponseError):
        server.execute_command("SET", "a", "1", "BADOPT")  # failed
    cs = server.info("commandstats")
    assert cs["cmdstat_set"]["calls"] >= 3
    assert cs["cmdstat_set"]["failed_calls"] >= 1
    assert cs["cmdstat_config|get"]["calls"] == 1
    st = cs["cmdstat_set"]
    assert set(st) == {"calls", "usec", "usec_per_call", "rejected_calls",
                       "failed_calls"}


def test_info_errorstats(server):
    for _ in range(3):
        with pytest.raises(redis.ResponseError):
            server.execute_command("NOSUCH")
    server.set("s", "x")
    with pytest.raises(redis.ResponseError):
        server.incr("s")
    e = server.info("errorstats")
    assert e["errorstat_ERR"] in ("count=4", {"count": 4})
    assert server.info("stats")["total_error_replies"] == 4


def test_info_cpu(server):
    c = server.info("cpu")
    for f in ("used_cpu_sys", "used_cpu_user", "used_cpu_sys_children",
              "used_cpu_user_children", "shard0_cpu_sys", "shard0_cpu_user",
              "shard%d_cpu_sys" % (SHARDS - 1)):
        assert float(c[f]) >= 0
    assert float(c["used_cpu_user"]) + float(c["used_cpu_sys"]) > 0


def test_info_persistence_replication_cluster(server):
    p = server.info("persistence")
    assert p["loading"] == 0 and p["aof_enabled"] == 0
    assert p["rdb_bgsave_in_progress"] == 0
    before = p["rdb_changes_since_last_save"]
    server.set("x", 1)
    server.set("y", 2)
    assert server.info("persistence")["rdb_changes_since_last_save"] - before == 2
    assert server.info("replication")["role"] == "master"
    assert server.info("cluster")["cluster_enabled"] == 0


def test_info_resp3_exact_bytes(apiary):
    s = apiary.connect()
    s.sendall(cmd("HELLO", "3"))
    recv_until(s, b"modules\r\n*0\r\n")
    s.sendall(cmd("INFO", "cluster"))
    body = b"txt:# Cluster\r\ncluster_enabled:0\r\n"
    want = b"=%d\r\n%s\r\n" % (len(body), body)
    assert recv_until(s, want) == want
    s.close()


# --- CLIENT -------------------------------------------------------------


LIST_FIELDS = ["id", "addr", "laddr", "fd", "name", "age", "idle", "flags",
               "db", "sub", "psub", "ssub", "multi", "qbuf", "qbuf-free",
               "argv-mem", "multi-mem", "obl", "oll", "omem", "tot-mem",
               "events", "cmd", "user", "redir", "resp", "lib-name",
               "lib-ver"]


def test_client_id_and_info(server):
    cid = server.client_id()
    assert isinstance(cid, int) and cid > 0
    line = server.execute_command("CLIENT", "INFO").decode()
    assert line.endswith("\n")
    fields = [kv.split("=", 1)[0] for kv in line.strip().split(" ")]
    assert fields == LIST_FIELDS
    info = dict(kv.split("=", 1) for kv in line.strip().split(" "))
    assert int(info["id"]) == cid
    assert info["cmd"] == "client|info"
    assert info["resp"] == "2" and info["user"] == "default"


def test_client_setname_getname(server):
    assert server.client_getname() is None
    assert server.client_setname("worker-1")
    assert server.client_getname() == "worker-1"
    for bad in ("a b", "a\nb", "caf\xe9"):
        with pytest.raises(redis.ResponseError) as e:
            server.client_setname(bad)
        assert err(e) == ("Client names cannot contain spaces, newlines or "
                          "special characters.")
    assert server.client_getname() == "worker-1"
    assert server.execute_command("CLIENT", "SETNAME", "")
    assert server.client_getname() is None
    # The longest name we keep, and one byte more.
    assert server.client_setname("n" * 1024)
    assert server.client_getname() == "n" * 1024
    with pytest.raises(redis.ResponseError):
        server.client_setname("n" * 1025)


def test_client_list_all_shards(apiary, server):
    extra = clients(apiary, 4)
    for k, c in enumerate(extra):
        c.client_setname("c%d" % k)
    lst = server.client_list()
    assert len(lst) == 5
    assert {c["name"] for c in lst} == {"", "c0", "c1", "c2", "c3"}
    me = [c for c in lst if c["cmd"] == "client|list"]
    assert len(me) == 1 and int(me[0]["id"]) == server.client_id()
    raw = server.execute_command("CLIENT", "LIST").decode()
    for line in raw.strip().split("\n"):
        assert [kv.split("=", 1)[0] for kv in line.split(" ")] == LIST_FIELDS
    # Ids are unique.
    assert len({c["id"] for c in lst}) == 5
    for c in extra:
        c.close()


def test_client_list_filters(apiary, server):
    extra = clients(apiary, 3)
    ids = [c.client_id() for c in extra]
    assert len(server.client_list(_type="normal")) == 4
    assert server.client_list(_type="pubsub") == []
    assert server.client_list(_type="master") == []
    assert server.client_list(_type="replica") == []
    got = server.execute_command("CLIENT", "LIST", "ID", ids[0], ids[2], 999999)
    got_ids = sorted(int(l.split(" ")[0][3:]) for l in got.decode().strip().split("\n"))
    assert got_ids == sorted([ids[0], ids[2]])
    with pytest.raises(redis.ResponseError) as e:
        server.execute_command("CLIENT", "LIST", "TYPE", "bogus")
    assert err(e) == "Unknown client type 'bogus'"
    with pytest.raises(redis.ResponseError) as e:
        server.execute_command("CLIENT", "LIST", "ID", "1", "x")
    assert err(e) == "Invalid client ID"
    with pytest.raises(redis.ResponseError) as e:
        server.execute_command("CLIENT", "LIST", "FOO")
    assert err(e) == "syntax error"
    for c in extra:
        c.close()


def victims(apiary, n):
    """n raw connections (spread over both shards) and their ids."""
    vs = [Raw(apiary) for _ in range(n)]
    return vs, [v.call("CLIENT", "ID") for v in vs]


def test_client_kill_by_id_across_shards(apiary, server):
    vs, ids = victims(apiary, 4)
    for vid in ids:
        assert server.execute_command("CLIENT", "KILL", "ID", vid) == 1
    for v in vs:
        assert v.at_eof()
    assert len(server.client_list()) == 1
    assert server.execute_command("CLIENT", "KILL", "ID", ids[0]) == 0


def test_client_kill_legacy_addr(apiary, server):
    (v,), _ = victims(apiary, 1)
    line = v.call("CLIENT", "INFO").decode()
    addr = dict(kv.split("=", 1) for kv in line.split())["addr"]
    assert server.execute_command("CLIENT", "KILL", addr) == b"OK"
    assert v.at_eof()
    with pytest.raises(redis.ResponseError) as e:
        server.execute_command("CLIENT", "KILL", addr)
    assert err(e) == "No such client"


def test_client_kill_filters(apiary, server):
    vs, _ = victims(apiary, 3)
    laddr = server.client_info()["laddr"]
    with pytest.raises(redis.ResponseError) as e:
        server.execute_command("CLIENT", "KILL", "ID", "0")
    assert err(e) == "client-id should be greater than 0"
    with pytest.raises(redis.ResponseError) as e:
        server.execute_command("CLIENT", "KILL", "TYPE", "x")
    assert err(e) == "Unknown client type 'x'"
    with pytest.raises(redis.ResponseError) as e:
        server.execute_command("CLIENT", "KILL", "USER", "nobody")
    assert err(e) == "No such user 'nobody'"
    with pytest.raises(redis.ResponseError) as e:
        server.execute_command("CLIENT", "KILL", "SKIPME", "maybe")
    assert err(e) == "syntax error"
    with pytest.raises(redis.ResponseError) as e:
        server.execute_command("CLIENT", "KILL", "ID", "1", "TYPE")
    assert err(e) == "syntax error"
    assert server.execute_command("CLIENT", "KILL", "TYPE", "master") == 0
    # Every other normal client (on both shards), not the caller.
    n = server.execute_command("CLIENT", "KILL", "LADDR", laddr,
                               "USER", "default", "TYPE", "normal")
    assert n == 3
    assert server.ping()
    for v in vs:
        assert v.at_eof()


def test_client_kill_self_with_skipme_no(apiary):
    s = apiary.connect()
    s.sendall(cmd("CLIENT", "ID"))
    cid = int(recv_until(s, b"\r\n")[1:-2])
    s.sendall(cmd("CLIENT", "KILL", "ID", cid, "SKIPME", "no") + cmd("PING"))
    data = recv_until(s, b"never")  # reads to EOF
    assert data == b":1\r\n"  # the reply, then the close; PING never runs
    s.close()


def test_client_reply_modes(apiary, server):
    assert server.execute_command("CLIENT", "REPLY", "ON") == b"OK"
    with pytest.raises(redis.ResponseError) as e:
        server.execute_command("CLIENT", "REPLY", "MAYBE")
    assert err(e) == "syntax error"
    s = apiary.connect()
    s.sendall(cmd("CLIENT", "REPLY", "SKIP") + cmd("ECHO", "skipped") +
              cmd("ECHO", "seen"))
    assert recv_until(s, b"seen\r\n") == b"$4\r\nseen\r\n"
    s.sendall(cmd("CLIENT", "REPLY", "OFF") + cmd("ECHO", "quiet") +
              cmd("CLIENT", "REPLY", "ON") + cmd("ECHO", "back"))
    assert recv_until(s, b"back\r\n") == b"+OK\r\n$4\r\nback\r\n"
    s.close()


def test_client_pause_unpause(apiary, server):
    with pytest.raises(redis.ResponseError) as e:
        server.execute_command("CLIENT", "PAUSE", "abc")
    assert err(e) == "timeout is not an integer or out of range"
    with pytest.raises(redis.ResponseError) as e:
        server.execute_command("CLIENT", "PAUSE", "-1")
    assert err(e) == "timeout is negative"
    with pytest.raises(redis.ResponseError) as e:
        server.execute_command("CLIENT", "PAUSE", "10", "SOMETIMES")
    assert err(e) == "CLIENT PAUSE mode must be WRITE or ALL"
    assert server.execute_command("CLIENT", "PAUSE", "100000", "WRITE") == b"OK"
    assert server.execute_command("CLIENT", "UNPAUSE") == b"OK"
    assert server.set("after", "unpause")
    assert server.execute_command("CLIENT", "PAUSE", "0") == b"OK"


def test_client_pause_delays_writes(apiary, server):
    others = clients(apiary, 3)
    assert server.execute_command("CLIENT", "PAUSE", "400", "WRITE") == b"OK"
    t0 = time.time()
    for c in others:
        assert c.get("nothing") is None  # reads are not paused
    assert time.time() - t0 < 0.3
    for c in others:
        c.set("w", "1")
    assert time.time() - t0 >= 0.35
    for c in others:
        c.close()


def test_client_flags_and_misc(server):
    assert server.execute_command("CLIENT", "NO-EVICT", "on") == b"OK"
    assert server.execute_command("CLIENT", "NO-TOUCH", "ON") == b"OK"
    flags = server.client_info()["flags"]
    assert "e" in flags and "T" in flags
    assert server.execute_command("CLIENT", "NO-EVICT", "off") == b"OK"
    assert server.execute_command("CLIENT", "NO-TOUCH", "off") == b"OK"
    assert server.client_info()["flags"] == "N"
    with pytest.raises(redis.ResponseError):
        server.execute_command("CLIENT", "NO-TOUCH", "maybe")
    assert server.execute_command("CLIENT", "GETREDIR") == -1
    help_ = server.execute_command("CLIENT", "HELP")
    assert help_[0].startswith(b"CLIENT <subcommand>")
    with pytest.raises(redis.ResponseError) as e:
        server.execute_command("CLIENT", "NOSUCH")
    assert err(e) == "unknown subcommand 'NOSUCH'. Try CLIENT HELP."
    with pytest.raises(redis.ResponseError) as e:
        server.execute_command("CLIENT", "ID", "extra")
    assert err(e) == "wrong number of arguments for 'client|id' command"


def test_client_setinfo(server):
    assert server.execute_command("CLIENT", "SETINFO", "LIB-NAME", "mylib") == b"OK"
    assert server.execute_command("CLIENT", "SETINFO", "lib-ver", "1.2.3") == b"OK"
    info = server.client_info()
    assert info["lib-name"] == "mylib"
    assert info["lib-ver"].strip() == "1.2.3"
    with pytest.raises(redis.ResponseError) as e:
        server.execute_command("CLIENT", "SETINFO", "lib-name", "a b")
    assert err(e) == ("lib-name cannot contain spaces, newlines or special "
                      "characters.")
    with pytest.raises(redis.ResponseError) as e:
        server.execute_command("CLIENT", "SETINFO", "color", "red")
    assert err(e) == "Unrecognized option 'color'"
    # Bounded: lib-name keeps up to 127 bytes.
    assert server.execute_command("CLIENT", "SETINFO", "lib-name", "x" * 127) == b"OK"
    with pytest.raises(redis.ResponseError):
        server.execute_command("CLIENT", "SETINFO", "lib-name", "x" * 128)


# --- CONFIG -------------------------------------------------------------


def test_config_get(apiary, server):
    all_ = server.config_get("*")
    assert int(all_["maxclients"]) > 0
    assert "hz" in all_ and "port" in all_
    assert server.config_get("nosuch*") == {}
    # Several patterns; a directive matched twice appears once.
    r = Raw(apiary)
    assert r.call("CONFIG", "GET", "hz", "hz*", "HZ") == [b"hz", b"10"]
    r.close()
    with pytest.raises(redis.ResponseError) as e:
        server.execute_command("CONFIG", "GET")
    assert err(e) == "wrong number of arguments for 'config|get' command"


def test_config_get_resp3_map(apiary):
    s = apiary.connect()
    s.sendall(cmd("HELLO", "3"))
    recv_until(s, b"modules\r\n*0\r\n")
    s.sendall(cmd("CONFIG", "GET", "hz"))
    assert recv_until(s, b"10\r\n") == b"%1\r\n$2\r\nhz\r\n$2\r\n10\r\n"
    s.close()


def test_config_set_reaches_every_shard(apiary, server):
    assert server.config_set("hz", 25)
    others = clients(apiary, 5)
    for c in others:
        assert c.config_get("hz") == {"hz": "25"}
    assert server.config_set("timeout", 0)
    for c in others:
        c.close()


def test_config_set_errors_and_atomicity(server):
    with pytest.raises(redis.ResponseError) as e:
        server.config_set("nosuch", "1")
    assert err(e) == "Unknown option or number of arguments for CONFIG SET - 'nosuch'"
    with pytest.raises(redis.ResponseError) as e:
        server.config_set("hz", "abc")
    assert err(e).startswith("CONFIG SET failed (possibly related to argument 'hz') - ")
    with pytest.raises(redis.ResponseError) as e:
        server.config_set("port", "1234")
    assert err(e) == ("CONFIG SET failed (possibly related to argument "
                      "'port') - can't set immutable config")
    with pytest.raises(redis.ResponseError) as e:
        server.execute_command("CONFIG", "SET", "hz", "12", "HZ", "13")
    assert err(e) == ("CONFIG SET failed (possibly related to argument "
                      "'HZ') - duplicate parameter")
    with pytest.raises(redis.ResponseError) as e:
        server.execute_command("CONFIG", "SET", "hz", "12", "timeout")
    assert err(e) == "wrong number of arguments for 'config|set' command"
    # A failed multi-directive SET changes nothing.
    before = server.config_get("*")
    with pytest.raises(redis.ResponseError):
        server.execute_command("CONFIG", "SET", "hz", "42", "timeout", "x")
    assert server.config_get("*") == before
    assert server.execute_command("CONFIG", "SET", "hz", "42", "timeout", "7") == b"OK"
    got = server.config_get("*")
    assert got["hz"] == "42" and got["timeout"] == "7"


def test_config_set_active_expire(server):
    assert server.config_set("active-expire", "no")
    assert server.config_get("active-expire") == {"active-expire": "no"}
    server.set("e", "1", px=1)
    time.sleep(0.3)
    # Not expired actively: still counted until touched.
    assert server.info("keyspace").get("db0", {}).get("keys") == 1
    assert server.config_set("active-expire", "yes")


def test_config_resetstat(apiary, server):
    others = clients(apiary, 3)
    for c in others:
        c.set("x", 1)
        with pytest.raises(redis.ResponseError):
            c.execute_command("NOSUCH")
    server.get("x")
    assert server.config_resetstat()
    st = server.info("stats")
    assert st["total_error_replies"] == 0
    assert st["keyspace_hits"] == 0 and st["keyspace_misses"] == 0
    assert st["total_commands_processed"] <= 2
    assert server.info("errorstats") == {}
    cs = server.info("commandstats")
    assert "cmdstat_set" not in cs
    for c in others:
        c.close()


def test_config_rewrite(make_server):
    s = make_server(config="# my config\nhz 10\n")
    r = s.client(decode_responses=True)
    assert r.config_set("hz", 30)
    assert r.config_rewrite()
    text = open(os.path.join(s.dir, "apiary.conf")).read()
    assert "# my config" in text
    assert "hz 30" in text
    r.close()


def test_config_rewrite_without_file(server):
    with pytest.raises(redis.ResponseError) as e:
        server.config_rewrite()
    assert err(e) == "The server is running without a config file"


def test_config_help_and_unknown(server):
    assert server.execute_command("CONFIG", "HELP")[0].startswith(b"CONFIG <subcommand>")
    with pytest.raises(redis.ResponseError) as e:
        server.execute_command("CONFIG", "FOO")
    assert err(e) == "unknown subcommand 'FOO'. Try CONFIG HELP."


# --- COMMAND ------------------------------------------------------------


def test_command_bare_and_count(apiary):
    r = Raw(apiary)
    all_ = r.call("COMMAND")
    assert len(all_) == r.call("COMMAND", "COUNT")
    names = {e[0] for e in all_}
    assert {b"get", b"set", b"info", b"client", b"config", b"command"} <= names


def test_command_info_shape(apiary):
    r = Raw(apiary)
    (get,) = r.call("COMMAND", "INFO", "get")
    assert len(get) == 10
    name, arity, flags, first, last, step, cats, tips, specs, subs = get
    assert (name, arity, first, last, step) == (b"get", 2, 1, 1, 1)
    assert b"readonly" in flags and b"fast" in flags
    assert b"@read" in cats
    assert tips == [] and subs == []
    assert len(specs) == 1
    (mset,) = r.call("COMMAND", "INFO", "mset")
    assert mset[1] == -3 and mset[3:6] == [1, -1, 2]
    assert b"write" in mset[2]
    res = r.call("COMMAND", "INFO", "nosuch", "config|get", "PING")
    assert res[0] is None
    assert res[1][0] == b"config|get" and res[1][1] == -3
    assert b"admin" in res[1][2]
    assert res[2][0] == b"ping" and res[2][3:6] == [0, 0, 0]
    (client,) = r.call("COMMAND", "INFO", "client")
    sub_names = {s[0] for s in client[9]}
    assert {b"client|list", b"client|kill", b"client|id"} <= sub_names
    assert len(r.call("COMMAND", "INFO")) == \
        r.call("COMMAND", "COUNT")


def test_command_docs(apiary):
    r = Raw(apiary)
    docs = r.call("COMMAND", "DOCS", "get", "nosuch", "config")
    d = dict(zip(docs[::2], docs[1::2]))
    assert set(d) == {b"get", b"config"}
    get = dict(zip(d[b"get"][::2], d[b"get"][1::2]))
    assert get[b"group"] == b"string" and get[b"since"] == b"1.0.0"
    assert b"summary" in get and b"complexity" in get
    cfg = dict(zip(d[b"config"][::2], d[b"config"][1::2]))
    subs = dict(zip(cfg[b"subcommands"][::2], cfg[b"subcommands"][1::2]))
    assert b"config|get" in subs and b"config|set" in subs
    all_ = r.call("COMMAND", "DOCS")
    assert len(all_) == 2 * r.call("COMMAND", "COUNT")
    one = r.call("COMMAND", "DOCS", "client|kill")
    assert one[0] == b"client|kill"


def test_command_list(apiary):
    r = Raw(apiary)
    names = set(r.call("COMMAND", "LIST"))
    assert {"get", "config|get", "client|list", "command|docs"} <= \
        {n.decode() for n in names}
    pat = {n.decode() for n in r.call("COMMAND", "LIST", "FILTERBY", "PATTERN", "config*")}
    assert pat == {"config", "config|get", "config|set", "config|resetstat",
                   "config|rewrite", "config|help"}
    cat = {n.decode() for n in r.call("COMMAND", "LIST", "FILTERBY", "ACLCAT", "string")}
    assert "get" in cat and "config|get" not in cat
    at = {n.decode() for n in r.call(
        "COMMAND", "LIST", "FILTERBY", "ACLCAT", "@string")}
    assert at == cat
    assert r.call("COMMAND", "LIST", "FILTERBY", "MODULE", "x") == []
    for bad in (["FILTERBY"], ["FILTERBY", "NAME", "x"], ["foo", "bar", "baz"]):
        with pytest.raises(redis.ResponseError) as e:
            r.call("COMMAND", "LIST", *bad)
        assert err(e) == "syntax error"


def test_command_getkeys(apiary):
    r = Raw(apiary)
    assert r.call("COMMAND", "GETKEYS", "mset", "a", "1", "b", "2") == [b"a", b"b"]
    assert r.call("COMMAND", "GETKEYS", "get", "k") == [b"k"]
    with pytest.raises(redis.ResponseError) as e:
        r.call("COMMAND", "GETKEYS", "nosuch", "k")
    assert err(e) == "Invalid command specified"
    with pytest.raises(redis.ResponseError) as e:
        r.call("COMMAND", "GETKEYS", "get")
    assert err(e) == "Invalid number of arguments specified for command"
    with pytest.raises(redis.ResponseError) as e:
        r.call("COMMAND", "GETKEYS", "ping")
    assert err(e) == "The command has no key arguments"
    with pytest.raises(redis.ResponseError) as e:
        r.call("COMMAND", "GETKEYS")
    assert err(e) == "wrong number of arguments for 'command|getkeys' command"


def test_command_help(apiary):
    r = Raw(apiary)
    h = r.call("COMMAND", "HELP")
    assert h[0].startswith(b"COMMAND <subcommand>")


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="no redis-cli")
def test_redis_cli(apiary):
    def cli(*args):
        return subprocess.run(["redis-cli", "-p", str(apiary.port)] + list(args),
                              capture_output=True, text=True, timeout=30)
    out = cli("INFO", "server")
    assert out.returncode == 0 and "redis_version:7.2.0" in out.stdout
    out = cli("COMMAND", "DOCS", "get")
    assert out.returncode == 0 and "summary" in out.stdout
    out = cli("CLIENT", "LIST")
    assert out.returncode == 0 and "cmd=client|list" in out.stdout


@pytest.mark.parametrize("command", [("INFO", "keyspace"), ("CLIENT", "LIST"),
                                     ("CONFIG", "SET", "hz", "10")])
def test_fanout_command_split_across_reads_one_shard(make_server, command):
    """A fan-out command whose bytes arrive in two reads runs from the
    query buffer; with one shard its fan-out completes synchronously."""
    srv = make_server(shards=1)
    s = srv.connect()
    data = cmd(*command) + cmd("PING")
    s.sendall(data[:7])
    time.sleep(0.1)
    s.sendall(data[7:])
    assert recv_until(s, b"+PONG\r\n").endswith(b"+PONG\r\n")
    s.close()
    assert srv.alive()


def test_introspection_under_connection_churn(apiary):
    """INFO, CLIENT LIST and CLIENT KILL from several threads while
    connections come and go on every shard; the server must stay up and
    clean (the fixture fails the test on a sanitizer report)."""
    import threading
    stop = time.time() + 2.0
    errors = []

    def churn():
        while time.time() < stop:
            c = apiary.client()
            try:
                c.set("churn", 1)
                c.client_setname("churner")
            except redis.ConnectionError:
                pass  # killed by another thread
            c.close()

    def inspect():
        c = apiary.client(decode_responses=True)
        while time.time() < stop:
            try:
                c.info("all")
                c.client_list()
                c.execute_command("CLIENT", "KILL", "USER", "default",
                                  "SKIPME", "yes")
            except redis.ConnectionError:
                pass
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
                return
        c.close()

    threads = [threading.Thread(target=churn) for _ in range(3)]
    threads += [threading.Thread(target=inspect) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert apiary.alive()
    r = apiary.client()
    assert r.ping()
    r.close()


def test_net_output_bytes_and_rejected_calls(server):
    before = server.info("stats")["total_net_output_bytes"]
    server.set("k", "v")
    assert server.get("k") == b"v"
    after = server.info("stats")["total_net_output_bytes"]
    assert after >= before + len(b"+OK\r\n$1\r\nv\r\n")
    with pytest.raises(redis.ResponseError):
        server.execute_command("SET", "k")
    stats = server.info("commandstats")["cmdstat_set"]
    assert stats["rejected_calls"] == 1 and stats["calls"] == 1


def test_config_set_loglevel_reaches_the_log(apiary):
    import socket

    def protocol_error():
        s = socket.create_connection(("127.0.0.1", apiary.port))
        s.sendall(b"*1\r\n$x\r\n")
        s.recv(1000)
        s.close()
        time.sleep(0.1)

    c = apiary.client()
    c.config_set("loglevel", "verbose")
    protocol_error()
    n = apiary.read_log().count("Protocol error")
    assert n >= 1
    c.config_set("loglevel", "warning")
    protocol_error()
    assert apiary.read_log().count("Protocol error") == n
