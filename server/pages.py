"""HTML for people: the concept at a glance, a page per resource, the measures list, comparison.

Routes use paths no dataset IRI can take (``/``, ``/massnahmen``, ``/vergleich``, ``/profil.svg``);
``resource_html`` renders any dataset IRI for ``server.linked_data``. German first, ``?lang=en``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, render_template, request
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from server import page_data
from server.chart_svg import line_chart
from server.describe import describe
from server.i18n import LANGUAGES, format_number, request_lang, translate
from server.iri import dataset_base, to_local
from server.labels import local_name
from server.measure_filter import SINGLE, apply, parse
from server.profile_svg import profile_svg, unknown_svg
from server.profiles import Grid, jaccard, most_similar
from server.resource_view import build_view, unlabelled

bp = Blueprint("pages", __name__)

KIK = "https://w3id.org/kik/ontology#"
RDF_FORMATS = (("ttl", "text/turtle", "Turtle"), ("jsonld", "application/ld+json", "JSON-LD"),
               ("nt", "application/n-triples", "N-Triples"), ("rdf", "application/rdf+xml", "RDF/XML"))
DOWNLOADS = ("kg.ttl", "kg.jsonld", "kg.nt", "kg.rdf", "kg.trig", "kg.nq")
SCHEMA_TYPES = {
    KIK + "Measure": "Project", KIK + "IntegrationActivity": "Project",
    KIK + "IntegrationConcept": "CreativeWork", KIK + "Document": "DigitalDocument",
    KIK + "Source": "CreativeWork", KIK + "Municipality": "GovernmentOrganization",
    KIK + "AdministrativeUnit": "GovernmentOrganization", KIK + "CouncilBody": "GovernmentOrganization",
    KIK + "PublicAuthority": "GovernmentOrganization", KIK + "CivilSocietyOrganisation": "NGO",
    KIK + "Programme": "Organization", "http://purl.org/linked-data/cube#Observation": "Observation",
    "http://purl.org/linked-data/cube#DataSet": "Dataset",
}


def _store():
    return current_app.extensions["kik.store"]


def _lang_or_default() -> str:
    value = request.args.get("lang", "de")
    return value if value in LANGUAGES else "de"


SAFE_SCHEMES = ("http://", "https://", "mailto:", "/")


def _with_lang(url: str, lang: str | None, **params: object) -> str:
    """``url`` with ``lang`` (unless None) and more query parameters, before any fragment.

    Only http(s), mailto and local paths become links: an IRI like ``javascript:…`` in the data
    must not turn into a script link.
    """
    if not url.startswith(SAFE_SCHEMES):
        return "#"
    base, hash_, fragment = url.partition("#")
    query = [(k, v) for k, values in params.items() for v in (values if isinstance(values, (list, tuple)) else [values])
             if v not in (None, "")]
    if lang:
        query.append(("lang", lang))
    if query:
        base += ("&" if "?" in base else "?") + urlencode(query)
    return base + hash_ + fragment


def _helpers_for(lang: str) -> dict:
    """Template helpers in one language: texts, links that keep the language, the switch link."""
    explicit = "lang" in request.args or lang != "de"

    def keep(url: str, **params: object) -> str:
        return _with_lang(url, lang if explicit else None, **params)

    def keep_local(iri: str, **params: object) -> str:
        if iri.startswith(dataset_base()):
            return keep(to_local(iri), **params)
        return iri if iri.startswith(SAFE_SCHEMES) else "#"

    def switch_url() -> str:
        """The same page in the other language (always explicit, so it beats Accept-Language)."""
        args = [(k, v) for k, vs in request.args.lists() for v in vs if k != "lang"]
        args.append(("lang", "en" if lang == "de" else "de"))
        return request.path + "?" + urlencode(args)

    return {
        "lang": lang,
        "t": lambda key, **values: translate(lang, key, **values),
        "href": keep,
        "local": keep_local,
        "number": lambda value: format_number(value, lang),
        "switch_url": switch_url,
        "downloads": DOWNLOADS,
    }


@bp.app_context_processor
def _helpers() -> dict:
    """Helpers for every page of the app (other blueprints may extend base.html too)."""
    return _helpers_for(_lang_or_default())


@bp.errorhandler(400)
@bp.errorhandler(404)
def _client_error(error: HTTPException):
    """A bad parameter or unknown measure gets a readable page with the reason, never a 500."""
    key = "bad_request" if error.code == 400 else "not_found"
    return render_template("pages/error.html", code=error.code, title=translate(_lang_or_default(), key),
                           message=error.description), error.code


def _fail(code: int, message: str):
    abort(code, description=message)


# ---------------------------------------------------------------------------------------------
# landing page


def _heat_levels(counts: dict[str, int], grid: Grid) -> dict[str, int]:
    """0–4 shade per cell relative to the busiest challenge (0 = no measure)."""
    top = max((counts.get(c.iri, 0) for c in grid.cells), default=0)
    return {c.iri: (0 if not counts.get(c.iri) else 1 + min(3, (counts[c.iri] - 1) * 4 // max(top, 1)))
            for c in grid.cells}


def _chart(figures: list[page_data.Figure], lang: str) -> list[dict]:
    """One small line chart per indicator with dated values."""
    charts: dict[str, list[page_data.Figure]] = {}
    for figure in figures:
        if figure.day:  # a chart needs at least two dated values of one indicator (see below)
            charts.setdefault(figure.indicator, []).append(figure)
    result = []
    for series in charts.values():
        if len({f.day for f in series}) < 2:
            continue
        label = series[0].indicator_label
        points = [(f.day, f.value) for f in series]
        text = ", ".join(f"{f.period}: {format_number(f.value, lang)}" for f in series)
        result.append({"label": label, "svg": line_chart(
            points, label, translate(lang, "chart_desc", label=label, points=text),
            number=lambda v: format_number(v, lang))})
    return result


def _overview(municipality: page_data.Municipality, lang: str) -> dict:
    store = _store()
    concept = municipality.current
    grids = page_data.grids(store, lang)
    grid_iri = grids.by_concept.get(concept.iri)
    grid = grids.by_iri.get(grid_iri) if grid_iri else None
    counts = page_data.challenge_counts(store)
    figures = page_data.figures(store, municipality, lang)
    latest: dict[str, page_data.Figure] = {}
    for figure in figures:
        if figure.indicator not in latest or (figure.day and latest[figure.indicator].day
                                              and figure.day > latest[figure.indicator].day):
            latest[figure.indicator] = figure
    return {
        "municipality": municipality,
        "concept": concept,
        "labels": {c.iri: c.label for c in municipality.concepts},
        "goals": page_data.goals(store, concept.iri, lang),
        "grid": grid,
        "counts": counts,
        "levels": _heat_levels(counts, grid) if grid else {},
        "report": page_data.completeness(store).get(concept.iri),
        "figures": figures,
        "latest": sorted(latest.values(), key=lambda f: f.indicator_label.casefold()),
        "charts": _chart(figures, lang),
        "documents": page_data.documents(store, [c.iri for c in municipality.concepts], lang),
    }


@bp.get("/")
def landing():
    lang = request_lang()
    store = _store()
    overviews = [_overview(m, lang) for m in page_data.municipalities(store, lang)]
    jsonld = {
        "@context": "https://schema.org",
        "@type": "DataCatalog",
        "name": translate(lang, "site"),
        "description": translate(lang, "intro"),
        "url": request.host_url,
        "inLanguage": lang,
        "dataset": [{"@type": "Dataset", "@id": o["concept"].iri, "name": o["concept"].label,
                     "url": to_local(o["concept"].iri)} for o in overviews],
        "distribution": [{"@type": "DataDownload", "contentUrl": request.host_url + "download/" + name}
                         for name in DOWNLOADS],
    }
    return render_template("pages/landing.html", overviews=overviews, jsonld=jsonld)


# ---------------------------------------------------------------------------------------------
# one page per resource


def _measure_grid(view_objects: dict[str, set[str]], grids: page_data.Grids) -> Grid | None:
    """The grid a measure's profile is drawn on: that of its challenges, else that of its concept."""
    for challenge in sorted(view_objects.get(KIK + "addressesChallenge", ())):
        if challenge in grids.by_challenge:
            return grids.by_iri[grids.by_challenge[challenge]]
    for concept in sorted(view_objects.get("http://purl.org/dc/terms/isPartOf", ())):
        if concept in grids.by_concept and grids.by_concept[concept] in grids.by_iri:
            return grids.by_iri[grids.by_concept[concept]]
    return None


def _similar(iri: str, lang: str) -> list[tuple[page_data.MeasureRecord, float]]:
    records = page_data.measures(_store(), lang)
    by_iri = records.by_iri()
    mine = by_iri.get(iri)
    if mine is None or not mine.challenges:
        return []
    peers = {r.iri: r.challenges for r in records.records if r.concept == mine.concept}
    return [(by_iri[other], score) for other, score in most_similar(iri, peers)]


def resource_html(iri: str, lang: str) -> str | None:
    """The HTML page of any dataset IRI, or ``None`` when the graph says nothing about it.

    Called by ``server.linked_data`` inside a request, after content negotiation chose HTML.
    """
    if lang not in LANGUAGES:
        lang = "de"
    store = _store()
    triples = describe(store, iri)
    if not any(t.subject.value == iri for t in triples):
        return None
    view = build_view(iri, triples, lang, page_data.labels_for(store, unlabelled(iri, triples), lang))
    grids = page_data.grids(store, lang)
    context: dict = {"view": view, "formats": RDF_FORMATS}
    is_activity = bool(view.type_iris & {KIK + "Measure", KIK + "IntegrationActivity"})
    if is_activity:
        addressed = view.objects.get(KIK + "addressesChallenge", set())
        context["profile_grid"] = _measure_grid(view.objects, grids)
        context["addressed"] = addressed
        context["similar"] = _similar(iri, lang)
    if KIK + "Challenge" in view.type_iris and iri in grids.by_challenge:
        context["position_grid"] = grids.by_iri[grids.by_challenge[iri]]
    if KIK + "IntegrationConcept" in view.type_iris and iri in grids.by_concept:
        grid = grids.by_iri.get(grids.by_concept[iri])
        if grid:
            counts = page_data.challenge_counts(store)
            context.update(heat_grid=grid, counts=counts, levels=_heat_levels(counts, grid))
    schema_type = next((SCHEMA_TYPES[t] for t in sorted(view.type_iris) if t in SCHEMA_TYPES), "DefinedTerm")
    jsonld = {"@context": "https://schema.org", "@type": schema_type, "@id": iri, "name": view.label,
              "url": to_local(iri), "inLanguage": lang}
    if view.description:
        jsonld["description"] = view.description
    if view.sources:
        jsonld["citation"] = [s.iri for s in view.sources if s.iri]
    context["jsonld"] = jsonld
    # the caller's language (it may come from Accept-Language) wins over the context processor's
    return render_template("pages/resource.html", **{**context, **_helpers_for(lang)})


# ---------------------------------------------------------------------------------------------
# profiles as SVG files


@bp.get("/profil.svg")
def profile_file():
    """A measure's profile as a standalone SVG (grid, indices, legend) for reports."""
    lang = request_lang()
    iri = request.args.get("iri", "")
    if not iri:
        _fail(400, "Parameter iri fehlt / missing: /profil.svg?iri=<IRI of a measure>")
    record = page_data.measures(_store(), lang).by_iri().get(iri)
    if record is None:
        _fail(404, f"no measure with IRI {iri!r}")
    grids = page_data.grids(_store(), lang)
    grid = _measure_grid({KIK + "addressesChallenge": set(record.challenges),
                          "http://purl.org/dc/terms/isPartOf": set(record.facets["concepts"])}, grids)
    title = translate(lang, "profile_of", label=record.title)
    if not record.challenges or grid is None:
        svg = unknown_svg(title, translate(lang, "profile_unknown"), standalone=True)
    else:
        svg = profile_svg(grid, record.challenges, title, _profile_text(grid, record.challenges, lang),
                          legend=True, standalone=True)
    return Response(str(svg), mimetype="image/svg+xml")


def _profile_text(grid: Grid, addressed, lang: str) -> str:
    cells = grid.ordered(addressed)
    if not cells:
        return translate(lang, "profile_addresses_none")
    names = "; ".join(f"{c.index} {c.label}" for c in cells)
    return translate(lang, "profile_addresses", n=len(cells), total=len(grid.cells), names=names)


def _mini_profile(record: page_data.MeasureRecord, grids: page_data.Grids, lang: str) -> Markup | None:
    grid = _measure_grid({KIK + "addressesChallenge": set(record.challenges),
                          "http://purl.org/dc/terms/isPartOf": set(record.facets["concepts"])}, grids)
    if not record.challenges or grid is None:
        return None
    return profile_svg(grid, record.challenges, translate(lang, "profile_of", label=record.title),
                       _profile_text(grid, record.challenges, lang), cell=16, hover=False)


# ---------------------------------------------------------------------------------------------
# measures list with filters


@bp.get("/massnahmen")
def measures_list():
    lang = request_lang()
    try:
        criteria = parse(request.args, request.args.getlist)
    except ValueError as error:
        _fail(400, str(error))
    data = page_data.measures(_store(), lang)
    grids = page_data.grids(_store(), lang)
    found = apply(data.records, criteria)
    options = {}
    for name, facet in SINGLE.items():
        values = {v for r in data.records for v in r.facets.get(facet, ())}
        options[name] = sorted(((v, data.labels.get(v, local_name(v))) for v in values),
                               key=lambda item: (item[1].casefold(), item[0]))
    used_grids = [grids.by_iri[g] for g in sorted({grids.by_challenge[c] for r in data.records
                                                   for c in r.challenges if c in grids.by_challenge})]
    jsonld = {"@context": "https://schema.org", "@type": "ItemList", "name": translate(lang, "measures_title"),
              "numberOfItems": len(found), "inLanguage": lang,
              "itemListElement": [{"@type": "ListItem", "position": n + 1, "url": to_local(r.iri), "name": r.title}
                                  for n, r in enumerate(found)]}
    return render_template(
        "pages/measures.html", criteria=criteria, results=found, options=options, grids=used_grids,
        minis={r.iri: _mini_profile(r, grids, lang) for r in found}, jsonld=jsonld, filters=SINGLE,
    )


# ---------------------------------------------------------------------------------------------
# comparison


@bp.get("/vergleich")
def compare():
    lang = request_lang()
    chosen = list(dict.fromkeys(v for v in request.args.getlist("m") if v))
    data = page_data.measures(_store(), lang)
    by_iri = data.by_iri()
    if not chosen:
        return render_template("pages/compare.html", items=[], all_measures=data.records, jsonld=None)
    if not 2 <= len(chosen) <= 4:
        _fail(400, translate(lang, "compare_need"))
    unknown = [m for m in chosen if m not in by_iri]
    if unknown:
        _fail(404, f"no measure with IRI {unknown[0]!r}")
    grids = page_data.grids(_store(), lang)
    records = [by_iri[m] for m in chosen]
    known = [r for r in records if r.challenges]
    shared = frozenset.intersection(*(r.challenges for r in known)) if len(known) >= 2 else frozenset()
    items = []
    for record in records:
        grid = _measure_grid({KIK + "addressesChallenge": set(record.challenges),
                              "http://purl.org/dc/terms/isPartOf": set(record.facets["concepts"])}, grids)
        others = set().union(*(r.challenges for r in known if r is not record)) if record.challenges else set()
        items.append({"record": record, "grid": grid, "only": (grid.ordered(record.challenges - others) if grid else []),
                      "text": _profile_text(grid, record.challenges, lang) if grid and record.challenges else ""})
    cells = {c.iri: c for g in grids.by_iri.values() for c in g.cells}
    shared_cells = sorted((cells[c] for c in shared if c in cells), key=lambda c: c.index)
    pairs = [{"a": a, "b": b, "shared": len(a.challenges & b.challenges), "union": len(a.challenges | b.challenges),
              "score": jaccard(a.challenges, b.challenges)} for i, a in enumerate(records) for b in records[i + 1:]]
    jsonld = {"@context": "https://schema.org", "@type": "ItemList", "name": translate(lang, "compare_title"),
              "inLanguage": lang,
              "itemListElement": [{"@type": "ListItem", "position": n + 1, "url": to_local(r.iri), "name": r.title}
                                  for n, r in enumerate(records)]}
    return render_template("pages/compare.html", items=items, shared=shared_cells, pairs=pairs,
                           known=known, all_measures=data.records, jsonld=jsonld)
