"""Request bodies are bounded on every route (KIK_MAX_QUERY_BYTES), with a 413 and a message.

Time, result rows and concurrent queries are covered by tests/test_sparql_limits.py; this file adds
the body size for each way a body can arrive: with Content-Length, chunked without it, as a form,
and on routes that take no body at all.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from tests.serving import serving

from server import create_app
from tests.test_security_headers import check_headers

LIMIT = 2_000


@pytest.fixture(scope="module")
def small(dist_dir) -> Iterator[str]:
    """A server whose body limit is LIMIT bytes."""
    app = create_app({"KIK_DIST": str(dist_dir), "KIK_MAX_QUERY_BYTES": LIMIT})
    with serving(app) as base:
        yield base


def big_query() -> str:
    return "SELECT * WHERE { ?s ?p ?o } # " + "x" * (LIMIT * 2)


def test_flask_body_limit_is_the_query_limit(app) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == app.config["KIK_MAX_QUERY_BYTES"]


@pytest.mark.parametrize("content_type", ["application/sparql-query", "application/x-www-form-urlencoded"])
def test_large_sparql_post_is_413(small, content_type) -> None:
    body = big_query() if content_type == "application/sparql-query" else "query=" + big_query()
    response = requests.post(small + "sparql", data=body.encode(), headers={"Content-Type": content_type}, timeout=30)
    assert response.status_code == 413
    assert str(LIMIT) in response.text
    check_headers(response)


def test_large_sparql_get_is_413(small) -> None:
    response = requests.get(small + "sparql", params={"query": big_query()}, timeout=30)
    assert response.status_code == 413 or response.status_code == 414
    assert response.text.strip()


def chunked_post(base: str, path: str, content_type: str, size: int) -> tuple[int, bytes]:
    """A POST without Content-Length (chunked): the limit must hold while reading."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        chunks = (b"query=SELECT%20*%20WHERE%20%7B%7D%23" if "form" in content_type else b"SELECT * {} #",
                  *(b"x" * 1000 for _ in range(size // 1000)))
        connection.request("POST", path, body=iter(chunks), headers={"Content-Type": content_type},
                           encode_chunked=True)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("content_type", ["application/sparql-query", "application/x-www-form-urlencoded"])
def test_chunked_body_over_the_limit_is_413(small, content_type) -> None:
    status, body = chunked_post(small, "/sparql", content_type, LIMIT * 3)
    assert status == 413, body
    assert body.strip()


@pytest.mark.parametrize("path", ["", "massnahmen", "vergleich", "profil.svg", "catalog", "download/kg.ttl",
                                  "hamm/konzept/2018", "health", "openapi.json", "context.jsonld"])
def test_routes_without_a_body_refuse_large_posts(small, path) -> None:
    response = requests.post(small + path, data=b"x" * (LIMIT * 5), headers={"Content-Type": "application/octet-stream"},
                             timeout=30)
    assert response.status_code in (405, 413), (path, response.status_code)
    assert response.text.strip()
    check_headers(response)


def test_small_queries_still_pass(small) -> None:
    response = requests.post(small + "sparql", data={"query": "ASK { ?s ?p ?o }"},
                             headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert response.status_code == 200
    assert response.json()["boolean"] is True
