"""One resource's triples (from ``server.describe``) shaped for its page: statements both ways.

Labels in the chosen language with a fallback; blank and ``#`` nodes (attributions, periods) are
folded into the statement that points at them, so a page reads "Jugendamt (Träger)", not node ids.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox

from server.pages.labels import LABEL_IRIS, local_name, pick, term_label

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
DCT = "http://purl.org/dc/terms/"
KIK = "https://w3id.org/kik/ontology#"
PROV = "http://www.w3.org/ns/prov#"
DCAT = "http://www.w3.org/ns/dcat#"
DESCRIPTION_IRIS = (DCT + "description", "http://www.w3.org/2004/02/skos/core#definition",
                    "http://www.w3.org/2000/01/rdf-schema#comment")
SHOWN_ELSEWHERE = {RDF_TYPE, DCT + "source", KIK + "sourcePage", KIK + "fictional", *LABEL_IRIS, *DESCRIPTION_IRIS}


@dataclass
class Item:
    """One value of a statement: a link to a resource, or a literal (with its language)."""

    text: str
    iri: str | None = None
    lang: str | None = None
    note: str | None = None  # e.g. the role of an actor


@dataclass
class Statement:
    predicate: str
    label: str
    items: list[Item]


@dataclass
class ResourceView:
    iri: str
    label: str
    description: str | None
    types: list[Item]
    type_iris: set[str]
    fictional: bool
    statements: list[Statement]
    incoming: list[Statement]
    sources: list[Item]
    source_page: str | None
    objects: dict[str, set[str]] = field(default_factory=dict)  # predicate → object IRIs


def _node_key(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> str:
    return term.value if isinstance(term, ox.NamedNode) else f"_:{term.value}"


def build_view(iri: str, triples: list[ox.Triple], lang: str, extra_labels: dict[str, str]) -> ResourceView:
    """The page model of ``iri``; ``extra_labels`` names IRIs that the description does not label."""
    by_subject: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    incoming: dict[str, set[str]] = defaultdict(set)
    for triple in triples:
        s = _node_key(triple.subject)
        by_subject[s][triple.predicate.value].append(triple.object)
        if isinstance(triple.object, ox.NamedNode) and triple.object.value == iri and s != iri:
            incoming[triple.predicate.value].add(s.split("#", 1)[0] if "#" in s and not s.startswith(iri + "#") else s)

    def label_of(node: str) -> str:
        literals = [lit for p in LABEL_IRIS for lit in by_subject.get(node, {}).get(p, [])]
        return pick(literals, lang) or extra_labels.get(node) or local_name(node)

    def is_child(node: str) -> bool:
        return node.startswith("_:") or node.startswith(iri + "#")

    def item_for(term) -> Item:
        if isinstance(term, ox.Literal):
            datatype = term.datatype.value if term.datatype else ""
            if datatype.endswith("#boolean"):
                return Item(text={"true": "ja" if lang == "de" else "yes",
                                  "false": "nein" if lang == "de" else "no"}.get(term.value, term.value))
            return Item(text=term.value, lang=term.language)
        key = _node_key(term)
        if is_child(key) and key in by_subject:
            return _folded(key)
        return Item(text=label_of(key), iri=key)

    def _folded(key: str) -> Item:
        props = by_subject[key]
        agent = props.get(PROV + "agent")
        if agent:
            role = props.get(PROV + "hadRole")
            return Item(text=label_of(agent[0].value), iri=agent[0].value,
                        note=label_of(role[0].value) if role else None)
        start, end = props.get(DCAT + "startDate"), props.get(DCAT + "endDate")
        if start or end:
            text = f"{start[0].value if start else '…'} – {end[0].value if end else '…'}"
            return Item(text=text)
        parts = [f"{term_label(p, lang)}: {', '.join(item_for(o).text for o in os)}"
                 for p, os in sorted(props.items()) if p != RDF_TYPE]
        return Item(text="; ".join(parts))

    mine = by_subject.get(iri, {})
    statements = []
    for predicate, objects in sorted(mine.items(), key=lambda kv: term_label(kv[0], lang).casefold()):
        if predicate in SHOWN_ELSEWHERE:
            continue
        literals = [o for o in objects if isinstance(o, ox.Literal)]
        tagged = [o for o in literals if o.language]
        chosen = [o for o in objects if not (isinstance(o, ox.Literal) and o.language)]
        if tagged:
            best = pick(tagged, lang)
            chosen += [next(o for o in tagged if o.value == best)]
        items = sorted((item_for(o) for o in chosen), key=lambda i: (i.text.casefold(), i.iri or ""))
        statements.append(Statement(predicate=predicate, label=term_label(predicate, lang), items=items))

    back = []
    for predicate, subjects in sorted(incoming.items(), key=lambda kv: term_label(kv[0], lang).casefold()):
        items = sorted((Item(text=label_of(s), iri=s) for s in subjects if not s.startswith("_:")),
                       key=lambda i: (i.text.casefold(), i.iri or ""))
        if items:
            back.append(Statement(predicate=predicate, label=term_label(predicate, lang), items=items))

    descriptions = [lit for p in DESCRIPTION_IRIS for lit in mine.get(p, [])]
    types = [o.value for o in mine.get(RDF_TYPE, []) if isinstance(o, ox.NamedNode)]
    pages = [o.value for o in mine.get(KIK + "sourcePage", [])]
    return ResourceView(
        iri=iri,
        label=label_of(iri),
        description=pick(descriptions, lang),
        types=sorted((Item(text=term_label(t, lang), iri=t) for t in types), key=lambda i: i.text),
        type_iris=set(types),
        fictional=any(o.value == "true" for o in mine.get(KIK + "fictional", [])),
        statements=statements,
        incoming=back,
        sources=[item_for(o) for o in mine.get(DCT + "source", []) if isinstance(o, ox.NamedNode)],
        source_page=", ".join(sorted(pages)) or None,
        objects={p: {o.value for o in os if isinstance(o, ox.NamedNode)} for p, os in mine.items()},
    )


def unlabelled(iri: str, triples: list[ox.Triple]) -> set[str]:
    """IRIs the page will show that the description gives no label for (named in one more query)."""
    labelled = {t.subject.value for t in triples if t.predicate.value in LABEL_IRIS}
    shown: set[str] = set()
    for t in triples:
        for term in (t.subject, t.object):
            if isinstance(term, ox.NamedNode):
                shown.add(term.value.split("#", 1)[0] if not term.value.startswith(iri + "#") else term.value)
    return {s for s in shown if s not in labelled and not s.startswith(iri + "#")}
