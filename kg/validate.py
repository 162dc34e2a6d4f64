"""SHACL validation of the knowledge graph: run the shapes, read the report, tell people and machines.

Violations (structure) fail a build; warnings and infos (incompleteness) are reported only.
Pure functions: the CLI decides where the output goes.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyshacl
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.exceptions import ParserError
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, SH, SKOS
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Node

from kg.errors import SourceError
from kg.namespace import VOCAB_GRAPH, bind_prefixes
from kg.workers import forked_pool

SHAPES_DIR = Path(__file__).resolve().parents[1] / "shapes"

SEVERITIES = ("Violation", "Warning", "Info")
_SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
_LABEL_PREDICATES = (SKOS.prefLabel, RDFS.label, DCTERMS.title, FOAF.name)

_WORDS = {
    "de": {
        "Violation": ("Verstoß", "Verstöße"),
        "Warning": ("Warnung", "Warnungen"),
        "Info": ("Hinweis", "Hinweise"),
        "title": "SHACL-Prüfbericht",
        "clean": "Keine Befunde.",
        "path": "Eigenschaft",
        "value": "Wert",
        "summary": "Zusammenfassung",
        "resources": ("Ressource", "Ressourcen"),
        "conforms": "Ergebnis: keine Verstöße.",
        "fails": "Ergebnis: Verstöße gefunden.",
    },
    "en": {
        "Violation": ("violation", "violations"),
        "Warning": ("warning", "warnings"),
        "Info": ("info", "infos"),
        "title": "SHACL validation report",
        "clean": "No findings.",
        "path": "property",
        "value": "value",
        "summary": "Summary",
        "resources": ("resource", "resources"),
        "conforms": "Result: no violations.",
        "fails": "Result: violations found.",
    },
}


@dataclass(frozen=True)
class Result:
    """One finding of the SHACL report, with its messages keyed by language ("" = untagged)."""

    focus_node: Node
    path: Node | None
    value: Node | None
    severity: str
    messages: dict[str, str]
    source_shape: Node | None
    constraint_component: Node | None

    def message(self, lang: str) -> str:
        """The message in `lang`, else English, else German, else whatever there is."""
        for key in (lang, "en", "de", ""):
            if key in self.messages:
                return self.messages[key]
        return next(iter(self.messages.values()), "")


@dataclass
class ValidationReport:
    """What validate() found; `labels` holds the data's labels of every focus node, by language."""

    conforms_without_violations: bool
    results: list[Result]
    graph: Graph
    labels: dict[Node, dict[str, str]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Number of results per severity (every severity present, possibly 0)."""
        counted = Counter(result.severity for result in self.results)
        return {severity: counted.get(severity, 0) for severity in SEVERITIES}


def load_shapes(paths: list[Path] | None = None) -> Graph:
    """Parse the shapes files (default: every shapes/*.ttl of the repository) into one graph."""
    if paths is None:
        paths = sorted(SHAPES_DIR.glob("*.ttl"))
        if not paths:
            raise SourceError(
                SHAPES_DIR, None, None,
                "keine Shapes-Dateien (*.ttl) gefunden.", "shapes/*.ttl aus dem Repository wiederherstellen.",
                "no shapes files (*.ttl) found.", "restore shapes/*.ttl from the repository.",
            )
    shapes = Graph()
    bind_prefixes(shapes)
    for path in paths:
        try:
            shapes.parse(path, format="turtle")
        except FileNotFoundError:
            raise SourceError(
                path, None, None,
                "Shapes-Datei nicht gefunden.", "Pfad prüfen.",
                "shapes file not found.", "check the path.",
            ) from None
        except (BadSyntax, ParserError) as error:
            line = getattr(error, "lines", None)
            raise SourceError(
                path, line + 1 if isinstance(line, int) else None, None,
                f"kein gültiges Turtle ({error}).", "Syntax an der genannten Stelle korrigieren.",
                f"not valid Turtle ({error}).", "fix the syntax at the given place.",
            ) from None
    return shapes


def validate(data: Graph, shapes: Graph | None = None) -> ValidationReport:
    """Validate `data` against the shapes without inference (the data must state what it means)."""
    if shapes is None:
        shapes = load_shapes()
    # inplace=True: with inference="none" and no rules pyshacl does not change the data graph, and
    # copying ~100k triples would cost more than the validation of small datasets.
    target = data
    if type(data) is Graph:  # a plain graph: share its store, nothing is copied
        target = _PreparedQueryGraph(store=data.store, identifier=data.identifier, namespace_manager=data.namespace_manager)
    _, report_graph, _ = pyshacl.validate(
        target,
        shacl_graph=shapes,
        inference="none",
        advanced=True,
        abort_on_first=False,
        allow_infos=True,
        allow_warnings=True,
        inplace=True,
    )
    bind_prefixes(report_graph)
    results = [_read_result(report_graph, shapes, node) for node in report_graph.subjects(RDF.type, SH.ValidationResult)]
    results.sort(key=_order)
    labels = {focus: _labels(data, focus) for focus in {result.focus_node for result in results}}
    report_graph, results = _named_by_content(report_graph, results)
    return ValidationReport(
        conforms_without_violations=not any(result.severity == "Violation" for result in results),
        results=results,
        graph=report_graph,
        labels=labels,
    )


_DATA_LINKS = (SH.focusNode, SH.value)  # their blank nodes are the data's: kept as they are


def _term_key(node: Node | None) -> str:
    """A term's text for ordering; blank nodes (named at random by each parse) count as equal."""
    return "" if node is None or isinstance(node, BNode) else node.n3()


def _order(result: Result) -> tuple:
    """Findings in a fixed order: severity, resource, property, value, then what tells equal ones apart."""
    return (_SEVERITY_RANK.get(result.severity, 9), str(result.focus_node), str(result.path), str(result.value),
            _term_key(result.source_shape), _term_key(result.constraint_component), sorted(result.messages.items()))


def _signature(graph: Graph, node: Node) -> tuple:
    return tuple(sorted((p.n3(), _term_key(o)) for p, o in graph.predicate_objects(node)))


def _named_by_content(graph: Graph, results: list[Result]) -> tuple[Graph, list[Result]]:
    """The report with its blank nodes renamed b0, b1, … in the order of the (sorted) findings and
    of their content, so that validating equal data gives the same report bytes in every run."""
    by_node: dict[Node, Node] = {}
    for node in graph.subjects(RDF.type, SH.ValidationResult):
        by_node.setdefault(node, node)
    result_nodes = sorted(by_node, key=lambda node: (_order(_result_of(graph, node)), _signature(graph, node)))
    roots = sorted((n for n in graph.subjects(RDF.type, SH.ValidationReport)), key=lambda n: _signature(graph, n))
    names: dict[BNode, BNode] = {}

    def visit(node: Node) -> None:
        todo = [node]
        while todo:
            current = todo.pop()
            if not isinstance(current, BNode) or current in names:
                continue
            names[current] = BNode(f"b{len(names)}")
            children = sorted((o for p, o in graph.predicate_objects(current)
                               if isinstance(o, BNode) and o not in names and p not in _DATA_LINKS),
                              key=lambda o: (_signature(graph, o),), reverse=True)
            todo.extend(children)

    for node in [*roots, *result_nodes]:
        visit(node)
    for node in sorted((n for n in set(graph.subjects()) if isinstance(n, BNode) and n not in names), key=lambda n: _signature(graph, n)):
        visit(node)
    renamed = Graph()
    renamed.namespace_manager = graph.namespace_manager
    rename = lambda term: names.get(term, term) if isinstance(term, BNode) else term  # noqa: E731
    renamed.addN((rename(s), rename(p), rename(o), renamed) for s, p, o in graph)
    results = [Result(focus_node=rename(r.focus_node), path=rename(r.path) if r.path is not None else None,
                      value=rename(r.value) if r.value is not None else None, severity=r.severity, messages=r.messages,
                      source_shape=rename(r.source_shape) if r.source_shape is not None else None,
                      constraint_component=r.constraint_component) for r in results]
    return renamed, results


def _result_of(graph: Graph, node: Node) -> Result:
    messages = {m.language or "": str(m) for m in graph.objects(node, SH.resultMessage) if isinstance(m, Literal)}
    return Result(focus_node=graph.value(node, SH.focusNode), path=graph.value(node, SH.resultPath),
                  value=graph.value(node, SH.value), severity=str(graph.value(node, SH.resultSeverity)),
                  messages=messages, source_shape=graph.value(node, SH.sourceShape),
                  constraint_component=graph.value(node, SH.sourceConstraintComponent))


# Parallel validation of independent municipalities -------------------------------------------------

PARALLEL_MIN_TRIPLES = 100_000  # below this, one in-process run is quicker than starting processes
PARTS_PER_CHUNK = 25  # municipalities per pyshacl run: bounds each worker's memory
_CHUNKS: list[tuple[list[Graph], Graph | None]] = []  # (parts, vocabularies) per chunk, handed to
# forked workers by inheritance, not by pickling; each worker copies its chunk into a graph itself,
# so the copying (as costly per triple as reading) runs in parallel too


def independent_parts(dataset: Dataset) -> list[Graph] | None:
    """The municipality graphs, if validating each (or any group of them) together with the shared
    vocabularies is the same as validating the union; else None.

    It is the same when no resource is described (is a subject) in two municipality graphs or in a
    municipality graph and the vocabularies, and no graph points at (has as object) a resource
    another municipality graph describes: then every path and every SPARQL pattern that starts from a
    focus node stays inside its own graph plus the vocabularies. Our shapes' few whole-graph queries
    (duplicate notations, duplicate grid cells) group by a scheme or grid, which its municipality
    describes, so they too stay inside one part. A resource that is only ever an object (an
    undescribed IRI) yields the same finding in each part; ``_merge`` keeps one.
    """
    vocab = next((g for g in dataset.graphs() if g.identifier == VOCAB_GRAPH), None)
    parts = [g for g in dataset.graphs() if len(g) and g.identifier != VOCAB_GRAPH]
    found = independent([graph.subjects(unique=True) for graph in parts], [graph.objects(unique=True) for graph in parts],
                        vocab.subjects(unique=True) if vocab is not None else (),
                        vocab.objects(unique=True) if vocab is not None else ())
    return parts if found else None


def independent(subjects: list[Iterable], objects: list[Iterable], vocab_subjects: Iterable, vocab_objects: Iterable) -> bool:
    """The test of ``independent_parts`` over each part's subjects and objects (terms, or their
    N-Triples texts as the build cache keeps them): no subject in two parts or in a part and the
    vocabularies, no vocabulary term a part describes, no part pointing at another part's subject."""
    owner: dict = {}
    for index, found in enumerate(subjects):
        for subject in set(found):
            if owner.setdefault(subject, index) != index:
                return False
    if any(subject in owner for subject in vocab_subjects):
        return False
    if any(obj in owner for obj in vocab_objects):
        return False
    for index, found in enumerate(objects):
        for obj in found:
            if owner.get(obj, index) != index:
                return False
    return True


def _with_vocab(parts: list[Graph], vocab: Graph | None) -> Graph:
    graph = Graph()
    bind_prefixes(graph)
    for part in parts:
        graph += part
    if vocab is not None:
        graph += vocab
    return graph


def validate_dataset(dataset: Dataset, shapes: Graph | None = None, workers: int | None = None) -> ValidationReport:
    """Validate a built dataset: municipality by municipality in parallel processes where that is
    equivalent (see ``independent_parts``) and the data is large, else the union in one run."""
    from kg.build import union_graph

    if shapes is None:
        shapes = load_shapes()
    workers = workers or os.cpu_count() or 1
    total = sum(len(g) for g in dataset.graphs())
    parts = independent_parts(dataset) if total >= PARALLEL_MIN_TRIPLES and workers > 1 else None
    if not parts or len(parts) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return validate(union_graph(dataset), shapes)
    vocab = next((g for g in dataset.graphs() if g.identifier == VOCAB_GRAPH), None)
    size = max(1, min(PARTS_PER_CHUNK, -(-len(parts) // workers)))
    _CHUNKS[:] = [(parts[i:i + size], vocab) for i in range(0, len(parts), size)]
    try:
        with forked_pool(min(workers, len(_CHUNKS)), initializer=_worker_init, initargs=(shapes,)) as pool:
            pieces = pool.map(_validate_chunk, range(len(_CHUNKS)), chunksize=1)
    finally:
        _CHUNKS.clear()
    return _merge(pieces)


_WORKER_SHAPES: list[Graph] = []


def _worker_init(shapes: Graph) -> None:
    _WORKER_SHAPES[:] = [shapes]


Findings = tuple[list[tuple[Node, "Result"]], list[tuple[Node, Node, Node]], dict[Node, dict[str, str]]]


def _validate_chunk(index: int) -> Findings:
    return chunk_findings(*_CHUNKS[index], _WORKER_SHAPES[0])


def chunk_findings(parts: list[Graph], vocab: Graph | None, shapes: Graph) -> Findings:
    """Validate parts together with the vocabularies; the findings as plain, picklable data that
    ``merge_findings`` combines (a build caches them per data folder)."""
    report = validate(_with_vocab(parts, vocab), shapes)
    found = [(node, _read_result(report.graph, shapes, node)) for node in report.graph.subjects(RDF.type, SH.ValidationResult)]
    return found, list(report.graph), report.labels


def merge_findings(pieces: list[Findings]) -> ValidationReport:
    """One report from the findings of independent parts: one sh:ValidationReport node, each
    finding once, blank nodes named by content, so equal findings give equal bytes."""
    return _merge(pieces)


def _merge(pieces) -> ValidationReport:
    """One report from the chunks' reports: one sh:ValidationReport node, each finding once."""
    graph = Graph()
    bind_prefixes(graph)
    root = BNode()
    results: dict[tuple, Result] = {}
    labels: dict[Node, dict[str, str]] = {}
    for found, triples, chunk_labels in pieces:
        by_subject: dict[Node, list[tuple[Node, Node, Node]]] = {}
        for triple in triples:
            by_subject.setdefault(triple[0], []).append(triple)
        for node, result in found:
            key = (result.focus_node, result.path, result.value, result.severity, result.source_shape,
                   result.constraint_component, tuple(sorted(result.messages.items())))
            if key in results:
                continue  # the same finding about a shared, undescribed resource in another chunk
            results[key] = result
            graph.add((root, SH.result, node))
            todo, done = [node], set()
            while todo:  # the result node and the blank nodes below it (paths, details)
                current = todo.pop()
                if current in done:
                    continue
                done.add(current)
                for s, p, o in by_subject.get(current, []):
                    graph.add((s, p, o))
                    if isinstance(o, BNode) and o in by_subject and p != SH.value and p != SH.focusNode:
                        todo.append(o)
        for node, found_labels in chunk_labels.items():
            labels.setdefault(node, found_labels)
    ordered = sorted(results.values(), key=_order)
    conforms = not any(result.severity == "Violation" for result in ordered)
    graph.add((root, RDF.type, SH.ValidationReport))
    graph.add((root, SH.conforms, Literal(conforms)))
    graph, ordered = _named_by_content(graph, ordered)
    return ValidationReport(conforms_without_violations=conforms, results=ordered, graph=graph,
                            labels={r.focus_node: labels.get(r.focus_node, {}) for r in ordered})


class _PreparedQueryGraph(Graph):
    """The same store as the data graph, but each SPARQL text is parsed once, not once per focus node.

    pyshacl runs a SPARQL constraint once per focus node with the same text; rdflib's parser costs
    ~25 ms a time, which dominated validation time.
    """

    def query(self, query_object, *args, **kwargs):  # type: ignore[override]
        if isinstance(query_object, str):
            query_object = _prepared(query_object)
        return super().query(query_object, *args, **kwargs)


@functools.lru_cache(maxsize=512)
def _prepared(text: str) -> Query:
    return prepareQuery(text)


def exit_code(report: ValidationReport) -> int:
    """1 if the report has any violation, else 0 (warnings and infos do not fail)."""
    return 0 if report.conforms_without_violations else 1


def format_report(report: ValidationReport, lang: str = "de", fmt: str = "text") -> str:
    """The report as human text (grouped by resource), JSON (list of results) or Turtle (SHACL)."""
    if lang not in _WORDS:
        raise ValueError(f"unknown language {lang!r}; use one of {', '.join(_WORDS)}")
    if fmt == "text":
        return _format_text(report, lang)
    if fmt == "json":
        return _format_json(report, lang)
    if fmt == "turtle":
        return report.graph.serialize(format="turtle")
    raise ValueError(f"unknown format {fmt!r}; use text, json or turtle")


# --- reading the report -------------------------------------------------------------------------


def _read_result(report: Graph, shapes: Graph, node: Node) -> Result:
    severity_node = report.value(node, SH.resultSeverity)
    severity = str(severity_node).rsplit("#", 1)[-1] if severity_node is not None else "Violation"
    source_shape = report.value(node, SH.sourceShape)
    source_constraint = report.value(node, SH.sourceConstraint)
    messages = _messages_by_language(report, shapes, node, source_constraint, source_shape)
    return Result(
        focus_node=report.value(node, SH.focusNode),
        path=report.value(node, SH.resultPath),
        value=report.value(node, SH.value),
        severity=severity,
        messages=messages,
        source_shape=source_shape,
        constraint_component=report.value(node, SH.sourceConstraintComponent),
    )


def _messages_by_language(
    report: Graph, shapes: Graph, node: Node, source_constraint: Node | None, source_shape: Node | None
) -> dict[str, str]:
    """Messages keyed by language, language tags restored in the report graph too.

    pyshacl fills {?var} placeholders of SPARQL messages but drops the language tag on the way;
    matching each message against the language-tagged templates of its shape gives the tag back.
    """
    templates = [
        template
        for owner in (source_constraint, source_shape)
        if owner is not None
        for template in shapes.objects(owner, SH.message)
        if isinstance(template, Literal)
    ]
    messages: dict[str, str] = {}
    for message in list(report.objects(node, SH.resultMessage)):
        if not isinstance(message, Literal):
            continue
        lang = message.language or _language_of(str(message), templates)
        if lang and not message.language:
            report.remove((node, SH.resultMessage, message))
            report.add((node, SH.resultMessage, Literal(str(message), lang=lang)))
        messages.setdefault(lang or "", str(message))
    return messages


def _language_of(text: str, templates: list[Literal]) -> str | None:
    for template in templates:
        if not template.language:
            continue
        parts = re.split(r"\{[?$]\w+\}", str(template))
        pattern = "(?:.*?)".join(re.escape(part) for part in parts)
        if re.fullmatch(pattern, text, flags=re.DOTALL):
            return template.language
    return None


def _labels(data: Graph, node: Node) -> dict[str, str]:
    labels: dict[str, str] = {}
    for predicate in _LABEL_PREDICATES:
        for label in data.objects(node, predicate):
            if isinstance(label, Literal):
                labels.setdefault(label.language or "", str(label))
    return labels


# --- text -----------------------------------------------------------------------------------------


def _format_text(report: ValidationReport, lang: str) -> str:
    words = _WORDS[lang]
    groups: dict[Node, list[Result]] = {}
    for result in report.results:
        groups.setdefault(result.focus_node, []).append(result)
    ordered = sorted(
        groups.items(),
        key=lambda item: (min(_SEVERITY_RANK.get(r.severity, 9) for r in item[1]), str(item[0])),
    )
    lines = [words["title"], ""]
    if not ordered:
        lines += [words["clean"], ""]
    for focus, results in ordered:
        label = _pick(report.labels.get(focus, {}), lang)
        name = _short(report.graph, focus)
        lines.append(f"{label} <{focus}>" if label else name)
        for result in sorted(results, key=lambda r: (_SEVERITY_RANK.get(r.severity, 9), str(r.path), str(r.value))):
            severity_word = words[result.severity][0] if result.severity in words else result.severity
            details = []
            if result.path is not None:
                details.append(f"{words['path']}: {_path_text(report.graph, result.path)}")
            if result.value is not None and result.value != focus:
                details.append(f"{words['value']}: {_short(report.graph, result.value)}")
            lines.append(f"  [{severity_word}] {result.message(lang)}")
            if details:
                lines.append(f"      {'; '.join(details)}")
        lines.append("")
    counts = report.counts()
    parts = [f"{count} {words[severity][0 if count == 1 else 1]}" for severity, count in counts.items()]
    resource_word = words["resources"][0 if len(groups) == 1 else 1]
    lines.append(f"{words['summary']}: {', '.join(parts)} ({len(groups)} {resource_word})")
    lines.append(words["conforms"] if report.conforms_without_violations else words["fails"])
    return "\n".join(lines) + "\n"


def _pick(labels: dict[str, str], lang: str) -> str | None:
    for key in (lang, "de", "en", ""):
        if key in labels:
            return labels[key]
    return next(iter(labels.values()), None)


def _short(graph: Graph, node: Node) -> str:
    """A node as a reader wants it: prefixed name or <IRI>, literal with its datatype or language."""
    if isinstance(node, URIRef):
        try:
            prefix, _, local = graph.namespace_manager.compute_qname(node, generate=False)
            if local:
                return f"{prefix}:{local}"
        except (ValueError, KeyError):
            pass
        return f"<{node}>"
    if isinstance(node, Literal):
        return node.n3(graph.namespace_manager)
    return str(node.n3())


def _path_text(graph: Graph, path: Node) -> str:
    """A SHACL property path in SPARQL syntax (a|b, a/b, ^a, a*)."""
    if isinstance(path, URIRef):
        return _short(graph, path)
    if (path, RDF.first, None) in graph:
        return "/".join(_path_text(graph, step) for step in Collection(graph, path))
    for predicate, joiner in ((SH.alternativePath, "|"),):
        alternatives = graph.value(path, predicate)
        if alternatives is not None:
            return "(" + joiner.join(_path_text(graph, step) for step in Collection(graph, alternatives)) + ")"
    for predicate, template in (
        (SH.inversePath, "^{}"),
        (SH.zeroOrMorePath, "{}*"),
        (SH.oneOrMorePath, "{}+"),
        (SH.zeroOrOnePath, "{}?"),
    ):
        inner = graph.value(path, predicate)
        if inner is not None:
            return template.format(_path_text(graph, inner))
    return str(path.n3()) if isinstance(path, BNode) else str(path)


# --- json -----------------------------------------------------------------------------------------


def _format_json(report: ValidationReport, lang: str) -> str:
    items = [
        {
            "focusNode": _json_node(result.focus_node),
            "focusLabel": _pick(report.labels.get(result.focus_node, {}), lang),
            "path": _path_text(report.graph, result.path) if result.path is not None else None,
            "value": _json_node(result.value) if result.value is not None else None,
            "severity": result.severity,
            "message": result.message(lang),
            "messages": dict(sorted(result.messages.items())),  # same order in every run
            "sourceShape": _json_node(result.source_shape) if result.source_shape is not None else None,
            "constraintComponent": (
                _json_node(result.constraint_component) if result.constraint_component is not None else None
            ),
        }
        for result in report.results
    ]
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


def _json_node(node: Node) -> str:
    if isinstance(node, BNode):
        return node.n3()
    return str(node)
