"""Reading one municipality's source folder: its settings and its Turtle files.

The CSV tables have their own module (``kg.measures``); this one knows the folder layout.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.term import Node

from kg.errors import SourceError
from kg.namespace import bind_prefixes

SETTINGS_FILE = "datensatz.toml"
MEASURES_FILE = "massnahmen.csv"
# the measures table may be kept as CSV or as a workbook; a folder holds at most one of them
MEASURES_FILES = ("massnahmen.csv", "massnahmen.xlsx", "massnahmen.ods")
REFUSED_MEASURES_FILES = ("massnahmen.xlsm", "massnahmen.xltm", "massnahmen.xlsb", "massnahmen.xls")
REQUIRED_SETTINGS = ("id", "base", "concept")


@dataclass(frozen=True)
class DatasetSettings:
    """What ``datensatz.toml`` says about a municipality's dataset."""

    folder: Path
    id: str
    base: str
    concept: URIRef
    fictional: bool
    title_de: str
    title_en: str

    @property
    def graph_name(self) -> URIRef:
        return URIRef(self.base)


def read_settings(folder: Path) -> DatasetSettings:
    """Read ``datensatz.toml``; a missing folder, file or key is a SourceError naming it."""
    path = folder / SETTINGS_FILE
    if not folder.is_dir():
        raise SourceError(
            folder, None, None,
            "Datenordner nicht gefunden.", "Pfad prüfen, z. B. data/hamm.",
            "data folder not found.", "check the path, e.g. data/hamm.",
        )
    if not path.is_file():
        raise SourceError(
            path, None, None,
            f"{SETTINGS_FILE} fehlt.", f"{SETTINGS_FILE} nach docs/model.md anlegen.",
            f"{SETTINGS_FILE} is missing.", f"create {SETTINGS_FILE} as described in docs/model.md.",
        )
    try:
        settings = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SourceError(
            path, getattr(error, "lineno", None), getattr(error, "colno", None),
            f"keine gültige TOML-Datei ({error}).", "Syntax nach https://toml.io prüfen.",
            f"not valid TOML ({error}).", "check the syntax against https://toml.io.",
        ) from None
    for key in REQUIRED_SETTINGS:
        if not isinstance(settings.get(key), str) or not settings[key]:
            raise SourceError(
                path, None, key,
                f"Pflichtangabe „{key}“ fehlt oder ist leer.", f"{key} = \"…\" eintragen.",
                f"required key '{key}' is missing or empty.", f"add {key} = \"…\".",
            )
    base = settings["base"]
    if not base.endswith("/"):
        raise SourceError(
            path, None, "base",
            "Basis-IRI muss mit „/“ enden.", f"base = \"{base}/\" schreiben.",
            "the base IRI must end with '/'.", f"write base = \"{base}/\".",
        )
    return DatasetSettings(
        folder=folder,
        id=settings["id"],
        base=base,
        concept=URIRef(settings["concept"]),
        fictional=bool(settings.get("fictional", False)),
        title_de=settings.get("title_de", settings["id"]),
        title_en=settings.get("title_en", settings.get("title_de", settings["id"])),
    )


def measures_file(folder: Path) -> Path | None:
    """The folder's measures table (CSV, XLSX or ODS), None if it has none; two are refused, as is a
    macro or binary workbook, so the build never has to guess which one the officer meant."""
    found = [folder / name for name in (*MEASURES_FILES, *REFUSED_MEASURES_FILES) if (folder / name).is_file()]
    if len(found) > 1:
        names = ", ".join(path.name for path in found)
        raise SourceError(
            folder, None, None,
            f"mehrere Maßnahmentabellen im Datenordner ({names}).",
            "Nur eine behalten (die aktuelle Fassung) und die anderen löschen oder verschieben.",
            f"several measures tables in the data folder ({names}).",
            "keep only one (the current version) and delete or move the others.",
        )
    if found and found[0].name in REFUSED_MEASURES_FILES:
        from kg.spreadsheet import refuse_kind

        refuse_kind(found[0])
    return found[0] if found else None


def turtle_files(folder: Path) -> list[Path]:
    """The folder's Turtle files in a stable order, so builds are reproducible."""
    return sorted(folder.glob("*.ttl"))


def parse_turtle(path: Path, into: Graph | None = None, scope: str | None = None) -> Graph:
    """Parse one Turtle file; a syntax error becomes a SourceError with line and column.

    ``scope`` names the file uniquely within one build (e.g. dataset id and file name) and makes its
    blank node ids; without it, the file's full path does (ids then depend on where the sources lie).

    Oxigraph's parser reads the file (rdflib's costs ~25x as much); its terms become rdflib terms
    here. Only if Oxigraph refuses the file does rdflib's parser read it: the same files are
    accepted as before, and a bad file gets rdflib's message with line and column as before.
    """
    graph = into if into is not None else Graph()
    bind_prefixes(graph)
    text = decode_utf8(path)
    base = path.resolve().as_uri()
    try:
        parser = ox.parse(text, format=ox.RdfFormat.TURTLE, base_iri=base)
        triples = _rdflib_triples(parser, _blank_node_prefix(scope or base))
    except SyntaxError:
        return _parse_with_rdflib(path, text, base, graph)
    for prefix, namespace in parser.prefixes.items():
        graph.bind(prefix, namespace)
    graph.addN((s, p, o, graph) for s, p, o in triples)
    return graph


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def _blank_node_prefix(scope: str) -> str:
    """Blank nodes of one file stay apart from every other file's (as with rdflib's parser), and
    get the same ids in every build, so equal sources give equal dumps."""
    return "f" + hashlib.sha256(scope.encode("utf-8")).hexdigest()[:16] + "_"


def _rdflib_triples(quads, blank_prefix: str) -> list[tuple[Node, Node, Node]]:
    """Oxigraph quads (one file, default graph) as rdflib triples, each distinct term built once."""
    terms: dict[object, Node] = {}
    blank_count = [0]

    def term(value) -> Node:
        found = terms.get(value)
        if found is None:
            if isinstance(value, ox.NamedNode):
                found = URIRef(value.value)
            elif isinstance(value, ox.BlankNode):
                # numbered in order of appearance in the file: Oxigraph labels `[ ]` nodes at random
                blank_count[0] += 1
                found = BNode(f"{blank_prefix}{blank_count[0]}")
            elif value.language:
                found = Literal(value.value, lang=value.language)
            elif value.datatype.value == _XSD_STRING:
                found = Literal(value.value)  # rdflib's parser gives "…" no datatype
            else:
                found = Literal(value.value, datatype=URIRef(value.datatype.value))
            terms[value] = found
        return found

    return [(term(q.subject), term(q.predicate), term(q.object)) for q in quads]


def _parse_with_rdflib(path: Path, text: str, base: str, graph: Graph) -> Graph:
    """rdflib's parser: for what Oxigraph refuses, with rdflib's message and place for errors."""
    try:
        graph.parse(data=text, format="turtle", publicID=base)
    except BadSyntax as error:
        line = error.lines + 1
        line_start = error._str.rfind(b"\n" if isinstance(error._str, bytes) else "\n", 0, error._i) + 1
        column = error._i - line_start + 1
        raise SourceError(
            path, line, column,
            f"Turtle-Syntaxfehler: {error._why}.",
            "Die Stelle prüfen: fehlt ein Punkt, ein Anführungszeichen oder eine spitze Klammer?",
            f"Turtle syntax error: {error._why}.",
            "look at that place: a missing full stop, quote or angle bracket?",
        ) from None
    except Exception as error:  # rdflib raises several types for bad terms
        raise SourceError(
            path, None, None,
            f"Turtle-Datei nicht lesbar: {error}.", "Datei mit einem Turtle-Prüfer öffnen.",
            f"cannot read Turtle: {error}.", "check the file with a Turtle validator.",
        ) from None
    return graph


def _encoding_error(path: Path, data: bytes, error: UnicodeDecodeError) -> SourceError:
    line = data[: error.start].count(b"\n") + 1
    column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
    return SourceError(
        path, line, column,
        f"Datei ist nicht UTF-8-kodiert (Byte 0x{data[error.start]:02x}).",
        "Als UTF-8 speichern (Excel: „CSV UTF-8 (durch Trennzeichen getrennt)“, LibreOffice: Zeichensatz Unicode UTF-8).",
        f"file is not UTF-8 encoded (byte 0x{data[error.start]:02x}).",
        "save it as UTF-8 (Excel: 'CSV UTF-8 (Comma delimited)', LibreOffice: character set Unicode UTF-8).",
    )


def decode_utf8(path: Path) -> str:
    """Read a text file as UTF-8 (a BOM is fine); anything else is a SourceError with the place."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _encoding_error(path, data, error) from None
