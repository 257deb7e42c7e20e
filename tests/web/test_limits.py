"""The admission control of the web server (:mod:`unmask.web.limits`) and the bearer-token
check (:mod:`unmask.web.guard`), without a network or a web framework."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from unmask.web.guard import bearer_ok, discard_body
from unmask.web.limits import Overloaded, WorkPool, default_workers, trim_heap


def blocker():
    """(job, started, release): ``job()`` sets ``started`` and waits for ``release``."""
    started, release = threading.Event(), threading.Event()

    def job():
        started.set()
        assert release.wait(10)
        return "done"

    return job, started, release


def test_third_concurrent_request_is_refused():
    pool = WorkPool(workers=1, queue=1)
    job, started, release = blocker()
    first, second = pool.admit(), pool.admit()
    running = first.submit(job)
    queued = second.submit(lambda: "second")
    assert started.wait(5)
    assert pool.admitted == 2 and pool.running == 1 and not queued.done()
    with pytest.raises(Overloaded) as exc:
        pool.admit()
    assert exc.value.retry_after >= 1
    release.set()
    assert running.result(5) == "done" and queued.result(5) == "second"
    deadline = time.monotonic() + 5
    while pool.admitted and time.monotonic() < deadline:  # done callbacks run on the worker
        time.sleep(0.01)
    assert pool.admitted == 0 and pool.running == 0
    with pool.admit():  # room again
        assert pool.admitted == 1
    assert pool.admitted == 0
    pool.shutdown()


def test_no_more_than_workers_jobs_run_at_once():
    pool = WorkPool(workers=2, queue=4)
    lock, now, peak = threading.Lock(), [0], [0]

    def job():
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        time.sleep(0.05)
        with lock:
            now[0] -= 1

    futures = [pool.admit().submit(job) for _ in range(6)]
    for f in futures:
        f.result(10)
    assert peak[0] == 2
    pool.shutdown()


def test_ticket_without_job_is_released_once():
    pool = WorkPool(workers=1, queue=0)
    ticket = pool.admit()
    with pytest.raises(Overloaded):
        pool.admit()
    ticket.release()
    ticket.release()  # idempotent: does not free a place it does not hold
    assert pool.admitted == 0
    with pytest.raises(RuntimeError):
        ticket.submit(lambda: None)
    held = pool.admit()
    with pytest.raises(Overloaded):
        pool.admit()
    held.release()


def test_cancelled_queued_job_gives_its_place_back():
    pool = WorkPool(workers=1, queue=1)
    job, started, release = blocker()
    running = pool.admit().submit(job)
    assert started.wait(5)
    queued = pool.admit().submit(lambda: "never")
    assert queued.cancel() and pool.admitted == 1
    release.set()
    running.result(5)
    pool.shutdown()
    assert pool.admitted == 0


def test_retry_after_follows_the_backlog_and_job_time():
    pool = WorkPool(workers=2, queue=10)
    for _ in range(10):
        pool.admit().submit(time.sleep, 0.2).result(5)
    one = pool.retry_after()
    tickets = [pool.admit() for _ in range(12)]
    assert pool.retry_after() >= one >= 1
    with pytest.raises(Overloaded) as exc:
        pool.admit()
    assert exc.value.retry_after == pool.retry_after()
    for t in tickets:
        t.release()
    pool.shutdown()


def test_default_workers():
    assert [default_workers(n) for n in (1, 2, 3, 4, 8, 64)] == [1, 1, 1, 2, 4, 4]
    assert 1 <= default_workers() <= 4


def test_bad_sizes():
    with pytest.raises(ValueError):
        WorkPool(workers=0, queue=1)
    with pytest.raises(ValueError):
        WorkPool(workers=1, queue=-1)


def test_trim_heap_runs_on_glibc():
    import platform

    ran = trim_heap()
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert ran is True


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        ("Bearer s3cret", True),
        ("bearer  s3cret ", True),
        ("Bearer s3cre", False),
        ("Bearer s3cretX", False),
        ("Basic s3cret", False),
        ("s3cret", False),
        ("", False),
        (None, False),
    ],
)
def test_bearer_ok(header, ok):
    assert bearer_ok(header, "s3cret") is ok


def test_discard_body_stops_at_the_limit():
    chunks = [{"type": "http.request", "body": b"x" * 100, "more_body": True}] * 50
    served = []

    async def receive():
        served.append(1)
        return chunks[len(served) - 1]

    asyncio.run(discard_body(receive, limit=250))
    assert len(served) == 3  # 300 bytes read: past the limit, the rest is left unread
    served.clear()
    chunks[1] = {"type": "http.request", "body": b"end", "more_body": False}
    asyncio.run(discard_body(receive, limit=10_000))
    assert len(served) == 2
