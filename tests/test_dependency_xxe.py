"""Guards dependencies: the XML parsers of rdflib and pyoxigraph do not read local files (XXE).

These tests check libraries' own behaviour, not ours: they fail when an upgrade of rdflib or
pyoxigraph starts resolving external entities. No code path parses RDF/XML from untrusted input: the server parses only N-Triples it serialised
itself and the repository's Turtle; the build reads Turtle and CSV; an external store's answers are
SPARQL results from a configured endpoint. Still, should RDF/XML ever be parsed, both parsers in
use (rdflib for the build, pyoxigraph for the store) must refuse external entities: crafted files
that name a local secret file must not bring its content into the graph.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph

SECRET = "kik-xxe-secret-4b1d"


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


def external_entity(secret: Path) -> str:
    return f"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ <!ENTITY xxe SYSTEM "{secret.as_uri()}"> ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">
  <rdf:Description rdf:about="http://example.org/s"><ex:p>&xxe;</ex:p></rdf:Description>
</rdf:RDF>
"""


def parameter_entity(secret: Path, tmp_path: Path) -> str:
    dtd = tmp_path / "evil.dtd"
    dtd.write_text(f'<!ENTITY % file SYSTEM "{secret.as_uri()}"><!ENTITY xxe "%file;">', encoding="utf-8")
    return f"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ <!ENTITY % remote SYSTEM "{dtd.as_uri()}"> %remote; ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">
  <rdf:Description rdf:about="http://example.org/s"><ex:p>&xxe;</ex:p></rdf:Description>
</rdf:RDF>
"""


def sparql_results_xml(secret: Path) -> str:
    return f"""<?xml version="1.0"?>
<!DOCTYPE sparql [ <!ENTITY xxe SYSTEM "{secret.as_uri()}"> ]>
<sparql xmlns="http://www.w3.org/2005/sparql-results#">
  <head><variable name="x"/></head>
  <results><result><binding name="x"><literal>&xxe;</literal></binding></result></results>
</sparql>
"""


def rdflib_text(document: str, tmp_path: Path) -> str:
    path = tmp_path / "input.rdf"
    path.write_text(document, encoding="utf-8")
    graph = Graph()
    graph.parse(path, format="xml")  # rdflib does not resolve external entities: they parse as ""
    return graph.serialize(format="nt")


def oxigraph_text(document: str) -> str:
    try:
        return "\n".join(str(q) for q in ox.parse(document.encode("utf-8"), ox.RdfFormat.RDF_XML))
    except (SyntaxError, ValueError, OSError) as error:
        return f"refused: {error}"


@pytest.mark.parametrize("kind", ["general", "parameter"])
def test_dependency_rdflib_rdfxml_does_not_read_local_files(secret_file, tmp_path, kind) -> None:
    document = external_entity(secret_file) if kind == "general" else parameter_entity(secret_file, tmp_path)
    assert SECRET not in rdflib_text(document, tmp_path)


@pytest.mark.parametrize("kind", ["general", "parameter"])
def test_dependency_oxigraph_rdfxml_does_not_read_local_files(secret_file, tmp_path, kind) -> None:
    document = external_entity(secret_file) if kind == "general" else parameter_entity(secret_file, tmp_path)
    assert SECRET not in oxigraph_text(document)


def test_dependency_oxigraph_sparql_results_xml_does_not_read_local_files(secret_file) -> None:
    try:
        parsed = ox.parse_query_results(sparql_results_xml(secret_file).encode("utf-8"), ox.QueryResultsFormat.XML)
        text = " ".join(str(solution["x"]) for solution in parsed)
    except (SyntaxError, ValueError, OSError) as error:
        text = f"refused: {error}"
    assert SECRET not in text


def test_dependency_internal_entities_still_parse(tmp_path) -> None:
    """The parsers work on ordinary RDF/XML, so the checks above are not passing by refusing everything."""
    document = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">
  <rdf:Description rdf:about="http://example.org/s"><ex:p>plain</ex:p></rdf:Description>
</rdf:RDF>
"""
    assert "plain" in rdflib_text(document, tmp_path)
    assert "plain" in oxigraph_text(document)

