"""SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT] and SIGTERM with a final
snapshot (shards/shutdown.c), against a real apiary-server restarted on
the same directory:

1. with `save` rules and no log, SHUTDOWN and SIGTERM save first, and a
   restart has everything; NOSAVE does not save; SAVE saves without rules;
2. without rules, SHUTDOWN saves nothing (as Redis) and stops at once;
3. a final snapshot that cannot be written: SHUTDOWN answers
   "-ERR Errors trying to SHUTDOWN. Check logs." and the server goes on
   serving (writes too); FORCE stops anyway; SIGTERM logs and goes on;
4. writes sent while the final snapshot runs wait, and every one that was
   acknowledged is in the snapshot;
5. SHUTDOWN ABORT without a shutdown is an error; bad arguments too.
"""
import os
import signal
import socket
import threading
import time

import pytest
import redis

from conftest import Server, cmd


def start(path, *extra, shards=2):
    return Server("--dir", str(path), "--appendonly", "no",
                  *[str(a) for a in extra], shards=shards)


def send_shutdown(s, *args):
    """SHUTDOWN over a raw socket: returns the reply bytes, or b"" when
    the connection closed without one (the server stopped)."""
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=60)
    sock.sendall(cmd("SHUTDOWN", *args))
    data = b""
    try:
        while not data.endswith(b"\r\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    sock.close()
    return data


def fill(c, n, prefix="k"):
    p = c.pipeline(transaction=False)
    for i in range(n):
        p.set("%s:%d" % (prefix, i), "v%d" % i)
    p.execute()


def count(c, prefix, n):
    vals = c.mget(["%s:%d" % (prefix, i) for i in range(n)])
    return sum(1 for v in vals if v is not None)


@pytest.mark.parametrize("how", ["shutdown", "sigterm", "sigint"])
def test_final_snapshot_with_save_rules(tmp_path, how):
    s = start(tmp_path, "--save", "3600 1")
    c = s.client()
    fill(c, 1000)
    c.close()
    if how == "shutdown":
        assert send_shutdown(s) == b""
    else:
        s.proc.send_signal(signal.SIGTERM if how == "sigterm"
                           else signal.SIGINT)
    assert s.proc.wait(timeout=30) == 0, s.read_log()[-3000:]
    log = s.read_log()
    assert "final snapshot" in log, log[-3000:]
    s = start(tmp_path, "--save", "3600 1")
    c = s.client()
    assert count(c, "k", 1000) == 1000
    c.close()
    s.stop()


def test_nosave_and_save(tmp_path):
    s = start(tmp_path, "--save", "3600 1")
    c = s.client()
    fill(c, 100, "a")
    assert c.save() is True
    fill(c, 100, "b")
    c.close()
    assert send_shutdown(s, "NOSAVE") == b""
    assert s.proc.wait(timeout=30) == 0
    # Without rules, SHUTDOWN SAVE still saves.
    s = start(tmp_path)
    c = s.client()
    assert count(c, "a", 100) == 100, "the SAVE was lost"
    assert count(c, "b", 100) == 0, "NOSAVE saved"
    fill(c, 100, "c")
    c.close()
    assert send_shutdown(s, "SAVE", "NOW") == b""
    assert s.proc.wait(timeout=30) == 0
    s = start(tmp_path)
    c = s.client()
    assert count(c, "c", 100) == 100, "SHUTDOWN SAVE did not save"
    fill(c, 100, "d")
    c.close()
    # No rules, no SAVE: nothing saved, as Redis.
    assert send_shutdown(s) == b""
    assert s.proc.wait(timeout=30) == 0
    s = start(tmp_path)
    c = s.client()
    assert count(c, "c", 100) == 100 and count(c, "d", 100) == 0
    c.close()
    s.stop()


def test_failed_final_snapshot_keeps_serving(tmp_path):
    d = tmp_path / "data"
    os.makedirs(d)
    s = start(d, "--save", "3600 1")
    c = s.client()
    fill(c, 100)
    # The snapshot cannot be written: its directory is a file now.
    os.rename(d / "appendonlydir", d / "moved") \
        if os.path.exists(d / "appendonlydir") else None
    with open(d / "appendonlydir", "w") as f:
        f.write("not a directory")
    assert send_shutdown(s) == \
        b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
    assert s.alive()
    assert c.set("after", "1") is True, "writes must flow again"
    assert count(c, "k", 100) == 100
    # SIGTERM: logged, and the server goes on.
    s.proc.send_signal(signal.SIGTERM)
    deadline = time.time() + 10
    while "SIGTERM received but errors" not in s.read_log():
        assert time.time() < deadline, s.read_log()[-3000:]
        time.sleep(0.05)
    assert s.alive() and c.get("after") == b"1"
    c.close()
    # FORCE stops even so.
    assert send_shutdown(s, "FORCE") == b""
    assert s.proc.wait(timeout=30) == 0


def test_writes_wait_for_the_final_snapshot(tmp_path):
    """Writers run while SHUTDOWN's final snapshot walks 200k keys; every
    write acknowledged before the connection closed is on disk."""
    s = start(tmp_path, "--save", "3600 1")
    c = s.client()
    p = c.pipeline(transaction=False)
    for i in range(200000):
        p.set("fill:%d" % i, "x" * 100)
        if i % 5000 == 4999:
            p.execute()
    p.execute()
    acked = [[] for _ in range(4)]

    def writer(t):
        w = s.client()
        try:
            for i in range(100000):
                w.set("w%d:%d" % (t, i), i)
                acked[t].append(i)
        except (redis.ConnectionError, redis.TimeoutError):
            pass

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    assert send_shutdown(s) == b""
    for t in threads:
        t.join(60)
    assert s.proc.wait(timeout=30) == 0
    assert all(acked), "a writer got nothing acknowledged"
    s = start(tmp_path)
    c = s.client()
    for t in range(4):
        keys = ["w%d:%d" % (t, i) for i in acked[t]]
        vals = c.mget(keys)
        lost = [k for k, v in zip(keys, vals) if v is None]
        assert not lost, "%d acknowledged writes lost, e.g. %s" % (
            len(lost), lost[:3])
    assert c.dbsize() >= 200000
    c.close()
    s.stop()


def test_shutdown_errors(tmp_path):
    s = start(tmp_path)
    c = s.client()
    with pytest.raises(redis.ResponseError, match="No shutdown in progress"):
        c.execute_command("SHUTDOWN", "ABORT")
    for bad in (["SAVE", "NOSAVE"], ["BOGUS"], ["ABORT", "FORCE"]):
        with pytest.raises(redis.ResponseError, match="syntax error"):
            c.execute_command("SHUTDOWN", *bad)
    with pytest.raises(redis.ResponseError):
        c.execute_command("MULTI")
        c.execute_command("SHUTDOWN")
    c.close()
    assert s.alive()
    s.stop()


def test_no_extra_save_after_save(tmp_path):
    """The changes a save covers are counted at its cut, exactly: right
    after writes and a SAVE, a `save 1 1` rule finds nothing to save
    (rdb_changes_since_last_save is 0), and the next write counts 1."""
    s = start(tmp_path, "--save", "1 1", "--hz", "100")
    c = s.client()
    fill(c, 300)
    assert c.save() is True
    assert c.info("persistence")["rdb_changes_since_last_save"] == 0
    saves = c.info("persistence").get("rdb_saves")
    t0 = c.lastsave()
    time.sleep(2.5)
    info = c.info("persistence")
    assert info["rdb_changes_since_last_save"] == 0
    assert c.lastsave() == t0, "a save ran with nothing to save"
    if saves is not None:
        assert info["rdb_saves"] == saves
    c.set("one", 1)
    assert c.info("persistence")["rdb_changes_since_last_save"] == 1
    c.close()
    s.stop()
