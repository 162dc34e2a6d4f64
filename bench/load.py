"""A closed-loop HTTP load generator on loopback: N client threads, each with one keep-alive
connection, sending requests back to back for a fixed time.

The standard library's http.client keeps the client's own cost per request low, so on a small
machine the server (not the generator) is what is measured; it costs the same for every peer.
"""

from __future__ import annotations

import http.client
import statistics
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Request:
    """One request a client may send: a name (for per-query figures), path and headers."""

    name: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class CellResult:
    """Everything one cell (peer × dataset × concurrency) measured."""

    seconds: float
    ok: int
    errors: int
    bytes: int
    latencies: list[float]
    per_request: dict[str, list[float]]
    statuses: dict[int, int]
    cpu_ms: dict[str, float] = field(default_factory=dict)  # CPU ms per answer, filled in by the caller

    @property
    def throughput(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.bytes / self.seconds / 1e6 if self.seconds else 0.0


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0…100) by the nearest-rank method; NaN when there are no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _connect(base: urllib.parse.SplitResult, timeout: float) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(base.hostname, base.port, timeout=timeout)


def run_cell(base_url: str, requests: list[Request], clients: int, seconds: float,
             request_timeout: float = 30.0, read: Callable[[http.client.HTTPResponse], int] | None = None) -> CellResult:
    """Run ``clients`` threads for ``seconds``; each cycles through ``requests`` (offset by its
    number, so the mix is the same at any concurrency). Only 200 answers count as done."""
    base = urllib.parse.urlsplit(base_url)
    prefix = base.path.rstrip("/")
    lock = threading.Lock()
    latencies: list[float] = []
    per_request: dict[str, list[float]] = {r.name: [] for r in requests}
    statuses: dict[int, int] = {}
    totals = {"ok": 0, "errors": 0, "bytes": 0}
    start_gate = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(number: int) -> None:
        connection = _connect(base, request_timeout)
        index = number
        mine: list[tuple[str, float, int, int]] = []
        start_gate.wait()
        while time.monotonic() < deadline[0]:
            item = requests[index % len(requests)]
            index += 1
            began = time.monotonic()
            try:
                connection.request("GET", prefix + item.path, headers=item.headers)
                response = connection.getresponse()
                size = read(response) if read else len(response.read())
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
                    connection = _connect(base, request_timeout)
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = _connect(base, request_timeout)
                status, size = -1, 0
            mine.append((item.name, time.monotonic() - began, status, size))
        connection.close()
        with lock:
            for name, latency, status, size in mine:
                statuses[status] = statuses.get(status, 0) + 1
                if status == 200:
                    totals["ok"] += 1
                    totals["bytes"] += size
                    latencies.append(latency)
                    per_request[name].append(latency)
                else:
                    totals["errors"] += 1

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    deadline[0] = time.monotonic() + seconds
    began = time.monotonic()
    start_gate.wait()
    for thread in threads:
        thread.join(timeout=seconds + request_timeout + 5)
    elapsed = time.monotonic() - began
    return CellResult(elapsed, totals["ok"], totals["errors"], totals["bytes"], latencies, per_request, statuses)


def read_discarding(response: http.client.HTTPResponse) -> int:
    """Read a (large) body in blocks without keeping it; returns its size."""
    size = 0
    while True:
        block = response.read(1 << 20)
        if not block:
            return size
        size += len(block)
