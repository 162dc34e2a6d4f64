"""Hypothesis: random SPARQL texts and Accept headers never make /sparql or a resource path fail.

Every answer is a 200 or a 4xx with a message (or the documented 503 with Retry-After), never a 500,
and a 4xx carries no stack trace.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server import create_app

KEYWORDS = ["SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "FILTER", "OPTIONAL", "UNION", "GRAPH", "SERVICE",
            "LOAD", "INSERT", "DELETE", "PREFIX", "BASE", "LIMIT", "OFFSET", "ORDER BY", "GROUP BY", "VALUES",
            "BIND", "EXISTS", "MINUS", "FROM", "NAMED", "*", "{", "}", "(", ")", ".", ";", ",", "?s", "?p", "?o",
            "<https://w3id.org/kik/hamm/konzept/2018>", "kik:Measure", '"x"@de', "1", "a", "#", "\\u0000", "'''",
            "<>", "<javascript:alert(1)>", "REGEX(?o, \"(a+)+$\")", "STR(", "COUNT(*)", "AS", "?n", "\n"]
TOKENS = st.lists(st.sampled_from(KEYWORDS), min_size=1, max_size=25).map(" ".join)
QUERIES = st.one_of(TOKENS, st.text(max_size=300), st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
MEDIA = ["text/html", "text/turtle", "application/ld+json", "application/sparql-results+json", "text/csv",
         "application/rdf+xml", "application/n-triples", "text/plain", "*/*", "image/png", "application/*", "text/*"]
ACCEPT_ITEM = st.builds(lambda m, q: m + (f";q={q}" if q is not None else ""), st.sampled_from(MEDIA),
                        st.one_of(st.none(), st.sampled_from(["0", "0.5", "1", "1.0", "2", "-1", "abc", ""])))
ACCEPTS = st.one_of(st.lists(ACCEPT_ITEM, max_size=5).map(", ".join),
                    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80))
LEAKS = ("Traceback", 'File "', "site-packages")
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def client(dist_dir):
    app = create_app({"KIK_DIST": str(dist_dir), "KIK_QUERY_TIMEOUT": 2.0, "KIK_MAX_CONCURRENT_QUERIES": 2,
                      "KIK_MAX_RESULT_ROWS": 500})
    yield app.test_client()
    runner = app.extensions.get("kik.query_runner")
    if runner is not None:
        runner.close()


def check(response, allow_503: bool = False) -> None:
    status = response.status_code
    assert status < 500 or (allow_503 and status == 503 and response.headers.get("Retry-After")), status
    if status >= 400:
        text = response.get_data(as_text=True)
        assert text.strip(), "a refusal says why"
        assert not any(leak in text for leak in LEAKS), text[:300]


@given(query=QUERIES, accept=ACCEPTS)
@SETTINGS
def test_sparql_get_never_fails(client, query, accept) -> None:
    check(client.get("/sparql", query_string={"query": query}, headers={"Accept": accept}), allow_503=True)


@given(query=QUERIES, accept=ACCEPTS, form=st.booleans())
@SETTINGS
def test_sparql_post_never_fails(client, query, accept, form) -> None:
    if form:
        response = client.post("/sparql", data={"query": query}, headers={"Accept": accept})
    else:
        response = client.post("/sparql", data=query.encode("utf-8", "surrogatepass"),
                               headers={"Accept": accept, "Content-Type": "application/sparql-query"})
    check(response, allow_503=True)


@given(accept=ACCEPTS, fmt=st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["ttl", "html", "jsonld", "TTL"])),
       path=st.sampled_from(["hamm/konzept/2018", "catalog", "ontology", ".well-known/void", "hamm/gibt-es-nicht"]))
@SETTINGS
def test_resource_negotiation_never_fails(client, accept, fmt, path) -> None:
    query = {"format": fmt} if fmt is not None else {}
    check(client.get("/" + path, query_string=query, headers={"Accept": accept}))


@given(path=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60))
@SETTINGS
def test_any_path_never_fails(client, path) -> None:
    check(client.get("/" + path.lstrip("/"), headers={"Accept": "text/html"}))
