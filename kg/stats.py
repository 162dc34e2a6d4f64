"""Counts per class and the completeness report: what the concept declares vs. what is recorded.

The report states gaps plainly ("0 of 48 measures recorded") instead of anything filling them.
"""

from __future__ import annotations

from collections import Counter

from rdflib import RDF, Graph, URIRef
from rdflib.namespace import DCTERMS, SKOS

from kg.namespace import KIK, PREFIXES


def _curie(iri: URIRef) -> str:
    for prefix, namespace in sorted(PREFIXES.items(), key=lambda item: -len(item[1])):
        if str(iri).startswith(namespace):
            return f"{prefix}:{str(iri)[len(namespace):]}"
    return str(iri)


def class_counts(graph: Graph) -> dict[str, int]:
    """Instances per rdf:type, as CURIEs, most frequent first."""
    counts = Counter(_curie(cls) for cls in graph.objects(None, RDF.type))
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _label(graph: Graph, node: URIRef) -> str:
    for predicate in (DCTERMS.title, SKOS.prefLabel):
        for value in graph.objects(node, predicate):
            if getattr(value, "language", None) == "de":
                return str(value)
    return str(node)


def _parts(graph: Graph, concept: URIRef, cls: URIRef, segment: str, below: dict[str, set] | None = None) -> set[URIRef]:
    members = {s for s in graph.subjects(DCTERMS.isPartOf, concept) if (s, RDF.type, cls) in graph}
    if below is None:
        below = _instances_below(graph, cls, segment)
    members |= below.get(str(concept), set())
    return members


def _instances_below(graph: Graph, cls: URIRef, segment: str) -> dict[str, set]:
    """Instances of ``cls`` by every IRI they sit below as ``<IRI>/<segment>/…``: one pass over the
    instances instead of one per concept (which grew with the square of the municipalities)."""
    marker = f"/{segment}/"
    below: dict[str, set] = {}
    for s in graph.subjects(RDF.type, cls):
        text = str(s)
        at = text.find(marker)
        while at >= 0:
            below.setdefault(text[:at], set()).add(s)
            at = text.find(marker, at + 1)
    return below


def concept_completeness(graph: Graph, concept: URIRef, below: dict[str, dict[str, set]] | None = None) -> dict[str, object]:
    """Declared against recorded for one concept version (``below``: ``_instances_below`` per segment,
    computed once for many concepts)."""
    below = below or {}
    measures = {s for s in graph.subjects(DCTERMS.isPartOf, concept) if (s, RDF.type, KIK.Measure) in graph}
    fields = _parts(graph, concept, KIK.ActionField, "handlungsfeld", below.get("handlungsfeld"))
    goals = _parts(graph, concept, KIK.StrategicGoal, "ziel", below.get("ziel"))
    grid = graph.value(concept, KIK.challengeGrid)
    challenges = set(graph.subjects(SKOS.inScheme, grid)) if grid is not None else set()

    def declared(predicate: URIRef) -> int | None:
        value = graph.value(concept, predicate)
        return int(value) if value is not None else None

    return {
        "concept": str(concept),
        "label": _label(graph, concept),
        "measures": {"recorded": len(measures), "declared": declared(KIK.declaredMeasureCount)},
        "action_fields": {"recorded": len(fields), "declared": declared(KIK.declaredActionFieldCount)},
        "goals": {"recorded": len(goals), "declared": declared(KIK.declaredGoalCount)},
        "challenges": {"recorded": len(challenges), "declared": declared(KIK.declaredChallengeCount)},
        "profiles_known": {
            "recorded": sum(1 for m in measures if (m, KIK.addressesChallenge, None) in graph),
            "of": len(measures),
        },
        "action_fields_with_goal": {
            "recorded": sum(1 for f in fields if (f, KIK.servesGoal, None) in graph),
            "of": len(fields),
        },
        "measures_with_action_field": {
            "recorded": sum(1 for m in measures if (m, KIK.inActionField, None) in graph),
            "of": len(measures),
        },
        "activities_related": sum(1 for _ in graph.subjects(KIK.relatedConcept, concept)),
    }


def statistics(graph: Graph) -> dict[str, object]:
    """Everything ``kg stats`` reports, as plain data (also written to dist/stats.json)."""
    concepts = sorted(graph.subjects(RDF.type, KIK.IntegrationConcept), key=str)
    declared = [c for c in concepts if any(True for _ in graph.objects(c, KIK.declaredMeasureCount))]
    below = {"handlungsfeld": _instances_below(graph, KIK.ActionField, "handlungsfeld"),
             "ziel": _instances_below(graph, KIK.StrategicGoal, "ziel")}
    return {
        "triples": len(graph),
        "classes": class_counts(graph),
        "activities_not_measures": sum(
            1 for a in graph.subjects(RDF.type, KIK.IntegrationActivity) if (a, RDF.type, KIK.Measure) not in graph
        ),
        "completeness": [concept_completeness(graph, c, below) for c in declared],
    }


WORDS = {
    "de": {
        "triples": "Tripel",
        "classes": "Instanzen je Klasse",
        "completeness": "Vollständigkeit",
        "measures": "{r} von {d} Maßnahmen des Konzepts erfasst",
        "action_fields": "{r} von {d} Handlungsfeldern benannt",
        "goals": "{r} von {d} strategischen Zielen benannt",
        "challenges": "{r} von {d} Herausforderungen im Raster",
        "profiles_known": "Profile bekannt für {r} von {d} erfassten Maßnahmen",
        "action_fields_with_goal": "{r} von {d} benannten Handlungsfeldern einem Ziel zugeordnet",
        "measures_with_action_field": "{r} von {d} erfassten Maßnahmen einem Handlungsfeld zugeordnet",
        "activities_related": "{r} weitere Aktivitäten, die eine Quelle mit diesem Konzept verknüpft",
        "activities_not_measures": "Aktivitäten, die keine Maßnahme eines Konzepts sind: {r}",
        "unknown": "?",
    },
    "en": {
        "triples": "triples",
        "classes": "instances per class",
        "completeness": "Completeness",
        "measures": "{r} of {d} measures of the concept recorded",
        "action_fields": "{r} of {d} action fields named",
        "goals": "{r} of {d} strategic goals named",
        "challenges": "{r} of {d} challenges in the grid",
        "profiles_known": "profiles known for {r} of {d} recorded measures",
        "action_fields_with_goal": "{r} of {d} named action fields mapped to a goal",
        "measures_with_action_field": "{r} of {d} recorded measures assigned to an action field",
        "activities_related": "{r} further activities that a source links to this concept",
        "activities_not_measures": "activities that are not a measure of any concept: {r}",
        "unknown": "?",
    },
}


def format_statistics(stats: dict, lang: str = "de") -> str:
    """The human report of ``kg stats``."""
    words = WORDS[lang]
    lines = [f"{stats['triples']} {words['triples']}", "", f"{words['classes']}:"]
    width = max((len(name) for name in stats["classes"]), default=0)
    lines += [f"  {name:<{width}}  {count:>7}" for name, count in stats["classes"].items()]
    lines += ["", words["activities_not_measures"].format(r=stats["activities_not_measures"])]
    for report in stats["completeness"]:
        lines += ["", f"{words['completeness']}: {report['label']} <{report['concept']}>"]
        for key in ("measures", "action_fields", "goals", "challenges"):
            item = report[key]
            declared = item["declared"] if item["declared"] is not None else words["unknown"]
            lines.append("  " + words[key].format(r=item["recorded"], d=declared))
        for key in ("profiles_known", "action_fields_with_goal", "measures_with_action_field"):
            lines.append("  " + words[key].format(r=report[key]["recorded"], d=report[key]["of"]))
        lines.append("  " + words["activities_related"].format(r=report["activities_related"]))
    return "\n".join(lines) + "\n"
