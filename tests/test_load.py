"""Load: the server as in production (gunicorn, 2 worker processes × 8 threads) on loopback, 50
concurrent clients for 30 s sending a mix of SPARQL queries, dereferences and downloads.

Zero errors other than the documented 503 of /sparql (busy or time limit, with Retry-After), at
most MAX_BUSY_SHARE of the queries answered busy, every kind of request (page, query, dereference,
download) answered at least MIN_ANSWERS times, and /health answers "ok" throughout. The figures (p50/p99 latency, requests/s, memory of the whole
process tree) are written to docs/benchmarks.md in a section of their own.

Marked ``load``: deselected in normal runs, run with ``pytest -m load`` (by .ci/run).
"""

from __future__ import annotations

import itertools
import os
import platform
import threading
import time
from datetime import UTC, datetime

import pytest
import requests

from tests.conftest import REPOSITORY
from tests.production import gunicorn, tree_rss_bytes

CLIENTS = 50
MAX_BUSY_SHARE = 0.25  # a server that refused every query would pass a test that only counts 503s
MIN_ANSWERS = CLIENTS  # per kind: each client's cycle reaches every kind several times in 30 s
KINDS = {"page", "query", "dereference", "download"}
SECONDS = 30.0
WORKERS, THREADS, QUERIES_PER_WORKER = 2, 8, 2
BENCHMARKS = REPOSITORY / "docs" / "benchmarks.md"
HEADING = "## Load test (issue 7): 50 concurrent clients against gunicorn"
KIK = "PREFIX kik: <https://w3id.org/kik/ontology#> PREFIX dct: <http://purl.org/dc/terms/> "
QUERIES = [
    KIK + "SELECT ?m ?t WHERE { ?m a kik:Measure ; dct:title ?t } LIMIT 50",
    KIK + "SELECT (COUNT(?m) AS ?n) WHERE { ?m a kik:Measure }",
    KIK + "SELECT ?c (COUNT(?m) AS ?n) WHERE { ?m kik:addressesChallenge ?c } GROUP BY ?c ORDER BY DESC(?n)",
    "ASK { ?s ?p ?o }",
    KIK + "CONSTRUCT { ?m dct:title ?t } WHERE { ?m a kik:Measure ; dct:title ?t } LIMIT 20",
]
# (kind, method, path, params, headers)
MIX = [
    *[("query", "/sparql", {"query": q}, {"Accept": "application/sparql-results+json, text/turtle;q=0.9"}) for q in QUERIES],
    ("dereference", "/hamm/konzept/2018", {}, {"Accept": "text/turtle"}),
    ("dereference", "/hamm/konzept/2018", {}, {"Accept": "text/html"}),
    ("dereference", "/catalog", {}, {"Accept": "application/ld+json"}),
    ("page", "/", {}, {"Accept": "text/html"}),
    ("page", "/massnahmen", {}, {"Accept": "text/html"}),
    ("download", "/download/kg.ttl", {}, {}),
    ("download", "/download/kg.nq.gz", {}, {}),
    ("download", "/download/SHA256SUMS", {}, {}),
]


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = {}
        self.busy = 0
        self.errors: list[str] = []
        self.sent: dict[str, int] = {}

    def record(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)


def client(base: str, tally: Tally, start: int, stop_at: float) -> None:
    session = requests.Session()
    for kind, path, params, headers in itertools.islice(itertools.cycle(MIX), start, None):
        if time.monotonic() >= stop_at:
            return
        began = time.monotonic()
        with tally.lock:
            tally.sent[kind] = tally.sent.get(kind, 0) + 1
        try:
            response = session.get(base + path.lstrip("/"), params=params, headers=headers, timeout=60)
            _ = response.content  # read the whole body, as a client does
        except requests.RequestException as error:
            with tally.lock:
                tally.errors.append(f"{kind} {path}: {error}")
            continue
        elapsed = time.monotonic() - began
        if response.status_code == 503 and path == "/sparql" and response.headers.get("Retry-After"):
            with tally.lock:
                tally.busy += 1
        elif response.status_code != 200:
            with tally.lock:
                tally.errors.append(f"{kind} {path}: {response.status_code} {response.text[:200]}")
        else:
            tally.record(kind, elapsed)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def write_section(text: str) -> None:
    """Replace (or append) only this test's section of docs/benchmarks.md."""
    current = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else ""
    if HEADING in current:
        start = current.index(HEADING)
        following = current.find("\n## ", start + len(HEADING))
        current = current[:start] + current[following + 1:] if following != -1 else current[:start]
    if current and not current.endswith("\n\n"):
        current = current.rstrip("\n") + "\n\n"
    BENCHMARKS.write_text(current + text, encoding="utf-8")


@pytest.mark.load
def test_fifty_clients_for_thirty_seconds(dist_dir) -> None:
    tally = Tally()
    health: list[str] = []
    with gunicorn(dist_dir, workers=WORKERS, threads=THREADS, KIK_MAX_CONCURRENT_QUERIES=str(QUERIES_PER_WORKER),
                  KIK_QUERY_TIMEOUT="10") as server:
        for kind, path, params, headers in MIX:  # warm up: query workers started, caches filled
            requests.get(server.base + path.lstrip("/"), params=params, headers=headers, timeout=120)
        stop_at = time.monotonic() + SECONDS
        threads = [threading.Thread(target=client, args=(server.base, tally, n, stop_at)) for n in range(CLIENTS)]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        peak_rss = 0
        while time.monotonic() < stop_at:
            try:
                answer = requests.get(server.base + "health", timeout=30)
                health.append(answer.json()["status"] if answer.status_code == 200 else str(answer.status_code))
            except requests.RequestException as error:
                health.append(str(error))
            peak_rss = max(peak_rss, tree_rss_bytes(server.process.pid))
            time.sleep(1.0)
        for thread in threads:
            thread.join(timeout=120)
        duration = time.monotonic() - began
        assert not any(thread.is_alive() for thread in threads)

    assert tally.errors == [], tally.errors[:10]
    assert health and set(health) == {"ok"}, health
    every = [value for values in tally.latencies.values() for value in values]
    assert len(every) > CLIENTS, "the clients got answers"
    assert set(tally.latencies) == KINDS == {row[0] for row in MIX}
    answered = {kind: len(values) for kind, values in tally.latencies.items()}
    assert all(count >= MIN_ANSWERS for count in answered.values()), answered
    assert tally.busy <= MAX_BUSY_SHARE * tally.sent["query"], (tally.busy, tally.sent)

    rows = [f"| {kind} | {len(values)} | {percentile(values, 0.5) * 1000:.0f} | {percentile(values, 0.99) * 1000:.0f} |"
            for kind, values in sorted(tally.latencies.items())]
    write_section("\n".join([
        HEADING,
        "",
        (f"Written by `tests/test_load.py` (`pytest -m load`), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
         f"on {os.cpu_count()} CPU cores, Python {platform.python_version()}. Server as in production: "
         f"`gunicorn --workers {WORKERS} --threads {THREADS} --worker-class gthread server.wsgi:app`, "
         f"KIK_MAX_CONCURRENT_QUERIES={QUERIES_PER_WORKER} per worker; build of Hamm and Musterstadt. "
         f"{CLIENTS} clients on loopback for {SECONDS:.0f} s, each cycling through SPARQL queries, dereferences "
         "(Turtle, HTML, JSON-LD), pages and downloads."),
        "",
        (f"- answered: {len(every)} requests, {len(every) / duration:.1f} requests/s; "
         f"documented 503 (queries busy, Retry-After): {tally.busy}; other errors: {len(tally.errors)}"),
        (f"- latency over all answered requests: p50 {percentile(every, 0.5) * 1000:.0f} ms, "
         f"p99 {percentile(every, 0.99) * 1000:.0f} ms"),
        f"- memory (RSS of gunicorn, its workers and their query workers), peak: {peak_rss / 2**20:.0f} MiB",
        f"- /health checked {len(health)} times during the run: always \"ok\"",
        "",
        "| kind | answered | p50 ms | p99 ms |",
        "|---|---:|---:|---:|",
        *rows,
        "",
    ]))
