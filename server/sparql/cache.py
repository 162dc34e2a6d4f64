"""Finished SPARQL answers kept in memory, so a repeated query costs no worker round trip.

A build is immutable, so an answer stays right for as long as its build is served: the cache belongs
to one build's query runner and is dropped with it when a new build is swapped in. Queries whose
answer may differ between two runs (RAND, NOW, UUID, STRUUID, BNODE) are never kept.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

from server.sparql.worker import QueryJob, QueryOutcome

# functions whose value changes from one evaluation to the next (SPARQL 1.1 §17.4)
VOLATILE = re.compile(r"\b(RAND|NOW|UUID|STRUUID|BNODE)\s*\(", re.IGNORECASE)


def _size(job: QueryJob, outcome: QueryOutcome) -> int:
    """What an entry counts against the bound: its body and its query text."""
    return len(outcome.body) + len(job.query)


def cacheable(job: QueryJob) -> bool:
    """Whether the same job is sure to get the same answer from the same build."""
    return VOLATILE.search(job.query) is None


class ResultCache:
    """A thread-safe LRU of successful answers, bounded by the total size of their bodies."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max(0, max_bytes)
        # one answer may take at most a quarter, so a few big answers cannot flush all small ones
        self.max_entry_bytes = self.max_bytes // 4
        self._entries: OrderedDict[QueryJob, QueryOutcome] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, job: QueryJob) -> QueryOutcome | None:
        with self._lock:
            outcome = self._entries.get(job)
            if outcome is None:
                self.misses += 1
                return None
            self._entries.move_to_end(job)
            self.hits += 1
            return outcome

    def put(self, job: QueryJob, outcome: QueryOutcome) -> None:
        """Keep a 200 answer of a deterministic query if it fits."""
        size = _size(job, outcome)
        if outcome.status != 200 or size > self.max_entry_bytes or not cacheable(job):
            return
        with self._lock:
            previous = self._entries.pop(job, None)
            if previous is not None:
                self._bytes -= _size(job, previous)
            self._entries[job] = outcome
            self._bytes += size
            while self._bytes > self.max_bytes:
                old_job, old = self._entries.popitem(last=False)
                self._bytes -= _size(old_job, old)

    @property
    def size(self) -> int:
        """Bytes held (bodies and query texts)."""
        with self._lock:
            return self._bytes

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
