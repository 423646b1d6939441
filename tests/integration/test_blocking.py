"""Blocking list commands with several connections and shards: wake-ups
by pushes from other connections (keys on every shard), FIFO order of
waiters, timeouts, CLIENT UNBLOCK, disconnects, MULTI, and BLMOVE between
shards staying atomic. Error replies are compared with redis-server."""
import socket
import threading
import time

import pytest
import redis

from conftest import SHARDS, key_on


def later(fn, *args):
    """Runs fn(*args) in a thread; returns a getter for its result."""
    box = {}

    def run():
        try:
            box["v"] = fn(*args)
        except Exception as e:  # handed to the test
            box["e"] = e
    t = threading.Thread(target=run)
    t.start()

    def get(timeout=10):
        t.join(timeout)
        assert not t.is_alive(), "still blocked"
        if "e" in box:
            raise box["e"]
        return box["v"]
    return get


def blocked_count(c):
    return c.info("clients")["blocked_clients"]


def wait_blocked(c, n, timeout=5):
    end = time.time() + timeout
    while time.time() < end:
        if sum(1 for cl in c.client_list()
               if cl.get("cmd", "").startswith(("bl", "br", "bz"))) >= n:
            return
        time.sleep(0.01)
    raise AssertionError("clients did not block")


def test_errors_like_redis(server, redis_ref):
    for c in (server, redis_ref):
        c.set("str", "x")
        with pytest.raises(redis.ResponseError) as e:
            c.execute_command("BLPOP", "k", "-1")
        assert str(e.value) == "timeout is negative"
        with pytest.raises(redis.ResponseError) as e:
            c.execute_command("BLPOP", "k", "abc")
        assert str(e.value) == "timeout is not a float or out of range"
        with pytest.raises(redis.ResponseError) as e:
            c.execute_command("BLPOP", "str", "0")
        assert "WRONGTYPE" in str(e.value)
        with pytest.raises(redis.ResponseError) as e:
            c.execute_command("BLMPOP", "0", "0", "k", "LEFT")
        assert str(e.value) == "numkeys should be greater than 0"


def test_immediate_data_and_timeout(server, redis_ref):
    for c in (server, redis_ref):
        c.delete("a", "b")
        c.rpush("b", "1", "2")
        assert c.blpop(["a", "b"], 1) == (b"b", b"1")
        assert c.brpop(["a", "b"], 1) == (b"b", b"2")
        t0 = time.time()
        assert c.blpop(["a", "b"], 0.2) is None
        assert 0.15 <= time.time() - t0 < 2
        assert c.execute_command("BLMPOP", "0.1", "2", "a", "b",
                                 "LEFT") is None


@pytest.mark.parametrize("shard", range(SHARDS))
def test_push_from_another_connection_wakes(apiary, shard):
    k = key_on(shard, "wake", SHARDS)
    waiter, pusher = apiary.client(), apiary.client()
    get = later(waiter.blpop, [k], 5)
    wait_blocked(pusher, 1)
    assert pusher.rpush(k, "x") == 1
    assert get() == (k.encode(), b"x")
    assert pusher.exists(k) == 0


def test_waiters_are_served_in_order(apiary):
    k = key_on(SHARDS - 1, "fifo", SHARDS)
    c = apiary.client()
    gets = []
    for i in range(3):
        gets.append(later(apiary.client().blpop, [k], 10))
        wait_blocked(c, i + 1)
    c.rpush(k, "a", "b", "c")
    assert [g()[1] for g in gets] == [b"a", b"b", b"c"]


def test_blmove_between_shards_is_atomic(apiary):
    src = key_on(0, "src", SHARDS)
    dst = key_on(SHARDS - 1, "dst", SHARDS)
    c = apiary.client()
    get = later(apiary.client().blmove, src, dst, 5, "LEFT", "RIGHT")
    time.sleep(0.1)
    c.rpush(src, "v")
    assert get() == b"v"
    assert c.lrange(dst, 0, -1) == [b"v"] and c.exists(src) == 0
    # With data already there: moved at once; timeouts answer null.
    c.rpush(src, "w")
    assert c.brpoplpush(src, dst, 1) == b"w"
    t0 = time.time()
    assert c.blmove(src, dst, 0.2, "LEFT", "LEFT") is None
    assert time.time() - t0 >= 0.15


def test_blocking_inside_multi_does_not_block(server):
    p = server.pipeline(transaction=True)
    p.blpop(["nothing"], 0).brpoplpush("nothing", "x", 0)
    assert p.execute() == [None, None]


def test_client_unblock(apiary):
    c = apiary.client()
    w = apiary.client()
    wid = w.client_id()
    get = later(w.blpop, ["never"], 0)
    wait_blocked(c, 1)
    info = c.info("clients")
    assert info["blocked_clients"] == 1
    assert info["total_blocking_keys"] == 1
    assert c.client_unblock(wid) == 1
    assert get() is None
    assert c.client_unblock(wid) == 0  # not blocked any more
    assert c.info("clients")["blocked_clients"] == 0
    get = later(w.blpop, ["never"], 0)
    wait_blocked(c, 1)
    assert c.client_unblock(wid, error=True) == 1
    with pytest.raises(redis.ResponseError) as e:
        get()
    assert "UNBLOCKED" in str(e.value)


@pytest.mark.parametrize("shard", range(SHARDS))
def test_disconnected_waiter_takes_nothing(apiary, shard):
    """Whichever shard the connection lands on, and whichever owns the
    key (local waiter or a batch parked on another shard)."""
    k = key_on(shard, "gone", SHARDS)
    c = apiary.client()
    socks = [socket.create_connection(("127.0.0.1", apiary.port))
             for _ in range(SHARDS)]
    for s in socks:
        s.sendall(b"*3\r\n$5\r\nBLPOP\r\n$%d\r\n%s\r\n$1\r\n0\r\n"
                  % (len(k), k.encode()))
    wait_blocked(c, SHARDS)
    for s in socks:
        s.close()
    time.sleep(0.2)
    c.rpush(k, "kept")
    time.sleep(0.1)
    assert c.lrange(k, 0, -1) == [b"kept"]


def test_many_waiters_many_pushers(apiary):
    """Every pushed element reaches exactly one waiter."""
    keys = [key_on(i % SHARDS, "mq%d" % i, SHARDS) for i in range(4)]
    n_waiters, per = 8, 25
    got = []
    lock = threading.Lock()

    def waiter():
        c = apiary.client()
        while True:
            r = c.blpop(keys, 5)
            if r is None or r[1] == b"stop":
                return
            with lock:
                got.append(r[1])

    ts = [threading.Thread(target=waiter) for _ in range(n_waiters)]
    for t in ts:
        t.start()
    p = apiary.client()
    sent = []
    for i in range(n_waiters * per):
        v = b"v%d" % i
        p.rpush(keys[i % len(keys)], v)
        sent.append(v)
    for _ in range(n_waiters):
        p.rpush(keys[0], "stop")
    for t in ts:
        t.join(30)
    # Waiters stop at the first "stop": what they left is still listed.
    left = [v for k in keys for v in p.lrange(k, 0, -1) if v != b"stop"]
    assert len(set(got)) == len(got)
    assert sorted(got + left) == sorted(sent)
    assert len(got) >= len(sent) // 4


def test_sorted_set_pops_like_redis(server, redis_ref):
    for c in (server, redis_ref):
        c.delete("z1", "z2")
        c.zadd("z2", {"a": 1, "b": 2.5, "c": 3})
        assert c.bzpopmin(["z1", "z2"], 1) == (b"z2", b"a", 1.0)
        assert c.bzpopmax(["z1", "z2"], 1) == (b"z2", b"c", 3.0)
        assert c.execute_command("BZMPOP", "1", "2", "z1", "z2", "MIN",
                                 "COUNT", "5") == [b"z2", [[b"b", b"2.5"]]]
        assert c.bzpopmin(["z1", "z2"], 0.1) is None
        with pytest.raises(redis.ResponseError) as e:
            c.execute_command("BZMPOP", "1", "1", "z1", "MIDDLE")
        assert str(e.value) == "syntax error"


@pytest.mark.parametrize("shard", range(SHARDS))
def test_zadd_wakes_bzpopmin(apiary, shard):
    k = key_on(shard, "zw", SHARDS)
    waiter, adder = apiary.client(), apiary.client()
    get = later(waiter.bzpopmin, [k], 5)
    wait_blocked(adder, 1)
    adder.zadd(k, {"m": 7})
    assert get() == (k.encode(), b"m", 7.0)
    get = later(waiter.execute_command, "BZMPOP", "5", "1", k, "MAX")
    wait_blocked(adder, 1)
    adder.zadd(k, {"x": 1, "y": 2})
    assert get() == [k.encode(), [[b"y", b"2"]]]


def test_spanning_waiters_wake_on_push_and_take_turns(make_server):
    """BLMOVEs from a list on shard 0 to lists on shard 1 (spanning
    transactions) wake when a push lands on shard 0, from any connection:
    20 pushes feed 4 waiters 5 times each, nothing is lost or doubled, and
    the waiters' notify registrations do not pile up on the owner shard
    (blocked_clients returns to 0 at the end)."""
    srv = make_server(shards=2)
    src = key_on(0, "src", 2)
    dsts = [key_on(1, "dst%d" % i, 2) for i in range(4)]
    c = srv.client()
    got = {d: [] for d in dsts}

    def mover(d):
        w = srv.client()
        for _ in range(5):
            v = w.blmove(src, d, 10, "LEFT", "RIGHT")
            assert v is not None, "a BLMOVE timed out"
            got[d].append(v)

    threads = [threading.Thread(target=mover, args=(d,)) for d in dsts]
    for t in threads:
        t.start()
    for i in range(20):
        wait_blocked(c, 1)
        c.rpush(src, "v%d" % i)
        time.sleep(0.005)
    for t in threads:
        t.join(30)
        assert not t.is_alive(), "a waiter is still blocked"
    moved = sorted(v for d in dsts for v in got[d])
    assert moved == sorted(b"v%d" % i for i in range(20))
    for d in dsts:
        assert c.lrange(d, 0, -1) == got[d]
    assert c.exists(src) == 0
    assert blocked_count(c) == 0
