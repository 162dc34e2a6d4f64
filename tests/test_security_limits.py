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

import itertools
import re
import select
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from tests.serving import serving

from server import create_app
from server.config import DEFAULTS
from tests.production import kg_serve, readme_production_command, waitress
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


@pytest.mark.parametrize("content_type", ["application/sparql-query", "application/x-www-form-urlencoded"])
def test_chunked_body_over_the_limit_is_413(small, content_type) -> None:
    first = b"query=SELECT%20*%20WHERE%20%7B%7D%23" if "form" in content_type else b"SELECT * {} #"
    _, status, body = streamed_post(small, "/sparql", LIMIT * 3, chunked=True, content_type=content_type, first=first)
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


def _complete(answer: bytes) -> bool:
    """Whether ``answer`` holds a whole response (head and Content-Length bytes of body)."""
    head, found, body = answer.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return bool(found and length and len(body) >= int(length.group(1)))


def streamed_post(base: str, path: str, size: int, chunked: bool, content_type: str = "application/sparql-query",
                  first: bytes = b"") -> tuple[int, int | None, bytes]:
    """POST a body of ``size`` bytes in 64 KiB blocks (chunked or with Content-Length) until the server
    answers or stops reading; return the bytes sent, the status and the answer's body. Sending stops
    as soon as an answer can be read, so a server that refuses early is seen to have read only what
    the kernel's buffers held, and a server closing the connection early loses no answer."""
    parts = urlsplit(base)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    head = f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: {content_type}\r\nConnection: close\r\n"
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {size}\r\n\r\n"
    blocks = itertools.chain([first] if first else [], itertools.repeat(b"x" * 65536))
    sent, answer = 0, b""
    try:
        sock.sendall(head.encode())
        while sent < size and not select.select([sock], [], [], 0)[0]:
            block = next(blocks)[: size - sent]
            sock.sendall(b"%x\r\n%b\r\n" % (len(block), block) if chunked else block)
            sent += len(block)
        if chunked and sent >= size:
            sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the server closed the connection: what it answered is read below
    try:
        while not _complete(answer):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    except OSError:
        pass
    finally:
        sock.close()
    match = re.match(rb"HTTP/1\.[01] (\d{3})", answer)
    return sent, int(match.group(1)) if match else None, answer.partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", ["/sparql", "/", "/massnahmen"])
def test_a_200_mb_body_is_refused_before_it_is_read(small, path, chunked) -> None:
    sent, status, answer = streamed_post(small, path, HUGE, chunked)
    assert status in ((413,) if path == "/sparql" else (405, 413)), answer[:300]
    assert sent < HUGE // 10, f"{sent} of {HUGE} bytes were sent before the answer"
    assert requests.get(small + "health", timeout=30).status_code == 200, "the server keeps serving"


def test_kg_serve_refuses_a_200_mb_body_before_reading_it(dist_dir) -> None:
    """``make serve`` / ``kg serve`` as a newcomer starts it: the same bound, from KIK_MAX_QUERY_BYTES."""
    with kg_serve(dist_dir, KIK_MAX_QUERY_BYTES=str(LIMIT)) as running:
        sent, status, answer = streamed_post(running.base, "/sparql", HUGE, chunked=False)
        assert status == 413, answer[:300]
        assert str(LIMIT).encode() in answer
        assert sent < HUGE // 10, f"{sent} of {HUGE} bytes were sent before the answer"


def test_the_readme_bounds_waitress_by_the_query_limit() -> None:
    """README.md's production start passes KIK_MAX_QUERY_BYTES (default: the server's default) to waitress."""
    command = readme_production_command()
    match = re.search(r"--max-request-body-size=\$\(\( \$\{KIK_MAX_QUERY_BYTES:-(\d+)\} \+ 1 \)\)", command)
    assert match, command
    assert int(match.group(1)) == DEFAULTS["KIK_MAX_QUERY_BYTES"]


def test_server_does_not_accept_rdfxml_bodies(small, tmp_path) -> None:
    """No route takes RDF/XML from a client (so no XML parser sees a client's entities): the SPARQL
    endpoint answers 415, others 405. The parsers' own refusal: tests/test_dependency_xxe.py."""
    from tests.test_dependency_xxe import external_entity

    body = external_entity(Path("/etc/passwd")).encode("utf-8")
    assert len(body) < LIMIT
    for path, expected in (("sparql", 415), ("catalog", 405), ("hamm/konzept/2018", 405)):
        response = requests.post(small + path, data=body, headers={"Content-Type": "application/rdf+xml"}, timeout=30)
        assert response.status_code == expected
        assert "root:" not in response.text
