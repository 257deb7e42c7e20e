"""Admission control for the photo endpoint: a bounded worker pool with a bounded queue.

:class:`WorkPool` runs at most ``workers`` jobs at once in its own threads and lets at most
``queue`` more wait; :meth:`WorkPool.admit` raises :class:`Overloaded` beyond that, so the server
answers 503 instead of piling up decoded photos. A request takes its :class:`Ticket` *before* it
reads the upload, so at most ``workers + queue`` uploads are held in memory and at most
``workers`` photos are decoded and processed at once. Nothing here depends on the web framework.
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import ctypes.util
import logging
import math
import os
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

_MAX_RETRY_AFTER_S = 120
_LIBC = None


def trim_heap() -> bool:
    """Hand the C heap's free memory back to the system (glibc ``malloc_trim``; returns whether
    it ran). A photo's arrays are freed when its job ends, but glibc keeps freed blocks of
    worker threads' arenas mapped; trimming keeps the idle server's memory near its idle size."""
    global _LIBC
    if _LIBC is None:
        name = ctypes.util.find_library("c")
        try:
            _LIBC = ctypes.CDLL(name) if name else False
        except OSError:
            _LIBC = False
    if not _LIBC or not hasattr(_LIBC, "malloc_trim"):
        return False
    _LIBC.malloc_trim(0)
    return True


def default_workers(cpus: int | None = None) -> int:
    """The default number of photos processed at once: half the usable CPUs, 1 to 4.

    One photo's inference already uses several cores (PyTorch / ONNX Runtime threads) and the
    model runs one photo at a time; a second worker overlaps decoding and encoding with it.
    """
    if cpus is None:
        try:
            cpus = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):  # not Linux
            cpus = os.cpu_count() or 1
    return max(1, min(4, cpus // 2))


class Overloaded(Exception):
    """Every worker is busy and the queue is full; ``retry_after`` is a suggested wait in s."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"server busy, retry in {retry_after} s")
        self.retry_after = retry_after


class Ticket:
    """One admitted request's place in a :class:`WorkPool` (running or waiting).

    The place is given back once: when the submitted job finishes (even after its caller stopped
    waiting, so a timed-out photo still counts until its thread is done), or, when nothing was
    submitted, when the ``with`` block exits or :meth:`release` is called.
    """

    def __init__(self, pool: WorkPool) -> None:
        self._pool = pool
        self._released = False
        self._submitted = False
        self._lock = threading.Lock()

    def release(self) -> None:
        """Give the place back (no-op after the first call)."""
        with self._lock:
            if self._released:
                return
            self._released = True
        self._pool._leave()

    def submit(self, fn: Callable, *args) -> concurrent.futures.Future:
        """Run ``fn(*args)`` on one of the pool's workers (once per ticket)."""
        with self._lock:
            if self._submitted or self._released:
                raise RuntimeError("a ticket runs one job")
            self._submitted = True
        future = self._pool._executor.submit(self._pool._timed, fn, *args)
        future.add_done_callback(lambda _: self.release())
        return future

    def __enter__(self) -> Ticket:
        return self

    def __exit__(self, *exc) -> None:
        if not self._submitted:
            self.release()


class WorkPool:
    """At most ``workers`` jobs at once, at most ``queue`` more waiting, :class:`Overloaded`
    beyond; ``Retry-After`` hints come from the mean job time of the recent jobs."""

    def __init__(self, workers: int, queue: int, name: str = "unmask-worker") -> None:
        if int(workers) < 1 or int(queue) < 0:
            raise ValueError(f"need workers >= 1 and queue >= 0, got {workers} and {queue}")
        self.workers = int(workers)
        self.queue = int(queue)
        pool = concurrent.futures.ThreadPoolExecutor
        self._executor = pool(self.workers, thread_name_prefix=name)
        self._lock = threading.Lock()
        self._admitted = 0
        self._running = 0
        self._mean_s = 1.0  # exponential moving average of the job time, before any job: 1 s

    @property
    def admitted(self) -> int:
        """Requests holding a ticket now (running, waiting for a worker, or reading uploads)."""
        return self._admitted

    @property
    def running(self) -> int:
        """Jobs running on a worker now."""
        return self._running

    def retry_after(self) -> int:
        """Seconds a refused client should wait: the time to drain the admitted jobs."""
        with self._lock:
            rounds = max(1, self._admitted) / self.workers
            return max(1, min(_MAX_RETRY_AFTER_S, math.ceil(rounds * self._mean_s)))

    def admit(self) -> Ticket:
        """A :class:`Ticket` for one request; raises :class:`Overloaded` when
        ``workers + queue`` requests are already admitted."""
        with self._lock:
            full = self._admitted >= self.workers + self.queue
            if not full:
                self._admitted += 1
        if full:
            raise Overloaded(self.retry_after())
        return Ticket(self)

    def _leave(self) -> None:
        with self._lock:
            self._admitted -= 1

    def _timed(self, fn: Callable, *args):
        with self._lock:
            self._running += 1
        t = time.perf_counter()
        try:
            return fn(*args)
        finally:
            trim_heap()
            dt = time.perf_counter() - t
            with self._lock:
                self._running -= 1
                self._mean_s = 0.8 * self._mean_s + 0.2 * dt

    def shutdown(self) -> None:
        """Stop the worker threads after the jobs already submitted."""
        self._executor.shutdown(wait=True, cancel_futures=False)
