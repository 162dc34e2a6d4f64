"""Forked worker pools that end without killing a worker.

``multiprocessing.Pool`` used as a context manager calls ``terminate()`` on exit, even after every
result has arrived: an idle worker killed while it holds the task queue's read lock leaves its
siblings blocked on that lock, and the build waits forever in ``join()`` (seen in the test suite,
where the build runs in a process that also serves HTTP). Here a pool that finished its work is
closed and joined, so every worker takes its sentinel and exits by itself; only an error terminates.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.pool import Pool
from typing import Any


@contextmanager
def forked_pool(processes: int, **options: Any) -> Iterator[Pool]:
    """A ``fork`` pool (workers inherit the caller's module state) that closes gracefully."""
    pool = multiprocessing.get_context("fork").Pool(processes, **options)
    try:
        yield pool
    except BaseException:
        pool.terminate()
        pool.join()
        raise
    pool.close()
    pool.join()
