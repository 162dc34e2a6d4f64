"""A small pool of query worker processes with a time limit that really stops a query.

Oxigraph cannot be interrupted from Python, so each query runs in a worker process; when the limit
passes, the worker is killed and a fresh one is started in the background (as gunicorn replaces
workers). The number of workers is the bound on concurrent queries: beyond it, a caller waits up to
``queue_wait`` seconds for a free worker (a burst of small queries is answered, not refused) and then
gets ``Busy`` instead of queueing for ever behind slow queries. Answers of the same build may be
kept in a ``ResultCache``, so a repeated query needs no worker at all.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import threading
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from server.sparql.worker import QueryJob, QueryOutcome, serve
from server.sparql.cache import ResultCache
from server.store.embedded import StoreSpec
from server.store.interface import QueryTimeout

log = logging.getLogger(__name__)


class Busy(Exception):
    """Every worker is answering a query; try again shortly."""


class WorkerFailed(Exception):
    """The worker died or never became ready (e.g. out of memory, unreadable data)."""


def take_slot(slots: threading.Semaphore, wait: float) -> None:
    """One of the bounded query slots, waiting up to ``wait`` seconds (0: not at all); else ``Busy``."""
    if not (slots.acquire(timeout=wait) if wait else slots.acquire(blocking=False)):
        raise Busy


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection
    jobs: int = field(default=0)


def _context() -> multiprocessing.context.BaseContext:
    """forkserver: children fork from a clean, single-threaded server (safe under threaded WSGI
    servers) that has already imported pyoxigraph, so a replacement starts in milliseconds."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["server.sparql.worker"])
        return context
    return multiprocessing.get_context("spawn")


class QueryRunner:
    """Runs ``QueryJob``s in ``workers`` processes, each stopped after ``timeout`` seconds."""

    def __init__(self, spec: StoreSpec, workers: int, timeout: float, start_timeout: float = 120.0,
                 queue_wait: float = 0.0, cache: ResultCache | None = None) -> None:
        self.spec = spec
        self.size = max(1, workers)
        self.timeout = timeout
        self.queue_wait = max(0.0, queue_wait)
        self.cache = cache
        self.start_timeout = start_timeout
        self._context = _context()
        self._slots = threading.BoundedSemaphore(self.size)
        # last in, first out: the worker that just answered has the store's pages and the CPU caches
        # warm, so a steady trickle of queries keeps going to the same one (~5 % less CPU in workers)
        self._idle: queue.Queue[_Worker] = queue.LifoQueue()
        self._workers: set[_Worker] = set()
        self._lock = threading.Lock()
        self._started = False
        self._closed = False
        self.replaced = 0
        self.running = 0  # queries being evaluated right now (for monitoring and tests)

    # life cycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start every worker in the background; queries wait for the first ready one."""
        with self._lock:
            if self._started or self._closed:
                return
            self._started = True
        for _ in range(self.size):
            self._spawn_in_background()

    def close(self) -> None:
        """Stop all workers (at app shutdown and in tests)."""
        with self._lock:
            self._closed = True
            workers = list(self._workers)
            self._workers.clear()
        for worker in workers:
            self._stop(worker)

    def pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._workers if w.process.pid is not None]

    def _spawn_in_background(self) -> None:
        threading.Thread(target=self._spawn, name="kik-query-worker-start", daemon=True).start()

    def _spawn(self) -> None:
        parent_end, child_end = self._context.Pipe(duplex=True)
        process = self._context.Process(target=serve, args=(child_end, self.spec), name="kik-query-worker", daemon=True)
        process.start()
        child_end.close()
        worker = _Worker(process, parent_end)
        try:
            ready = parent_end.poll(self.start_timeout) and parent_end.recv()
        except (EOFError, OSError):
            ready = None
        if not ready or ready[0] != "ready":
            if not self._closed:
                log.error("query worker did not start: %s", ready[1] if ready else "no answer")
            self._stop(worker)
            return
        with self._lock:
            if self._closed:
                closed = True
            else:
                closed = False
                self._workers.add(worker)
        if closed:
            self._stop(worker)
            return
        self._idle.put(worker)

    def _stop(self, worker: _Worker) -> None:
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(timeout=5)
        worker.conn.close()

    def _replace(self, worker: _Worker) -> None:
        """Kill a worker that overran or died, and start its successor without making the caller wait."""
        with self._lock:
            self._workers.discard(worker)
            closed = self._closed
            self.replaced += 1
        self._stop(worker)
        if not closed:
            self._spawn_in_background()

    # queries ----------------------------------------------------------------------------------

    def _live_idle_worker(self) -> _Worker:
        """An idle worker that is still alive: one that died while idle (killed, out of memory) is
        replaced first, so the next query is answered instead of failing on a dead pipe."""
        while True:
            try:
                worker = self._idle.get(timeout=self.start_timeout)
            except queue.Empty:
                raise WorkerFailed("no query worker became ready") from None
            if worker.process.is_alive():
                return worker
            self._replace(worker)

    def run(self, job: QueryJob) -> QueryOutcome:
        """Answer one job, from the cache or a worker; raises Busy, QueryTimeout or WorkerFailed
        instead of hanging."""
        if self.cache is not None:
            cached = self.cache.get(job)
            if cached is not None:
                return cached
        outcome = self._evaluate(job)
        if self.cache is not None:
            self.cache.put(job, outcome)
        return outcome

    def _evaluate(self, job: QueryJob) -> QueryOutcome:
        take_slot(self._slots, self.queue_wait)
        try:
            self.start()
            worker = self._live_idle_worker()
            with self._lock:
                self.running += 1
            try:
                worker.conn.send(job)
                if not worker.conn.poll(self.timeout):
                    self._replace(worker)
                    raise QueryTimeout
                outcome = worker.conn.recv()
            except (EOFError, OSError) as error:
                self._replace(worker)
                raise WorkerFailed(f"the query worker stopped: {error}") from error
            finally:
                with self._lock:
                    self.running -= 1
            worker.jobs += 1
            self._idle.put(worker)
            return outcome
        finally:
            self._slots.release()
