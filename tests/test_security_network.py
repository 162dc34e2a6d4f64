"""SERVICE and LOAD never reach the network: a listener on loopback must see no connection.

Oxigraph would really call a SERVICE endpoint (and LOAD would fetch a document), so every form of
request the endpoint accepts is tried with queries that name the listener: upper and lower case,
comments, prefixed names, SERVICE SILENT, a SERVICE variable, nesting in subqueries, OPTIONAL,
UNION, MINUS, FILTER EXISTS, BIND, GRAPH, CONSTRUCT/ASK/DESCRIBE, and updates (LOAD) in every
parameter and body type. Dataset clauses (FROM, default-graph-uri) naming the listener must not
fetch either.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import requests


class Listener:
    """A TCP socket on 127.0.0.1 that records every connection it accepts."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.connections: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connection.settimeout(1)
            try:
                self.connections.append(connection.recv(4096))
            except OSError:
                self.connections.append(b"")
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.socket.close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    opened = Listener()
    try:
        yield opened
    finally:
        opened.close()


def service_queries(target: str) -> list[str]:
    """Queries that would call ``target`` if SERVICE were allowed through."""
    pattern = "?s ?p ?o"
    return [
        f"SELECT * WHERE {{ SERVICE <{target}> {{ {pattern} }} }}",
        f"select * where {{ service <{target}> {{ {pattern} }} }}",
        f"SeLeCt * WhErE {{ SeRvIcE SILENT <{target}> {{ {pattern} }} }}",
        f"SELECT * WHERE {{ # SERVICE in a comment is harmless, the next one is not\n SERVICE # here\n <{target}> {{ {pattern} }} }}",
        f"PREFIX remote: <{target}>\nSELECT * WHERE {{ SERVICE remote: {{ {pattern} }} }}",
        f"PREFIX remote: <{target}>\nSELECT * WHERE {{ SERVICE remote:sparql {{ {pattern} }} }}",
        f"BASE <{target}>\nSELECT * WHERE {{ SERVICE <> {{ {pattern} }} }}",
        f"SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{target}> {{ {pattern} }} }} }} }}",
        f"SELECT * WHERE {{ {{ SELECT ?s WHERE {{ {{ SELECT * WHERE {{ SERVICE <{target}> {{ {pattern} }} }} }} }} }} }}",
        f"SELECT * WHERE {{ VALUES ?e {{ <{target}> }} SERVICE ?e {{ {pattern} }} }}",
        f"SELECT * WHERE {{ ?a ?b ?c OPTIONAL {{ SERVICE <{target}> {{ {pattern} }} }} }} LIMIT 1",
        f"SELECT * WHERE {{ {{ ?a ?b ?c }} UNION {{ SERVICE <{target}> {{ {pattern} }} }} }} LIMIT 1",
        f"SELECT * WHERE {{ ?a ?b ?c MINUS {{ SERVICE <{target}> {{ {pattern} }} }} }} LIMIT 1",
        f"SELECT * WHERE {{ ?a ?b ?c FILTER EXISTS {{ SERVICE <{target}> {{ {pattern} }} }} }} LIMIT 1",
        f"SELECT * WHERE {{ ?a ?b ?c BIND(EXISTS {{ SERVICE <{target}> {{ {pattern} }} }} AS ?x) }} LIMIT 1",
        f"SELECT * WHERE {{ GRAPH ?g {{ SERVICE <{target}> {{ {pattern} }} }} }}",
        f"ASK {{ SERVICE <{target}> {{ {pattern} }} }}",
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{target}> {{ {pattern} }} }}",
        f"DESCRIBE ?s WHERE {{ SERVICE <{target}> {{ {pattern} }} }}",
        f"SELECT (COUNT(*) AS ?n) WHERE {{ SERVICE <{target}> {{ {pattern} }} }} GROUP BY ?s HAVING (COUNT(*) > 0)",
        f"SELECT * WHERE {{ SERVICE <http\\u003A//127.0.0.1:{target.split(':')[2]}> {{ {pattern} }} }}",
        # dataset clauses name a graph, they must not fetch it
        f"SELECT * FROM <{target}> WHERE {{ {pattern} }} LIMIT 1",
        f"SELECT * FROM NAMED <{target}> WHERE {{ GRAPH ?g {{ {pattern} }} }} LIMIT 1",
        f"DESCRIBE <{target}>",
    ]


def update_texts(target: str) -> list[str]:
    return [
        f"LOAD <{target}>",
        f"load <{target}>",
        f"LOAD SILENT <{target}> INTO GRAPH <urn:x:g>",
        f"# comment\nLOAD <{target}>",
        f"PREFIX remote: <{target}>\nLOAD remote:data",
        f"SELECT * WHERE {{ ?s ?p ?o }} ; LOAD <{target}>",
        f"INSERT DATA {{ <urn:x:s> <urn:x:p> <urn:x:o> }} ; LOAD <{target}>",
    ]


def send_every_way(base: str, text: str, parameter: str = "query") -> list[requests.Response]:
    """The text by GET, POST form and POST body (sparql-query and, for updates, sparql-update)."""
    endpoint = base + "sparql"
    accept = {"Accept": "application/sparql-results+json, text/turtle;q=0.9"}
    responses = [
        requests.get(endpoint, params={parameter: text}, headers=accept, timeout=30),
        requests.post(endpoint, data={parameter: text}, headers=accept, timeout=30),
        requests.post(endpoint, data=text.encode("utf-8"),
                      headers={**accept, "Content-Type": "application/sparql-query"}, timeout=30),
        requests.post(endpoint, data=text.encode("utf-8"),
                      headers={**accept, "Content-Type": "application/sparql-update"}, timeout=30),
    ]
    return responses


def test_service_never_reaches_the_network(live_server, listener) -> None:
    target = f"http://127.0.0.1:{listener.port}/sparql"
    statuses = []
    for query in service_queries(target):
        for response in send_every_way(live_server, query):
            assert response.status_code != 500, (query, response.text)
            statuses.append(response.status_code)
    assert listener.connections == [], "a query reached the listener"
    # the refusal is a 400 with a message (SERVICE) or an ordinary answer for dataset clauses
    assert set(statuses) <= {200, 400}


def test_service_refusal_names_the_reason(live_server, listener) -> None:
    query = f"SELECT * WHERE {{ service <http://127.0.0.1:{listener.port}/> {{ ?s ?p ?o }} }}"
    response = requests.get(live_server + "sparql", params={"query": query}, timeout=30)
    assert response.status_code == 400
    assert "SERVICE" in response.text
    assert listener.connections == []


def test_load_never_reaches_the_network(live_server, listener) -> None:
    target = f"http://127.0.0.1:{listener.port}/data.ttl"
    for text in update_texts(target):
        for parameter in ("query", "update"):
            for response in send_every_way(live_server, text, parameter):
                assert response.status_code in (400, 415), (text, parameter, response.status_code, response.text)
                assert response.text.strip(), "a refusal says why"
    assert listener.connections == [], "an update reached the listener"


def test_protocol_dataset_naming_the_listener_does_not_fetch(live_server, listener) -> None:
    target = f"http://127.0.0.1:{listener.port}/graph"
    response = requests.get(live_server + "sparql", params={
        "query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1", "default-graph-uri": target, "named-graph-uri": target,
    }, headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert response.status_code == 200
    assert response.json()["results"]["bindings"] == []
    assert listener.connections == []


def test_resource_and_page_urls_naming_the_listener_do_not_fetch(live_server, listener) -> None:
    target = f"http://127.0.0.1:{listener.port}/x"
    for path, params in (("profil.svg", {"iri": target}), ("vergleich", {"m": [target, target + "y"]}),
                         ("massnahmen", {"akteur": target}), ("catalog", {"format": "jsonld"})):
        response = requests.get(live_server + path, params=params, timeout=30)
        assert response.status_code < 500
    assert listener.connections == []


def test_the_listener_would_notice_a_connection() -> None:
    """The check above can fail: a real connection to a fresh listener is recorded."""
    probe = Listener()
    try:
        with socket.create_connection(("127.0.0.1", probe.port), timeout=5) as connection:
            connection.sendall(b"POST /sparql HTTP/1.1\r\n\r\n")
        deadline = threading.Event()
        for _ in range(50):
            if probe.connections:
                break
            deadline.wait(0.1)
        assert probe.connections and probe.connections[0].startswith(b"POST")
    finally:
        probe.close()
