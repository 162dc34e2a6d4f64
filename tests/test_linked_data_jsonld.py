"""Our JSON-LD is compacted with our @context, and expands (pyld) to exactly the Turtle's triples."""

from __future__ import annotations

import json

import pytest
from pyld import jsonld
from rdflib import Graph
from rdflib.compare import isomorphic


def expanded(document: dict) -> Graph:
    """The triples pyld reads from a JSON-LD document (context applied by pyld, not rdflib)."""
    nquads = jsonld.to_rdf(document, {"format": "application/n-quads"})
    return Graph().parse(data=nquads, format="nt")


@pytest.mark.parametrize("path", ["/hamm/konzept/2018", "/hamm/stadt", "/fiktiv/musterstadt/altersbereich/0-5",
                                  "/catalog", "/.well-known/void", "/vocab/rolle"])
def test_resource_json_ld_expands_to_the_turtle(app, path):
    client = app.test_client()
    document = json.loads(client.get(path, headers={"Accept": "application/ld+json"}).data)
    turtle = Graph().parse(data=client.get(path, headers={"Accept": "text/turtle"}).data, format="turtle")
    assert len(turtle) > 5
    assert isomorphic(expanded(document), turtle)


def test_json_ld_uses_our_readable_keys(app, dist_dir):
    document = json.loads(app.test_client().get("/hamm/konzept/2018.jsonld").data)
    ours = json.loads((dist_dir / "context.jsonld").read_text(encoding="utf-8"))["@context"]
    assert document["@context"] == ours
    keys = {key for node in document.get("@graph", [document]) for key in node}
    assert {"id", "type"} <= keys and "@id" not in keys


def test_dump_json_ld_expands_to_the_turtle_dump(dist_dir):
    document = json.loads((dist_dir / "kg.jsonld").read_text(encoding="utf-8"))
    turtle = Graph().parse(dist_dir / "kg.ttl", format="turtle")
    assert isomorphic(expanded(document), turtle)


def test_own_page_when_pages_module_has_none(app, monkeypatch):
    """Without the pages module's renderer the resource still gets a page with its triples and alternates."""
    from server.pages import views as pages

    monkeypatch.setattr(pages, "resource_html", lambda iri, lang: None, raising=False)
    response = app.test_client().get("/hamm/konzept/2018", headers={"Accept": "text/html"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "https://w3id.org/kik/hamm/konzept/2018" in text and "<table" in text
    head = text.split("</head>")[0]
    assert 'type="application/ld+json"' in head and "/hamm/konzept/2018.jsonld" in head
