"""Limits that keep /sparql up: a time limit that really stops a query, result rows, concurrency.

Each test builds its own app with short limits and stops its worker processes afterwards.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
import requests
from tests.serving import serving
from tests.workers import RUNAWAY, hold_the_only_worker

from server import create_app
from server.sparql.endpoint import get_runner

SIMPLE = "PREFIX kik: <https://w3id.org/kik/ontology#> ASK { ?m a kik:Measure }"


def _serve(app) -> Iterator[str]:
    with serving(app) as base:
        yield f"{base}sparql"


@pytest.fixture
def limited_app(dist_dir):
    return create_app({"KIK_DIST": str(dist_dir), "TESTING": True, "KIK_QUERY_TIMEOUT": 1.0,
                       "KIK_MAX_CONCURRENT_QUERIES": 2, "KIK_MAX_RESULT_ROWS": 5, "KIK_RESULT_CACHE_MB": 0})


@pytest.fixture
def limited(limited_app) -> Iterator[str]:
    yield from _serve(limited_app)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a killed child that is not reaped yet is a zombie: not running
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_runaway_query_is_stopped_while_a_simple_query_is_answered(limited, limited_app):
    runner = get_runner(limited_app)
    assert requests.get(limited, params={"query": SIMPLE}).status_code == 200  # workers are up
    finished: list[str] = []
    answers: dict[str, requests.Response] = {}

    def runaway() -> None:
        answers["runaway"] = requests.get(limited, params={"query": RUNAWAY}, timeout=60)
        finished.append("runaway")

    thread = threading.Thread(target=runaway)
    thread.start()
    simple = requests.get(limited, params={"query": SIMPLE}, timeout=60)
    finished.append("simple")
    thread.join(timeout=60)

    assert simple.status_code == 200 and simple.json()["boolean"] is True
    assert finished == ["simple", "runaway"]
    stopped = answers["runaway"]
    assert stopped.status_code == 503
    assert "time limit" in stopped.text
    assert stopped.headers["Retry-After"].isdigit()
    assert runner.replaced == 1
    # the endpoint keeps answering, with a fresh worker in place of the killed one
    for _ in range(4):
        assert requests.get(limited, params={"query": SIMPLE}, timeout=60).status_code == 200


def test_killed_worker_process_is_gone_and_all_stop_at_close(limited_app):
    runner = get_runner(limited_app)
    client = limited_app.test_client()
    assert client.get("/sparql", query_string={"query": SIMPLE}).status_code == 200
    before = set(runner.pids())
    assert client.get("/sparql", query_string={"query": RUNAWAY}).status_code == 503
    assert client.get("/sparql", query_string={"query": SIMPLE}).status_code == 200
    killed = before - set(runner.pids())
    assert len(killed) == 1 and not _alive(killed.pop())
    pids = runner.pids()
    runner.close()
    assert pids and not any(_alive(pid) for pid in pids)


def test_more_queries_than_workers_get_503_with_retry_after(dist_dir):
    """Beyond the workers and a short wait in the queue, the endpoint refuses at once with 503."""
    app = create_app({"KIK_DIST": str(dist_dir), "TESTING": True, "KIK_QUERY_TIMEOUT": 2.0,
                      "KIK_MAX_CONCURRENT_QUERIES": 1, "KIK_QUERY_QUEUE_SECONDS": 0.2, "KIK_RESULT_CACHE_MB": 0})
    runner = get_runner(app)
    for url in _serve(app):
        assert requests.get(url, params={"query": SIMPLE}).status_code == 200
        answers: dict = {}
        thread = hold_the_only_worker(url, runner, answers)
        busy = requests.get(url, params={"query": SIMPLE}, timeout=60)
        thread.join(timeout=60)
        assert answers["runaway"].status_code == 503 and "time limit" in answers["runaway"].text
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == "1"
        assert "already running" in busy.text and "0.2 s" in busy.text
        assert requests.get(url, params={"query": SIMPLE}, timeout=60).status_code == 200


def test_a_query_waits_in_the_queue_for_a_free_worker(dist_dir):
    """A query that finds every worker busy waits for one instead of being refused."""
    app = create_app({"KIK_DIST": str(dist_dir), "TESTING": True, "KIK_QUERY_TIMEOUT": 1.0,
                      "KIK_MAX_CONCURRENT_QUERIES": 1, "KIK_QUERY_QUEUE_SECONDS": 30, "KIK_RESULT_CACHE_MB": 0})
    runner = get_runner(app)
    for url in _serve(app):
        assert requests.get(url, params={"query": SIMPLE}).status_code == 200
        answers: dict = {}
        thread = hold_the_only_worker(url, runner, answers)
        queued = requests.get(url, params={"query": SIMPLE}, timeout=60)
        answers["order"].append("queued")
        thread.join(timeout=60)
        assert answers["runaway"].status_code == 503 and "time limit" in answers["runaway"].text
        assert queued.status_code == 200 and queued.json()["boolean"] is True
        assert answers["order"] == ["runaway", "queued"]
        assert runner.replaced == 1


def test_result_row_limit_is_a_clear_error(limited_app):
    client = limited_app.test_client()
    try:
        too_many = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }"})
        assert too_many.status_code == 400
        assert "more than 5 rows" in too_many.get_data(as_text=True)
        assert "LIMIT" in too_many.get_data(as_text=True)
        within = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 5", "format": "csv"})
        assert within.status_code == 200
        assert len(within.get_data(as_text=True).strip().splitlines()) == 6
        graph = client.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }"})
        assert graph.status_code == 400 and "more than 5 triples" in graph.get_data(as_text=True)
    finally:
        get_runner(limited_app).close()
