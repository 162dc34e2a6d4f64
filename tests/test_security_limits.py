"""Request bodies are bounded on every route (KIK_MAX_QUERY_BYTES), with a 413 and a message.

Time, result rows and concurrent queries are covered by tests/test_sparql_limits.py; this file adds
the body size for each way a body can arrive: with Content-Length, chunked without it, as a form,
and on routes that take no body at all. Every test runs on the development server (werkzeug, as
``kg serve`` runs it) and on the production server (waitress with README.md's options, whose
``--max-request-body-size`` follows KIK_MAX_QUERY_BYTES). Over the bound, waitress answers the 413
itself, before the application sees the request: plain text naming the bound, without the
application's headers; everything else is the application's answer.
"""

from __future__ import annotations

import http.client
import re
import select
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from tests.serving import serving

from server import create_app
from server.config import DEFAULTS
from tests.production import readme_production_command, waitress
from tests.test_security_headers import check_headers

LIMIT = 2_000
HUGE = 200 * 1024 * 1024  # a body far beyond any bound; streamed, never built in memory
WAITRESS_413 = f"exceeds max_body of {LIMIT + 1}"  # waitress refuses a body of its bound itself


@pytest.fixture(scope="module", params=["development", "production"])
def small(request, dist_dir) -> Iterator[str]:
    """A server whose body limit is LIMIT bytes (KIK_MAX_QUERY_BYTES), development or production."""
    if request.param == "development":
        app = create_app({"KIK_DIST": str(dist_dir), "KIK_MAX_QUERY_BYTES": LIMIT})
        with serving(app) as base:
            yield base
    else:
        with waitress(dist_dir, KIK_MAX_QUERY_BYTES=str(LIMIT)) as running:
            yield running.base


def check_refusal(response_text: str, headers: dict | requests.Response | None = None) -> None:
    """A 413 body names the bound: the application's page (with its headers) or waitress's own."""
    if WAITRESS_413 in response_text:
        return
    assert str(LIMIT) in response_text, response_text
    if isinstance(headers, requests.Response):
        check_headers(headers)


def big_query() -> str:
    return "SELECT * WHERE { ?s ?p ?o } # " + "x" * (LIMIT * 2)


def test_flask_body_limit_is_the_query_limit(app) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == app.config["KIK_MAX_QUERY_BYTES"]


@pytest.mark.parametrize("content_type", ["application/sparql-query", "application/x-www-form-urlencoded"])
def test_large_sparql_post_is_413(small, content_type) -> None:
    body = big_query() if content_type == "application/sparql-query" else "query=" + big_query()
    response = requests.post(small + "sparql", data=body.encode(), headers={"Content-Type": content_type}, timeout=30)
    assert response.status_code == 413
    check_refusal(response.text, response)


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
    check_refusal(body.decode())


@pytest.mark.parametrize("path", ["", "massnahmen", "vergleich", "profil.svg", "catalog", "download/kg.ttl",
                                  "hamm/konzept/2018", "health", "openapi.json", "context.jsonld"])
def test_routes_without_a_body_refuse_large_posts(small, path) -> None:
    response = requests.post(small + path, data=b"x" * (LIMIT * 5), headers={"Content-Type": "application/octet-stream"},
                             timeout=30)
    assert response.status_code in (405, 413), (path, response.status_code)
    if response.status_code == 413:
        check_refusal(response.text, response)
    else:
        assert response.text.strip()
        check_headers(response)


def test_small_queries_still_pass(small) -> None:
    response = requests.post(small + "sparql", data={"query": "ASK { ?s ?p ?o }"},
                             headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert response.status_code == 200
    assert response.json()["boolean"] is True


def test_a_body_at_the_limit_still_passes(small) -> None:
    """The bound is the limit, not below it: a query of exactly LIMIT bytes is read and answered."""
    query = "ASK { ?s ?p ?o } #"
    body = (query + "x" * (LIMIT - len(query))).encode()
    assert len(body) == LIMIT
    response = requests.post(small + "sparql", data=body, timeout=60,
                             headers={"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    assert response.json()["boolean"] is True


def huge_post(base: str, path: str, chunked: bool) -> tuple[int, bytes]:
    """Stream a HUGE body (64 KiB blocks) until the server answers or stops reading; return the bytes
    sent and the answer. Sending stops as soon as an answer can be read, so a server that refuses
    early is seen to have read only what the kernel's buffers held."""
    parts = urlsplit(base)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    head = f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/sparql-query\r\n"
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {HUGE}\r\n\r\n"
    block = b"x" * 65536
    frame = b"%x\r\n%b\r\n" % (len(block), block) if chunked else block
    sent, answer = 0, b""
    try:
        sock.sendall(head.encode())
        while sent < HUGE and not select.select([sock], [], [], 0)[0]:
            sock.sendall(frame)
            sent += len(block)
    except OSError:
        pass  # the server closed the connection: what it answered is read below
    try:
        while b"\r\n\r\n" not in answer or len(answer) < 120:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    except OSError:
        pass
    finally:
        sock.close()
    return sent, answer


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", ["/sparql", "/", "/massnahmen"])
def test_a_200_mb_body_is_refused_before_it_is_read(small, path, chunked) -> None:
    sent, answer = huge_post(small, path, chunked)
    status = int(re.match(rb"HTTP/1\.[01] (\d{3})", answer).group(1)) if answer.startswith(b"HTTP/") else None
    assert status in ((413,) if path == "/sparql" else (405, 413)), answer[:300]
    assert sent < HUGE // 10, f"{sent} of {HUGE} bytes were sent before the answer"
    assert requests.get(small + "health", timeout=30).status_code == 200, "the server keeps serving"


def test_the_readme_bounds_waitress_by_the_query_limit() -> None:
    """README.md's production start passes KIK_MAX_QUERY_BYTES (default: the server's default) to waitress."""
    command = readme_production_command()
    match = re.search(r"--max-request-body-size=\$\(\( \$\{KIK_MAX_QUERY_BYTES:-(\d+)\} \+ 1 \)\)", command)
    assert match, command
    assert int(match.group(1)) == DEFAULTS["KIK_MAX_QUERY_BYTES"]
