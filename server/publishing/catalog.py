"""The DCAT-AP.de catalog of what this server publishes, built from configuration, data and build.

Datasets: one per concept (a municipality's data folder: its named graph, its own dumps, the
municipality as creator, its key and places as spatial coverage), one for the whole graph (the
union dumps; title and description say what it holds, fictional examples included) and one for the
key figures (Data Cube) as CSV. Concepts marked fictional are listed only with
``KIK_CATALOG_INCLUDE_FICTIONAL``, and then say they are fictional in title and description.

Operator facts (publisher, contact, licence, themes, languages, titles) come from ``KIK_*``
settings; per-concept facts from the build's concepts.json (written by ``kg build`` from the data);
dates, sizes and checksums from build.json. The list of datasets is made once per served build, so
a page (``?page=N``, ``KIK_CATALOG_PAGE_SIZE`` datasets, a ``hydra:PagedCollection`` beyond one
page) costs the same for 2 or 400 municipalities. Identifiers are stable IRIs under the dataset base
(``https://w3id.org/kik/catalog#konzept-hamm``); locators (download, access and endpoint URLs) are
URLs of this server, so a portal harvesting staging downloads from staging.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import abort, current_app, render_template, request
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, XSD

from kg import export
from kg.namespace import DCATDE, FICTIONAL_BASE
from kg.portal import CONCEPTS_FILE, STATISTICS_FILE
from server.errors import problem
from server.publishing import build_info
from server.publishing import downloads
from server.publishing.iri import dataset_base, public_base, to_local
from server.publishing.terms import label, rows

SPDX = Namespace("http://spdx.org/rdf/terms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
EU = "http://publications.europa.eu/resource/authority/"
IANA = "http://www.iana.org/assignments/media-types/"
GEOCODING = "http://dcat-ap.de/def/politicalGeocoding/"
DCATAP = Namespace("http://data.europa.eu/r5r/")

# dump suffix → (EU file type, IANA media type); the gzip copies add dcat:compressFormat
DUMP_FORMATS: dict[str, tuple[str, str]] = {
    ".ttl": ("RDF_TURTLE", "text/turtle"),
    ".nt": ("RDF_N_TRIPLES", "application/n-triples"),
    ".rdf": ("RDF_XML", "application/rdf+xml"),
    ".jsonld": ("JSON_LD", "application/ld+json"),
    ".trig": ("RDF_TRIG", "application/trig"),
    ".nq": ("RDF_N_QUADS", "application/n-quads"),
    ".csv": ("CSV", "text/csv"),
}
GZIP = URIRef(IANA + "application/gzip")
DUMPS = (*export.DUMP_FORMATS, export.JSONLD_FILE)  # the files of the build that hold the whole graph
CACHE = "kik.catalog"  # app.extensions key of the served build's dataset list
GRAPHS = "kik.catalog.graphs"  # app.extensions key of the served build's page graphs (CatalogGraph)
KEPT_GRAPHS = 8  # page graphs kept (pages × suffixes × public URLs); each keeps its serialisations
KEPT_PER_GRAPH = 16  # serialisations and HTML pages kept per page graph
_GRAPHS_LOCK = threading.Lock()


@dataclass
class Entry:
    """One dataset of the catalog: its fragment, titles, descriptions, coverage and files."""

    fragment: str
    title: dict[str, str]
    description: dict[str, str]
    files: list[str]
    fictional: bool = False
    creator: dict | None = None  # {"iri", "de", "en"} of the municipality
    keys: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    start: dict | None = None
    end: dict | None = None
    landing: str | None = None
    graph: str | None = None  # the named graph the dataset is (for the SPARQL access)


def iri(fragment: str = "") -> URIRef:
    """The catalog's own IRI (``…/catalog``) or a part of it (``…/catalog#kg``)."""
    return URIRef(f"{dataset_base()}catalog{'#' + fragment if fragment else ''}")


def setting(key: str) -> str:
    return str(current_app.config.get(key) or "")


def _codes(key: str) -> list[str]:
    return setting(key).split()


def _texts(graph: Graph, node, predicate, key: str) -> None:
    for lang in ("de", "en"):
        value = setting(f"{key}_{lang.upper()}")
        if value:
            graph.add((node, predicate, Literal(value, lang=lang)))


def _date(value: dict | None) -> Literal | None:
    if not value:
        return None
    return Literal(value["value"], datatype=URIRef(value["datatype"]) if value.get("datatype") else None)


def concepts() -> list[dict]:
    """The served build's concepts.json (what ``kg build`` read from each data folder)."""
    path = build_info.dist_dir() / CONCEPTS_FILE
    try:
        return list(json.loads(path.read_text(encoding="utf-8")).get("concepts") or [])
    except (OSError, ValueError):
        return []


def _names(items: list[dict], lang: str, most: int = 3) -> str:
    names = [c.get(f"municipality_{lang}") or c.get("municipality_de") or c["id"] for c in items[:most]]
    more = len(items) - len(names)
    if more > 0:
        names.append((f"{more} weitere" if lang == "de" else f"{more} more"))
    return ", ".join(names)


def _concept_entry(concept: dict) -> Entry:
    municipality = {lang: concept.get(f"municipality_{lang}") or concept.get("municipality_de") or concept["id"] for lang in ("de", "en")}
    name = {lang: concept.get(f"concept_title_{lang}") or concept.get(f"title_{lang}") or concept["id"] for lang in ("de", "en")}
    title = {"de": f"{municipality['de']}: {name['de']} – Wissensgraph",
             "en": f"{municipality['en']}: {name['en']} – knowledge graph"}
    description = {
        "de": f"Das Integrationskonzept „{name['de']}“ der Kommune {municipality['de']} als RDF: Konzept, Ziele, "
              f"Handlungsfelder, Herausforderungen, Maßnahmen, Akteure, Quellen und Kennzahlen, soweit die Quellen sie "
              f"nennen, jede Aussage mit ihrer Quelle ({concept.get('triples', 0)} Tripel, benannter Graph <{concept['graph']}>).",
        "en": f"The integration concept '{name['en']}' of the municipality {municipality['en']} as RDF: concept, goals, "
              f"action fields, challenges, measures, actors, sources and key figures as far as the sources state them, "
              f"each statement with its source ({concept.get('triples', 0)} triples, named graph <{concept['graph']}>).",
    }
    if concept.get("fictional"):
        title = {"de": "FIKTIV – " + title["de"], "en": "FICTIONAL – " + title["en"]}
        description = {
            "de": "Fiktive Beispieldaten: alle Angaben sind erfunden (für Tests und Vorführungen) und beschreiben keine "
                  f"echte Kommune; Namensraum {FICTIONAL_BASE}. " + description["de"],
            "en": "Fictional example data: every statement is invented (for tests and demonstrations) and describes no "
                  f"real municipality; namespace {FICTIONAL_BASE}. " + description["en"],
        }
    creator = {"iri": concept["municipality"], **municipality} if concept.get("municipality") else None
    return Entry(fragment=f"konzept-{concept['id']}", title=title, description=description, files=list(concept.get("files") or []),
                 fictional=bool(concept.get("fictional")), creator=creator,
                 keys=[concept["municipality_key"]] if concept.get("municipality_key") else [],
                 places=list(concept.get("places") or []), start=concept.get("start"), end=concept.get("end"),
                 landing=concept.get("concept"), graph=concept.get("graph"))


def _whole_entries(found: list[dict], include_fictional: bool, page_size: int) -> list[Entry]:
    """The whole graph and the key figures: title and description say which concepts they hold."""
    real = [c for c in found if not c.get("fictional")]
    fictional = [c for c in found if c.get("fictional")]
    parts = {"de": [], "en": []}
    if real:
        parts["de"].append((f"Integrationskonzept {_names(real, 'de')}" if len(real) == 1 else f"{len(real)} Integrationskonzepte ({_names(real, 'de')})"))
        parts["en"].append((f"integration concept of {_names(real, 'en')}" if len(real) == 1 else f"{len(real)} integration concepts ({_names(real, 'en')})"))
    if fictional:
        parts["de"].append(f"{len(fictional)} fiktive Beispielkonzepte" if len(fictional) != 1 else "1 fiktives Beispielkonzept")
        parts["en"].append(f"{len(fictional)} fictional example concept{'s' if len(fictional) != 1 else ''}")
    contents = {lang: " und ".join(parts["de"]) if lang == "de" else " and ".join(parts["en"]) for lang in ("de", "en")}
    note = {"de": (f" Die fiktiven Konzepte (Namensraum {FICTIONAL_BASE}) sind erfunden und als fiktiv gekennzeichnet "
                   "(kik:fictional true); sie beschreiben keine echte Kommune." if fictional else ""),
            "en": (f" The fictional concepts (namespace {FICTIONAL_BASE}) are invented and marked as fictional "
                   "(kik:fictional true); they describe no real municipality." if fictional else "")}
    shown = real + (fictional if include_fictional else [])
    keys = sorted({c["municipality_key"] for c in shown if c.get("municipality_key")})[:page_size]
    places = sorted({p for c in shown for p in c.get("places") or []})[:page_size]
    starts = [c["start"] for c in shown if c.get("start")]
    ends = [c["end"] for c in shown if c.get("end")]
    start = min(starts, key=lambda d: d["value"]) if starts else None
    end = max(ends, key=lambda d: d["value"]) if ends else None
    common = {"keys": keys, "places": places, "start": start, "end": end, "fictional": False}
    graph = Entry(
        fragment="kg",
        title={"de": f"Gesamter Wissensgraph: {contents['de']}", "en": f"Whole knowledge graph: {contents['en']}"},
        description={
            "de": f"Alle benannten Graphen dieses Servers in einer Datei je Format: {contents['de']}, dazu die gemeinsamen "
                  "Vokabulare. Jede Aussage mit ihrer Quelle." + note["de"] + " Einzelne Konzepte ohne die übrigen: "
                  "die Datensätze je Konzept.",
            "en": f"Every named graph of this server in one file per format: {contents['en']}, plus the shared "
                  "vocabularies. Each statement with its source." + note["en"] + " Single concepts without the others: "
                  "the datasets per concept.",
        },
        files=[name for name in DUMPS for name in (name, name + ".gz")], landing=None, **common)
    statistics = Entry(
        fragment="kennzahlen",
        title={"de": f"Kennzahlen (W3C Data Cube) als Tabelle: {contents['de']}",
               "en": f"Key figures (W3C Data Cube) as a table: {contents['en']}"},
        description={
            "de": "Jede Beobachtung (qb:Observation) der Konzepte als Zeile einer CSV-Datei: Konzept, Kommune, fiktiv ja/nein, "
                  "Indikator, Zeitraum, Gebiet, Wert, Einheit, ungefähr, Quellen. Enthält " + contents["de"] + "." + note["de"]
                  + " Die Spalte „fiktiv“ trennt sie.",
            "en": "Each observation (qb:Observation) of the concepts as a row of a CSV file: concept, municipality, fictional "
                  "yes/no, indicator, period, area, value, unit, approximate, sources. Holds " + contents["en"] + "." + note["en"]
                  + " The column 'fiktiv' tells them apart.",
        },
        files=[STATISTICS_FILE], **common)
    return [graph, statistics]


def entries() -> list[Entry]:
    """Every dataset of the catalog in order (whole graph, key figures, concepts by id): made once per
    served build and setting, so a page only slices it."""
    include = bool(current_app.config.get("KIK_CATALOG_INCLUDE_FICTIONAL"))
    page_size = page_size_setting()
    build = build_info.build()
    key = (id(build), build_info.dist_dir(), include, page_size)
    cached = current_app.extensions.get(CACHE)
    if cached is not None and cached[0] == key and cached[1] is build:
        return cached[2]
    found = sorted(concepts(), key=lambda c: c["id"])
    result = _whole_entries(found, include, page_size)
    result += [_concept_entry(c) for c in found if include or not c.get("fictional")]
    current_app.extensions[CACHE] = (key, build, result)
    return result


def page_size_setting() -> int:
    return max(1, int(current_app.config.get("KIK_CATALOG_PAGE_SIZE") or 100))


def requested_page(pages: int) -> int:
    """``?page=N`` (1 … pages); anything else ends the request with a 400/404 that says what to send."""
    raw = request.args.get("page")
    if raw is None or raw == "":
        return 1
    if not raw.isdigit() or int(raw) < 1:
        abort(problem(400, "Ungültige Seite / invalid page",
                      f"„page“ muss eine ganze Zahl von 1 bis {pages} sein, nicht „{raw[:40]}“.",
                      f"'page' must be a whole number from 1 to {pages}, not '{raw[:40]}'.",
                      [(f"{public_base()}catalog", "Katalog, Seite 1 / catalog, page 1")]))
    if int(raw) > pages:
        abort(problem(404, "Seite gibt es nicht / no such page",
                      f"Der Katalog hat {pages} Seite(n); Seite {int(raw)} gibt es nicht.",
                      f"The catalog has {pages} page(s); there is no page {int(raw)}.",
                      [(f"{public_base()}catalog?page={pages}", "letzte Seite / last page")]))
    return int(raw)


def _page_url(number: int) -> str:
    """The URL of a catalog page in the format of this request (``/catalog.ttl?page=2``)."""
    last = request.path.rstrip("/").rsplit("/", 1)[-1]
    suffix = last[len("catalog"):] if last.startswith("catalog.") else ""
    return f"{public_base()}catalog{suffix}" + (f"?page={number}" if number > 1 else "")


def _agent(graph: Graph) -> URIRef:
    publisher = iri("publisher")
    graph.add((publisher, RDF.type, FOAF.Agent))
    graph.add((publisher, RDF.type, FOAF.Organization))
    graph.add((publisher, FOAF.name, Literal(setting("KIK_PUBLISHER_NAME"), lang="de")))
    graph.add((publisher, DCTERMS.type, URIRef(setting("KIK_PUBLISHER_TYPE"))))
    if setting("KIK_PUBLISHER_HOMEPAGE"):
        graph.add((publisher, FOAF.homepage, URIRef(setting("KIK_PUBLISHER_HOMEPAGE"))))
    return publisher


def _contact(graph: Graph) -> URIRef:
    contact = iri("contact")
    graph.add((contact, RDF.type, VCARD.Kind))
    graph.add((contact, RDF.type, VCARD.Organization))
    graph.add((contact, VCARD.fn, Literal(setting("KIK_CONTACT_NAME"), lang="de")))
    graph.add((contact, VCARD.hasEmail, URIRef(setting("KIK_CONTACT_EMAIL"))))
    return contact


def _title(name: str, lang: str) -> str:
    """A distribution's title from its file name: what it holds, its format, gzip or not."""
    plain = name.removesuffix(".gz")
    suffix = plain[plain.rfind("."):]
    file_type = DUMP_FORMATS[suffix][0].replace("_", "-")
    if plain == STATISTICS_FILE:
        holds = "Kennzahlen" if lang == "de" else "Key figures"
    elif plain.startswith("konzept-"):
        holds = "Konzept" if lang == "de" else "Concept"
    else:
        holds = "Wissensgraph" if lang == "de" else "Knowledge graph"
    return f"{holds} {'als' if lang == 'de' else 'as'} {file_type}" + (", gzip" if name.endswith(".gz") else "")


def _distribution(graph: Graph, name: str, info: dict, license_: URIRef, issued: Literal) -> URIRef | None:
    plain = name.removesuffix(".gz")
    suffix = plain[plain.rfind("."):] if "." in plain else ""
    if suffix not in DUMP_FORMATS:
        return None
    file_type, media_type = DUMP_FORMATS[suffix]
    node = iri("download-" + name.replace(".", "-"))
    url = URIRef(downloads.download_url(name))
    graph.add((node, RDF.type, DCAT.Distribution))
    graph.add((node, DCTERMS.title, Literal(_title(name, "de"), lang="de")))
    graph.add((node, DCTERMS.title, Literal(_title(name, "en"), lang="en")))
    graph.add((node, DCAT.downloadURL, url))
    graph.add((node, DCAT.accessURL, url))
    graph.add((node, DCAT.mediaType, URIRef(IANA + media_type)))
    graph.add((node, DCTERMS["format"], URIRef(EU + "file-type/" + file_type)))
    if name.endswith(".gz"):
        graph.add((node, DCAT.compressFormat, GZIP))
    graph.add((node, DCTERMS.license, license_))
    graph.add((node, DCATDE.licenseAttributionByText, Literal(setting("KIK_LICENSE_ATTRIBUTION"), lang="de")))
    graph.add((node, DCTERMS.issued, issued))
    graph.add((node, DCTERMS.modified, issued))
    if "bytes" in info:
        graph.add((node, DCAT.byteSize, Literal(int(info["bytes"]), datatype=XSD.nonNegativeInteger)))
    if info.get("sha256"):
        checksum = BNode()
        graph.add((node, SPDX.checksum, checksum))
        graph.add((checksum, RDF.type, SPDX.Checksum))
        graph.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        graph.add((checksum, SPDX.checksumValue, Literal(info["sha256"], datatype=XSD.hexBinary)))
    return node


def _sparql_access(graph: Graph, entry: Entry, service: URIRef, license_: URIRef, issued: Literal) -> URIRef:
    """A distribution that is the SPARQL endpoint (``dcat:accessService``), for one dataset."""
    node = iri(f"sparql-{entry.fragment}")
    graph.add((node, RDF.type, DCAT.Distribution))
    target = f" (GRAPH <{entry.graph}>)" if entry.graph else ""
    graph.add((node, DCTERMS.title, Literal(f"SPARQL-Endpunkt{target}", lang="de")))
    graph.add((node, DCTERMS.title, Literal(f"SPARQL endpoint{target}", lang="en")))
    graph.add((node, DCAT.accessURL, URIRef(public_base() + setting("KIK_SPARQL_PATH"))))
    graph.add((node, DCAT.accessService, service))
    graph.add((node, DCTERMS["format"], URIRef(EU + "file-type/SPARQLQ")))
    graph.add((node, DCTERMS.license, license_))
    graph.add((node, DCTERMS.issued, issued))
    graph.add((node, DCTERMS.modified, issued))
    return node


def _dataset(graph: Graph, entry: Entry, context: dict) -> URIRef:
    """One dcat:Dataset with its coverage, creator and distributions."""
    dataset = iri(entry.fragment)
    graph.add((dataset, RDF.type, DCAT.Dataset))
    for lang in ("de", "en"):
        graph.add((dataset, DCTERMS.title, Literal(entry.title[lang], lang=lang)))
        graph.add((dataset, DCTERMS.description, Literal(entry.description[lang], lang=lang)))
    graph.add((dataset, DCTERMS.identifier, Literal(str(dataset))))
    graph.add((dataset, DCTERMS.publisher, context["publisher"]))
    graph.add((dataset, DCAT.contactPoint, context["contact"]))
    graph.add((dataset, DCTERMS.issued, context["issued"]))
    graph.add((dataset, DCTERMS.modified, context["issued"]))
    graph.add((dataset, DCAT.landingPage, URIRef(to_local(entry.landing) if entry.landing else public_base())))
    graph.add((dataset, DCTERMS.conformsTo, URIRef(dataset_base() + "ontology")))
    graph.add((dataset, DCTERMS.accrualPeriodicity, URIRef(f"{EU}frequency/{setting('KIK_ACCRUAL_PERIODICITY')}")))
    graph.add((dataset, URIRef(f"{DCAT}version"), Literal(str(build_info.build().get("build", "")))))
    for keyword in context["keywords"]:
        graph.add((dataset, DCAT.keyword, Literal(keyword, lang="de")))
    if entry.fictional:
        graph.add((dataset, DCAT.keyword, Literal("fiktiv", lang="de")))
        graph.add((dataset, DCAT.keyword, Literal("fictional", lang="en")))
    for theme in context["themes"]:
        graph.add((dataset, DCAT.theme, theme))
    for language in context["languages"]:
        graph.add((dataset, DCTERMS.language, language))
    if entry.creator:
        creator = URIRef(entry.creator["iri"])
        graph.add((dataset, DCTERMS.creator, creator))
        graph.add((creator, RDF.type, FOAF.Agent))
        graph.add((creator, RDF.type, FOAF.Organization))
        for lang in ("de", "en"):
            if entry.creator.get(lang):
                graph.add((creator, FOAF.name, Literal(entry.creator[lang], lang=lang)))
    _coverage(graph, dataset, entry)
    files = downloads.listing().files
    for name in entry.files:
        found = files.get(name)
        if found is None or not os.path.isfile(found.path):
            continue
        node = _distribution(graph, name, found.info, context["license"], context["issued"])
        if node is not None:
            graph.add((dataset, DCAT.distribution, node))
    graph.add((dataset, DCAT.distribution, _sparql_access(graph, entry, context["service"], context["license"], context["issued"])))
    return dataset


class CatalogGraph(Graph):
    """A catalog page's graph, made once per served build, that keeps what it was written as.

    A harvester fetches the same pages again and again, and rdflib's Turtle serialiser costs ~¾
    of such a request (a page of 100 datasets: ~1 s); the serialised text per format and the HTML
    page per language are kept with the graph (at most ``KEPT_PER_GRAPH``), and requests for the same
    page and format wait for the first instead of writing it again. The graph is never changed after
    it is made (``negotiation.serialize`` binds the same prefixes again, which changes nothing)."""

    def __init__(self) -> None:
        super().__init__()
        self.kept: dict[tuple, Any] = {}
        self.kept_lock = threading.Lock()

    def once(self, key: tuple, make: Callable[[], Any]) -> Any:
        with self.kept_lock:
            if key in self.kept:
                return self.kept[key]
            value = make()
            if len(self.kept) < KEPT_PER_GRAPH:
                self.kept[key] = value
            return value

    def serialize(self, destination=None, format: str = "turtle", base=None, encoding=None, **args):  # noqa: A002
        if destination is not None:
            return super().serialize(destination, format, base, encoding, **args)
        key = ("serialize", format, base, encoding, json.dumps(args, sort_keys=True, default=str))
        return self.once(key, lambda: super(CatalogGraph, self).serialize(None, format, base, encoding, **args))


def _settings_key() -> tuple:
    return tuple(sorted((k, str(v)) for k, v in current_app.config.items() if k.startswith("KIK_")))


def catalog_graph() -> Graph:
    """One page of the catalog as RDF (what /catalog serves in every RDF format): the catalog, the
    page's datasets, the SPARQL service and, when there is more than one page, hydra paging.

    Made once per served build, page, format suffix, public URL and settings (the last
    ``KEPT_GRAPHS`` of them are kept), so a harvester's request costs a look-up."""
    all_entries = entries()
    pages = max(1, math.ceil(len(all_entries) / page_size_setting()))
    number = requested_page(pages)
    build = (build_info.build().get("build"), str(build_info.dist_dir()))
    key = (public_base(), _page_url(number), _settings_key())
    with _GRAPHS_LOCK:
        kept = current_app.extensions.setdefault(GRAPHS, (build, OrderedDict()))
        if kept[0] != build:  # another build is served now: its pages go
            kept = current_app.extensions[GRAPHS] = (build, OrderedDict())
        graphs = kept[1]
        entry = graphs.setdefault(key, [threading.Lock(), None])
        graphs.move_to_end(key)
        while len(graphs) > KEPT_GRAPHS:
            graphs.popitem(last=False)
    with entry[0]:
        if entry[1] is None:
            entry[1] = _catalog_graph(all_entries, number, pages)
    return entry[1]


def _catalog_graph(all_entries: list[Entry], number: int, pages: int) -> CatalogGraph:
    graph = CatalogGraph()
    graph.bind("dcatde", DCATDE)
    graph.bind("spdx", SPDX)
    graph.bind("vcard", VCARD)
    graph.bind("hydra", HYDRA)
    size = page_size_setting()
    shown = all_entries[(number - 1) * size: number * size]

    catalog, service = iri(), iri("sparql")
    built = build_info.build_time()
    issued = Literal(built.replace(microsecond=0).isoformat().replace("+00:00", "Z"), datatype=XSD.dateTime)
    license_ = URIRef(setting("KIK_LICENSE"))
    publisher, contact = _agent(graph), _contact(graph)
    themes = [URIRef(f"{EU}data-theme/{code}") for code in _codes("KIK_THEMES")]
    languages = [URIRef(f"{EU}language/{code}") for code in _codes("KIK_LANGUAGES")]
    context = {"publisher": publisher, "contact": contact, "issued": issued, "license": license_, "themes": themes,
               "languages": languages, "service": service,
               "keywords": [k for k in (k.strip() for k in setting("KIK_KEYWORDS").split(";")) if k]}

    graph.add((catalog, RDF.type, DCAT.Catalog))
    _texts(graph, catalog, DCTERMS.title, "KIK_CATALOG_TITLE")
    _texts(graph, catalog, DCTERMS.description, "KIK_CATALOG_DESCRIPTION")
    graph.add((catalog, DCTERMS.publisher, publisher))
    graph.add((catalog, FOAF.homepage, URIRef(public_base())))
    graph.add((catalog, DCTERMS.license, license_))
    graph.add((catalog, DCTERMS.issued, issued))
    graph.add((catalog, DCTERMS.modified, issued))
    graph.add((catalog, DCAT.themeTaxonomy, URIRef(EU + "data-theme")))
    graph.add((catalog, DCAT.service, service))
    for language in languages:
        graph.add((catalog, DCTERMS.language, language))

    graph.add((service, RDF.type, DCAT.DataService))
    graph.add((service, DCTERMS.title, Literal("SPARQL-Endpunkt des Wissensgraphen", lang="de")))
    graph.add((service, DCTERMS.title, Literal("SPARQL endpoint of the knowledge graph", lang="en")))
    graph.add((service, DCAT.endpointURL, URIRef(public_base() + setting("KIK_SPARQL_PATH"))))
    graph.add((service, DCAT.endpointDescription, URIRef(public_base() + setting("KIK_SPARQL_PATH"))))
    graph.add((service, DCTERMS.conformsTo, URIRef("https://www.w3.org/TR/sparql11-protocol/")))
    graph.add((service, DCTERMS.publisher, publisher))
    graph.add((service, DCAT.contactPoint, contact))
    graph.add((service, DCTERMS.license, license_))
    for theme in themes:
        graph.add((service, DCAT.theme, theme))

    for entry in shown:
        dataset = _dataset(graph, entry, context)
        graph.add((catalog, DCAT.dataset, dataset))
        graph.add((service, DCAT.servesDataset, dataset))  # the datasets of this page; each page lists its own
    if pages > 1:
        _paging(graph, number, pages, len(all_entries), size)
    return graph


def _paging(graph: Graph, number: int, pages: int, total: int, size: int) -> None:
    """hydra:PagedCollection as DCAT-AP.de harvesters (and ckanext-dcat) follow it."""
    here = URIRef(_page_url(number))
    graph.add((here, RDF.type, HYDRA.PagedCollection))
    graph.add((here, HYDRA.totalItems, Literal(total, datatype=XSD.integer)))
    graph.add((here, HYDRA.itemsPerPage, Literal(size, datatype=XSD.integer)))
    graph.add((here, HYDRA.firstPage, URIRef(_page_url(1))))
    graph.add((here, HYDRA.lastPage, URIRef(_page_url(pages))))
    if number < pages:
        graph.add((here, HYDRA.nextPage, URIRef(_page_url(number + 1))))
    if number > 1:
        graph.add((here, HYDRA.previousPage, URIRef(_page_url(number - 1))))


def _coverage(graph: Graph, dataset: URIRef, entry: Entry) -> None:
    """Spatial and temporal coverage and the German political geocoding, as far as the data states them."""
    for key in entry.keys:
        place = URIRef(f"{GEOCODING}municipalityKey/{key}")
        graph.add((dataset, DCATDE.politicalGeocodingURI, place))
        graph.add((dataset, DCTERMS.spatial, place))
        graph.add((place, RDF.type, DCTERMS.Location))
    if entry.keys:
        graph.add((dataset, DCATDE.politicalGeocodingLevelURI, URIRef(f"{GEOCODING}Level/municipality")))
    for place in entry.places:
        graph.add((dataset, DCTERMS.spatial, URIRef(place)))
        graph.add((URIRef(place), RDF.type, DCTERMS.Location))
    start = _date(entry.start)
    if start is not None:
        period = iri(f"zeitraum-{entry.fragment}")
        graph.add((dataset, DCTERMS.temporal, period))
        graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
        graph.add((period, DCAT.startDate, start))
        end = _date(entry.end)
        if end is not None and str(end) >= str(start):
            graph.add((period, DCAT.endDate, end))


def catalog_html(graph: Graph, lang: str) -> str:
    """The catalog page: each dataset of this page with its downloads (sizes, checksums), the endpoint, paging.

    Kept with a ``CatalogGraph`` when the request has no other parameters than ``page`` and ``lang``
    (the page's links repeat the request's parameters; others would only fill the bounded store)."""
    if isinstance(graph, CatalogGraph) and set(request.args) <= {"page", "lang"}:
        key = ("html", lang, request.path, tuple(request.args.items(multi=True)))
        return graph.once(key, lambda: _catalog_html(graph, lang))
    return _catalog_html(graph, lang)


def _catalog_html(graph: Graph, lang: str) -> str:
    datasets = []
    for dataset in sorted(graph.objects(iri(), DCAT.dataset), key=lambda d: (d != iri("kg"), d != iri("kennzahlen"), str(d))):
        distributions = []
        for node in sorted(graph.objects(dataset, DCAT.distribution), key=str):
            checksum = graph.value(node, SPDX.checksum)
            media = graph.value(node, DCAT.mediaType)
            distributions.append({
                "title": label(graph, node, lang),
                "url": str(graph.value(node, DCAT.downloadURL) or graph.value(node, DCAT.accessURL)),
                "media_type": str(media).removeprefix(IANA) if media else "SPARQL",
                "bytes": graph.value(node, DCAT.byteSize),
                "sha256": graph.value(checksum, SPDX.checksumValue) if checksum is not None else None,
            })
        datasets.append({"title": label(graph, dataset, lang), "rows": rows(graph, dataset, lang),
                         "distributions": distributions})
    paging = next(graph.subjects(RDF.type, HYDRA.PagedCollection), None)
    pager = None
    if paging is not None:
        pager = {key: (str(graph.value(paging, HYDRA[key])) if graph.value(paging, HYDRA[key]) else None)
                 for key in ("firstPage", "previousPage", "nextPage", "lastPage", "totalItems")}
        pager["number"] = requested_page(max(1, math.ceil(len(entries()) / page_size_setting())))
    return render_template("ld/catalog.html", lang=lang, title=label(graph, iri(), lang),
                           catalog=rows(graph, iri(), lang), datasets=datasets, pager=pager,
                           service=rows(graph, iri("sparql"), lang), url=public_base() + "catalog")
