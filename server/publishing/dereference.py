"""Dereferencing: every IRI under the dataset base answers on this server, in HTML or RDF.

Pattern (docs/linked-data.md): a resource IRI such as ``https://w3id.org/kik/hamm/konzept/2018``
is served at ``<public base>hamm/konzept/2018`` with status 200; the response names the
format-specific document it sent in ``Content-Location`` (``…/2018.ttl``), lists every alternate in
``Link`` headers and says ``Vary: Accept``. Sub-resources use hash IRIs (``…#zeitraum``) and come
with their parent. The same code answers for the ontology, the shapes, the catalog, VoID and the
validation report, which are documents with IRIs under the same base.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, redirect, render_template, request, send_file
from markupsafe import escape
from rdflib import Graph, URIRef

from server.publishing import build_info
from server.publishing import catalog
from server.publishing import downloads
from server.publishing import ontology_docs
from server.publishing import page_cache
from server.publishing import validation_report
from server.publishing import void
from server.publishing.describe import describe
from server.errors import problem
from server.publishing.iri import dataset_base, public_base, to_dataset, to_local
from server.publishing.negotiation import (
    FORMATS,
    HTML,
    Format,
    NotAcceptable,
    UnknownFormat,
    choose,
    from_oxigraph,
    link_header,
    load_context,
    serialize,
    split_extension,
)
from server.publishing.terms import curie, label, rows

bp = Blueprint("linked_data", __name__, template_folder="templates")
bp.register_blueprint(downloads.bp)

_UNSAFE = set('<>"{}|^`\\ ')


def usable(iri: str) -> bool:
    """Whether ``iri`` can be put into a SPARQL query as it is (anything else cannot exist here)."""
    return iri.isprintable() and not any(ch in _UNSAFE for ch in iri) and len(iri) < 2000


@dataclass(frozen=True)
class Document:
    """A graph with an IRI of its own under the base, and its page for people."""

    graph: Callable[[], Graph]
    html: Callable[[Graph, str], str]


DOCUMENTS: dict[str, Document] = {
    "catalog": Document(catalog.catalog_graph, catalog.catalog_html),
    ".well-known/void": Document(void.void_graph, void.void_html),
    "ontology": Document(ontology_docs.ontology_graph, ontology_docs.ontology_html),
    "shapes": Document(ontology_docs.shapes_graph, ontology_docs.shapes_html),
    "validation": Document(validation_report.report_graph, validation_report.report_html),
}


def language() -> str:
    """``?lang=de|en``, else the browser's preference, else German."""
    chosen = request.args.get("lang")
    if chosen in ("de", "en"):
        return chosen
    return request.accept_languages.best_match(["de", "en"], default="de")


def alternates_html(url: str) -> str:
    """``<link rel="alternate">`` elements for an HTML head."""
    return "\n".join(
        f'<link rel="alternate" type="{fmt.media_type}" href="{escape(url)}.{fmt.key}" title="{fmt.label}">'
        for fmt in FORMATS.values() if fmt.key != HTML
    )


def with_alternates(page: str, url: str) -> str:
    """Add the alternates to a page that lacks them (pages written by the pages module, for example)."""
    if 'rel="alternate" type="text/turtle" href="' + str(escape(url)) in page or "</head>" not in page:
        return page
    return page.replace("</head>", alternates_html(url) + "\n</head>", 1)


def respond(graph: Graph, url: str, fmt: Format, html: Callable[[], str | None]) -> Response:
    """One negotiated answer: the body in ``fmt`` and the headers of our dereferencing pattern."""
    if fmt.key == HTML:
        page = html()
        if page is None:
            page = render_template("ld/resource.html", **resource_view(graph, url, language()))
        return html_response(page, url)
    context = load_context(build_info.dist_dir() / "context.jsonld")
    response = Response(serialize(graph, fmt, context), mimetype=fmt.media_type)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return _pattern_headers(response, url, fmt)


def html_response(page: str, url: str) -> Response:
    """A resource's page for people, with the same headers as its RDF answers."""
    return _pattern_headers(Response(with_alternates(page, url), mimetype="text/html"), url, FORMATS[HTML])


def _pattern_headers(response: Response, url: str, fmt: Format) -> Response:
    response.headers["Content-Location"] = f"{url}.{fmt.key}"
    response.headers["Vary"] = "Accept, Accept-Language"
    response.headers["Link"] = link_header(url)
    return response


def known(iri: str) -> bool:
    """Whether ``graph_of(iri)`` would describe something (a graph name, or a subject or object of a
    triple), asked without building the description."""
    if not usable(iri):
        return False
    if iri in (build_info.build().get("graphs") or {}):
        return True
    try:
        return build_info.store().ask(f"ASK {{ {{ <{iri}> ?p ?o }} UNION {{ ?s ?p <{iri}> }} }}")
    except SyntaxError:
        return False


def resource_view(graph: Graph, url: str, lang: str) -> dict:
    """Template values for our own page of a resource: its rows, sub-resources and incoming links."""
    iri = URIRef(to_dataset_url(url))
    subjects = sorted({s for s in graph.subjects() if s != iri and (str(s).startswith(str(iri) + "#"))}, key=str)
    incoming = [{"subject": {"text": label(graph, s, lang) or curie(str(s)), "href": to_local(str(s))},
                 "predicate": curie(str(p))}
                for s, p in sorted(graph.subject_predicates(iri), key=lambda sp: (str(sp[1]), str(sp[0])))
                if isinstance(s, URIRef)]
    return {
        "lang": lang,
        "iri": str(iri),
        "url": url,
        "title": label(graph, iri, lang) or curie(str(iri)),
        "rows": rows(graph, iri, lang),
        "parts": [{"iri": str(s), "rows": rows(graph, s, lang)} for s in subjects],
        "incoming": incoming,
        "alternate_links": [(f"{url}.{fmt.key}", fmt.label) for fmt in FORMATS.values() if fmt.key != HTML],
    }


def to_dataset_url(url: str) -> str:
    base = public_base()
    return dataset_base() + url[len(base):] if url.startswith(base) else url


def suggestions(iri: str) -> list[tuple[str, str]]:
    """Resources near an unknown IRI (same parent path), so a 404 page can point somewhere useful.

    Only the typed resources of the named graph whose base the path lies under are searched (one
    municipality's), never the union: the page costs the same with 2 or 400 municipalities.
    """
    parent = iri if usable(iri) else dataset_base()
    store = build_info.store()
    base = dataset_base()
    graphs = sorted(build_info.build().get("graphs") or {}, key=len, reverse=True)
    while len(parent) > len(base):
        parent = parent[: parent.rstrip("/").rfind("/") + 1]
        graph = next((g for g in graphs if parent.startswith(g)), None)
        if graph is None:
            continue
        try:
            found = store.select(
                f'SELECT DISTINCT ?s WHERE {{ GRAPH <{graph}> {{ ?s a ?type }} '
                f'FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{parent}")) }} ORDER BY ?s LIMIT 10'
            )
        except SyntaxError:
            found = []
        if found:
            return [(to_local(row["s"].value), row["s"].value) for row in found]
    return [(f"{public_base()}catalog", "Katalog / catalog")]


def graph_of(iri: str) -> Graph | None:
    """The description of a dataset IRI: a whole named graph for a graph name, else ``describe``."""
    if not usable(iri):
        return None
    try:
        return _described(iri)
    except SyntaxError:  # the store rejects the IRI (e.g. a stray "%"): nothing can be known about it
        return None


def _described(iri: str) -> Graph | None:
    store = build_info.store()
    if iri in (build_info.build().get("graphs") or {}):
        graph = from_oxigraph(store.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"), iri)
        return graph if len(graph) else None
    graph = from_oxigraph(describe(store, iri))
    return graph if len(graph) else None


def with_data(document: Graph, iri: str) -> Graph:
    """A served document plus what the knowledge graph itself says about its IRI (e.g. the ontology as a source)."""
    described = graph_of(iri)
    if described is None:
        return document
    merged = Graph()
    for triple in document:
        merged.add(triple)
    for triple in described:
        merged.add(triple)
    for prefix, namespace in document.namespaces():
        merged.bind(prefix, namespace, override=False)
    return merged


def document_answer(stem: str, document: Document, url: str, fmt: Format, lang: str) -> Response:
    """VoID, the ontology, the shapes and the validation report change only with the build: each
    answer (format, language, public URL) is kept with the rendered pages (``page_cache``) and then
    sent as kept bytes (VoID's graph and its serialisation cost ~60 ms at 400 municipalities). The
    catalog keeps its own pages; requests with other parameters are not kept."""
    def make() -> Response:
        graph = with_data(document.graph(), to_dataset(stem))
        return respond(graph, url, fmt, lambda: document.html(graph, lang))

    if stem == "catalog" or set(request.args) - {"lang", "format"}:
        return make()
    return page_cache.cached(("document", url, stem, fmt.key, lang), make)


def resource_html(iri: str, lang: str) -> str | None:
    """A page from whatever the app registered as ``kik.resource_html`` (the pages blueprint does), if
    it has one for this IRI; publishing never imports the pages."""
    render = current_app.extensions.get("kik.resource_html")
    return render(iri, lang) if render else None


def _format(explicit: str | None) -> Format | Response:
    try:
        return choose(request.accept_mimetypes, explicit)
    except UnknownFormat as error:
        return problem(400, "Unbekanntes Format / unknown format",
                       f"Das Format „{error}“ gibt es nicht. Möglich: {', '.join(FORMATS)}.",
                       f"There is no format '{error}'. Use one of: {', '.join(FORMATS)}.")
    except NotAcceptable:
        offered = ", ".join(f.media_type for f in FORMATS.values())
        return problem(406, "Nicht annehmbar / not acceptable",
                       f"Keines der angefragten Formate ist verfügbar. Angeboten: {offered}.",
                       f"None of the requested media types is available. Offered: {offered}.")


@bp.get("/context.jsonld")
def context():
    """Our JSON-LD @context at a stable URL (the JSON-LD outputs are compacted with it)."""
    path = build_info.dist_dir() / "context.jsonld"
    if not path.is_file():
        return problem(404, "Kein Kontext / no context", "Dieser Build enthält keinen JSON-LD-Kontext.",
                       "This build has no JSON-LD context.")
    response = send_file(path, mimetype="application/ld+json", conditional=True, max_age=3600,
                         last_modified=build_info.build_time())
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/<path:path>")
def dereference(path: str):
    """Any path under the base: a served document, a dataset resource, or a helpful 404."""
    stem, extension = split_extension(path)
    if extension and (path in DOCUMENTS or graph_of(to_dataset(path)) is not None):
        stem, extension = path, None
    fmt = _format(request.args.get("format") or extension)
    if isinstance(fmt, Response):
        return fmt
    if stem.startswith("ontology/") and ontology_docs.is_current_version(to_dataset(stem)):
        # the version IRI of the served ontology: the same document as the ontology IRI
        target = public_base() + "ontology" + (f".{extension}" if extension else "")
        query = request.query_string.decode("latin-1")
        return redirect(target + (f"?{query}" if query else ""), code=302)
    lang = language()
    url = public_base() + stem
    document = DOCUMENTS.get(stem)
    if document is not None:
        return document_answer(stem, document, url, fmt, lang)
    iri = to_dataset(stem)
    if fmt.key == HTML and known(iri):
        # the pages keep their rendered HTML per build: no description is built when a page exists
        page = resource_html(iri, lang)
        if page is not None:
            return html_response(page, url)
    graph = graph_of(iri)
    if graph is None:
        return problem(
            404, "Unbekannte Ressource / unknown resource",
            f"Zu <{iri}> enthält der Wissensgraph nichts. Prüfen Sie die Schreibweise oder beginnen Sie beim Katalog.",
            f"The knowledge graph has nothing about <{iri}>. Check the spelling or start at the catalog.",
            suggestions(iri),
        )
    return respond(graph, url, fmt, lambda: resource_html(iri, lang))
