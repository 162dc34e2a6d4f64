"""Answers of repeated queries come from memory; the cache never changes what an answer says."""

from __future__ import annotations

import pytest
import requests

from server import create_app
from server.sparql.worker import QueryJob, QueryOutcome
from server.sparql.cache import ResultCache, cacheable
from server.sparql.endpoint import get_runner
from tests.serving import serving
from tests.workers import hold_the_only_worker

GOALS = "PREFIX kik: <https://w3id.org/kik/ontology#> SELECT ?g WHERE { ?g a kik:StrategicGoal } ORDER BY ?g"
JSON = {"Accept": "application/sparql-results+json"}


@pytest.fixture
def one_worker(dist_dir):
    """One query worker that the runaway query can hold, no waiting queue, the cache on."""
    app = create_app({"KIK_DIST": str(dist_dir), "TESTING": True, "KIK_QUERY_TIMEOUT": 2.0,
                      "KIK_MAX_CONCURRENT_QUERIES": 1, "KIK_QUERY_QUEUE_SECONDS": 0, "KIK_RESULT_CACHE_MB": 8})
    with serving(app) as base:
        yield app, f"{base}sparql"


def test_a_repeated_query_is_answered_from_the_cache_while_every_worker_is_busy(one_worker):
    app, url = one_worker
    first = requests.get(url, params={"query": GOALS}, headers=JSON, timeout=30)
    assert first.status_code == 200 and len(first.json()["results"]["bindings"]) > 0
    runner = get_runner(app)
    answers: dict = {}
    thread = hold_the_only_worker(url, runner, answers)
    again = requests.get(url, params={"query": GOALS}, headers=JSON, timeout=30)
    new = requests.get(url, params={"query": GOALS + " LIMIT 1"}, headers=JSON, timeout=30)
    thread.join(timeout=60)
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert new.status_code == 503 and "already running" in new.text  # not cached: needs the busy worker
    assert answers["runaway"].status_code == 503
    assert runner.cache.hits >= 1


def test_each_result_format_is_its_own_entry(one_worker):
    _, url = one_worker
    as_json = requests.get(url, params={"query": GOALS}, headers=JSON, timeout=30)
    as_csv = requests.get(url, params={"query": GOALS}, headers={"Accept": "text/csv"}, timeout=30)
    again_json = requests.get(url, params={"query": GOALS}, headers=JSON, timeout=30)
    assert as_csv.headers["Content-Type"].startswith("text/csv") and as_csv.text.startswith("g\r\n")
    assert again_json.headers["Content-Type"].startswith("application/sparql-results+json")
    assert again_json.content == as_json.content


def test_volatile_queries_are_evaluated_every_time(one_worker):
    app, url = one_worker
    query = "SELECT (RAND() AS ?r) (STRUUID() AS ?u) WHERE {}"
    values = {requests.get(url, params={"query": query}, headers=JSON, timeout=30).json()["results"]["bindings"][0]["u"]["value"]
              for _ in range(3)}
    assert len(values) == 3
    assert len(get_runner(app).cache) == 0


def test_errors_are_not_kept(one_worker):
    app, url = one_worker
    for _ in range(2):
        assert requests.get(url, params={"query": "SELECT ?x WHERE {"}, timeout=30).status_code == 400
    assert len(get_runner(app).cache) == 0


def test_cache_off_by_configuration(dist_dir):
    app = create_app({"KIK_DIST": str(dist_dir), "TESTING": True, "KIK_RESULT_CACHE_MB": 0})
    try:
        assert app.test_client().get("/sparql", query_string={"query": GOALS}).status_code == 200
        assert get_runner(app).cache is None
    finally:
        get_runner(app).close()


def _outcome(size: int, status: int = 200) -> QueryOutcome:
    return QueryOutcome(status, "text/csv", b"x" * size, "select")


def test_the_cache_is_bounded_and_drops_the_least_recently_used():
    cache = ResultCache(max_bytes=1000)
    jobs = [QueryJob(f"SELECT * WHERE {{ ?s ?p {i} }}") for i in range(5)]
    for job in jobs[:4]:
        cache.put(job, _outcome(200))
    assert cache.get(jobs[0]) is not None  # now the most recently used
    cache.put(jobs[4], _outcome(200))
    assert cache.size <= 1000
    assert cache.get(jobs[1]) is None and cache.get(jobs[0]) is not None and cache.get(jobs[4]) is not None
    big = QueryJob("SELECT * WHERE { ?s ?p ?o }")
    cache.put(big, _outcome(300))  # more than a quarter of the cache
    assert cache.get(big) is None
    cache.put(QueryJob("ASK {}"), _outcome(10, status=400))
    assert cache.get(QueryJob("ASK {}")) is None


@pytest.mark.parametrize("query, expected", [
    ("SELECT * WHERE { ?s ?p ?o }", True),
    ("SELECT (now() AS ?t) {}", False),
    ("SELECT (BNODE () AS ?b) {}", False),
    ("SELECT ?s WHERE { ?s <http://example.org/randomness> ?o }", True),
])
def test_only_deterministic_queries_are_cacheable(query, expected):
    assert cacheable(QueryJob(query)) is expected
