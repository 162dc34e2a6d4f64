"""HTML for people: the concept at a glance, a page per resource, the measures list, comparison.

Routes use paths no dataset IRI can take (``/``, ``/massnahmen``, ``/vergleich``, ``/profil.svg``);
``resource_html`` renders any dataset IRI for ``server.linked_data``. German first, ``?lang=en``.
"""

from __future__ import annotations

import functools
import os
import threading
from collections import Counter
from dataclasses import dataclass
from itertools import chain
from urllib.parse import urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, abort, current_app, render_template, request
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from server.pages import deployment, page_data
from server.pages.chart_svg import line_chart
from server.publishing import page_cache
from server.publishing.describe import describe
from server.pages.i18n import LANGUAGES, format_number, request_lang, translate
from server.publishing.iri import dataset_base, public_base, to_local
from server.pages.labels import local_name
from server.pages.measure_filter import SINGLE, apply, parse
from server.pages.profile_svg import profile_svg, unknown_svg
from server.pages.profiles import Grid, heat_levels, jaccard, most_similar
from server.pages.resource_view import build_view, unlabelled

bp = Blueprint("pages", __name__, template_folder="templates")


@bp.record_once
def _register_resource_pages(state) -> None:
    """Dereferenced IRIs get their HTML from ``resource_html`` (looked up at call time)."""
    state.app.extensions["kik.resource_html"] = lambda iri, lang: resource_html(iri, lang)
    if state.app.config.get("KIK_WARM_PAGES"):
        _warm(state.app)


@bp.before_app_request
def _warm_new_build() -> None:
    """After a swap to a new build, its page data is computed in the background too."""
    if current_app.config.get("KIK_WARM_PAGES"):
        _warm(current_app._get_current_object())


def _warm(app) -> None:
    """Compute the page data of the served build once, in a background thread, so that the first
    visitors do not wait for it (seconds at 400 municipalities; see docs/pages.md)."""
    store = app.extensions.get("kik.store")
    # the process id too: a worker forked from a preloading master (gunicorn --preload) has no thread
    key = (os.getpid(), id(store), (getattr(store, "build", None) or {}).get("build"))
    warmed = app.extensions.setdefault("kik.pages.warmed", set())
    if store is None or key in warmed:
        return
    warmed.add(key)

    def run() -> None:
        with app.app_context():
            try:
                for lang in LANGUAGES:
                    deployment.entries(store, lang)
                    deployment.heat(store, lang)
                    page_data.measures(store, lang)
            except Exception:  # a page asking later computes (and reports) it itself
                app.logger.exception("warming the page data failed")

    threading.Thread(target=run, name="kik-pages-warm", daemon=True).start()

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


# texts of the multi-municipality parts (grids side by side, comparison across municipalities)
MULTI_TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "overview_title": "Der Bestand im Überblick",
        "count_municipalities": "Kommunen",
        "count_real": "davon mit Daten aus echten Quellen",
        "count_concepts": "Konzeptversionen",
        "count_measures": "erfasste Maßnahmen",
        "heat_title": "Herausforderungen über alle Konzepte",
        "heat_intro": "Je Herausforderung: in wie vielen aktuellen Konzepten (mit erfassten Maßnahmen) mindestens eine Maßnahme sie bearbeitet, "
                      "und der Median der Maßnahmen je Konzept. Herausforderungen verschiedener Raster gelten hier als "
                      "gleich, wenn Nummer und Bezeichnung übereinstimmen (ohne den Zusatz „fiktiv“).",
        "heat_cell": "in {a} von {n} Konzepten bearbeitet · Median {median} Maßnahmen",
        "heat_unrecorded": "Nicht mitgezählt: Konzepte ohne erfasste Maßnahmen ({n}).",
        "heat_others": "Herausforderungen aus Rastern mit anderer Einteilung",
        "heat_none": "Kein Konzept hat ein Herausforderungsraster.",
        "list_title": "Kommunen",
        "list_search": "Kommune oder Konzept suchen",
        "list_button": "suchen",
        "list_found": "{n} Kommunen",
        "list_none": "Keine Kommune passt zur Suche.",
        "col_municipality": "Kommune",
        "col_concept": "aktuelles Konzept",
        "col_measures": "Maßnahmen erfasst / angekündigt",
        "col_profiles": "Profil bekannt",
        "col_goals": "Ziele erfasst / angekündigt",
        "col_challenges": "Herausforderungen",
        "municipality_page": "Seite der Kommune",
        "back_to_list": "Alle Kommunen",
        "grids_search": "Kommunen filtern",
        "grids_page_note": "{shown} von {n} Kommunen auf dieser Seite.",
        "facet_counts": "Treffer je Merkmal",
        "facet_more": "… und {n} weitere Werte",
        "groups_page_note": "Maßnahmen von {shown} der {n} Kommunen mit Maßnahmen; weitere auf den nächsten Seiten.",
        "grids_filter_hint": "Die Herausforderungen sind je Kommune eigene Begriffe: wählen Sie eine Konzeptversion, "
                             "um nach ihren Herausforderungen zu filtern.",
        "grids_title": "Herausforderungen der Kommunen nebeneinander",
        "grids_intro": "Für jede Kommune ihr Raster der Herausforderungen; jede Zelle zeigt, wie viele Maßnahmen "
                       "des aktuellen Konzepts die Herausforderung bearbeiten.",
        "grids_scale_shared": "Gemeinsame Farbskala: die dunkelste Stufe gilt für die meistbearbeitete Herausforderung "
                              "aller gezeigten Kommunen ({top} Maßnahmen).",
        "grids_scale_own": "Eigene Farbskala je Kommune: Farben sind nur innerhalb eines Rasters vergleichbar.",
        "grids_scale_switch_own": "Farbskala je Kommune",
        "grids_scale_switch_shared": "Gemeinsame Farbskala",
        "grids_choose": "Kommunen wählen",
        "grids_show": "anzeigen",
        "grids_measures": "{n} Maßnahmen im Konzept",
        "grids_cell": "{index}: {label} – {n} Maßnahmen",
        "grids_link": "Alle Raster nebeneinander",
        "municipality_of": "Kommune",
        "compare_across": "Die Maßnahmen gehören zu verschiedenen Kommunen. Herausforderungen zweier Raster gelten hier "
                          "als gleich, wenn Nummer und Bezeichnung übereinstimmen (ohne den Zusatz „fiktiv“); "
                          "die Daten selbst setzen sie nicht gleich.",
    },
    "en": {
        "overview_title": "The deployment at a glance",
        "count_municipalities": "municipalities",
        "count_real": "of them with data from real sources",
        "count_concepts": "concept versions",
        "count_measures": "recorded measures",
        "heat_title": "Challenges across all concepts",
        "heat_intro": "Per challenge: in how many current concepts (with recorded measures) at least one measure addresses it, and the median "
                      "number of measures per concept. Challenges of different grids count as the same here when number "
                      "and name agree (ignoring the \"fictional\" marker).",
        "heat_cell": "addressed in {a} of {n} concepts · median {median} measures",
        "heat_unrecorded": "Not counted: concepts without recorded measures ({n}).",
        "heat_others": "Challenges of grids with a different layout",
        "heat_none": "No concept has a challenge grid.",
        "list_title": "Municipalities",
        "list_search": "Search a municipality or concept",
        "list_button": "search",
        "list_found": "{n} municipalities",
        "list_none": "No municipality matches the search.",
        "col_municipality": "Municipality",
        "col_concept": "current concept",
        "col_measures": "measures recorded / declared",
        "col_profiles": "profile known",
        "col_goals": "goals recorded / declared",
        "col_challenges": "challenges",
        "municipality_page": "Municipality page",
        "back_to_list": "All municipalities",
        "grids_search": "Filter municipalities",
        "grids_page_note": "{shown} of {n} municipalities on this page.",
        "facet_counts": "Results per facet",
        "facet_more": "… and {n} more values",
        "groups_page_note": "Measures of {shown} of the {n} municipalities with measures; more on the next pages.",
        "grids_filter_hint": "Challenges are each municipality's own terms: choose a concept version to filter by its "
                             "challenges.",
        "grids_title": "The municipalities' challenges side by side",
        "grids_intro": "Each municipality's challenge grid; each cell shows how many measures of the current concept "
                       "address the challenge.",
        "grids_scale_shared": "Shared colour scale: the darkest shade stands for the most addressed challenge of all "
                              "municipalities shown ({top} measures).",
        "grids_scale_own": "Colour scale per municipality: colours compare only within one grid.",
        "grids_scale_switch_own": "Colour scale per municipality",
        "grids_scale_switch_shared": "Shared colour scale",
        "grids_choose": "Choose municipalities",
        "grids_show": "show",
        "grids_measures": "{n} measures in the concept",
        "grids_cell": "{index}: {label} – {n} measures",
        "grids_link": "All grids side by side",
        "municipality_of": "Municipality",
        "compare_across": "The measures belong to different municipalities. Challenges of two grids count as the same "
                          "here when number and name agree (ignoring the \"fictional\" marker); the data itself does "
                          "not equate them.",
    },
}


def _mt(lang: str, key: str, **values: object) -> str:
    text = MULTI_TEXTS.get(lang, MULTI_TEXTS["de"])[key]
    return text.format(**values) if values else text


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


def _page_key(lang: str, media_type: str) -> tuple:
    """What a page's bytes depend on besides the build: the URL it was asked under (links are
    absolute), the path, the query arguments as the views read them (decoded, values grouped by
    name in first-seen order: the language switch and paging links repeat them in that order),
    the language and the media type."""
    return (public_base(), request.script_root, request.path,
            tuple((name, tuple(values)) for name, values in request.args.lists()), lang, media_type)


def _cached(media_type: str):
    """A route whose successful answers are kept per build (``page_cache``)."""
    def wrap(view):
        @functools.wraps(view)
        def answer(*args, **kwargs):
            key = _page_key(_lang_or_default(), media_type)
            return page_cache.cached(key, lambda: current_app.make_response(view(*args, **kwargs)))
        return answer
    return wrap


# parameters the pages read once; a second value would be silently ignored, so it is refused
SINGLE_VALUED = ("lang", "seite", "modus", "q", "skala", "iri", *SINGLE)


@bp.before_request
def _refuse_repeated_parameters() -> None:
    for name in SINGLE_VALUED:
        given = len(request.args.getlist(name))
        if given > 1:
            _fail(400, f"{name} is given {given} times; give it once ({name} takes one value).")


# ---------------------------------------------------------------------------------------------
# landing page


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
        "levels": heat_levels(counts, grid) if grid else {},
        "report": page_data.completeness(store).get(concept.iri),
        "figures": figures,
        "latest": sorted(latest.values(), key=lambda f: f.indicator_label.casefold()),
        "charts": _chart(figures, lang),
        "documents": page_data.documents(store, [c.iri for c in municipality.concepts], lang),
    }


def _page(total: int, size: int = deployment.PAGE_SIZE) -> deployment.Page:
    try:
        return deployment.page_of(total, request.args.get("seite"), size)
    except ValueError as error:
        _fail(400, str(error))
        raise


def _search_text() -> str:
    text = request.args.get("q", "").strip()
    if len(text) > 200:
        _fail(400, "q: at most 200 characters / höchstens 200 Zeichen")
    return text


@bp.get("/")
@_cached("text/html")
def landing():
    """The deployment at a glance: counts, the heat map over all concepts, a searchable paged list."""
    lang = request_lang()
    store = _store()
    everyone = deployment.entries(store, lang)
    text = _search_text()
    found = deployment.search(everyone, text)
    page = _page(len(found))
    shown = found[page.start:page.stop]
    totals = {
        "municipalities": len(everyone),
        "real": sum(1 for e in everyone if not e.municipality.fictional),
        "concepts": sum(len(e.municipality.concepts) for e in everyone),
        "measures": sum(deployment.measures_per_concept(store).values()),
    }
    jsonld = {
        "@context": "https://schema.org",
        "@type": "DataCatalog",
        "name": translate(lang, "site"),
        "description": translate(lang, "intro"),
        "url": public_base(),
        "inLanguage": lang,
        "dataset": [{"@type": "Dataset", "@id": e.municipality.current.iri, "name": e.municipality.current.label,
                     "url": to_local(e.municipality.current.iri)} for e in shown],
        "distribution": [{"@type": "DataDownload", "contentUrl": public_base() + "download/" + name}
                         for name in DOWNLOADS],
    }
    return render_template("pages/landing.html", entries=shown, page=page, query=text, totals=totals,
                           heat=deployment.heat(store, lang), jsonld=jsonld, mt=lambda key, **v: _mt(lang, key, **v),
                           grids_link=_mt(lang, "grids_link") if len(everyone) > 1 else None)


@bp.get("/kommune/<path:slug>")
@_cached("text/html")
def municipality_page(slug: str):
    """One municipality: its current concept and versions, completeness, goals, heat map, figures, documents."""
    lang = request_lang()
    found = deployment.directory(_store(), lang).by_slug.get(slug)
    if found is None:
        _fail(404, f"no municipality /kommune/{slug} (see the list on /)")
    overview = _overview(found, lang)
    jsonld = {"@context": "https://schema.org", "@type": "GovernmentOrganization", "@id": found.iri,
              "name": found.label, "url": to_local(found.iri), "inLanguage": lang,
              "subjectOf": [{"@type": "Dataset", "@id": c.iri, "name": c.label, "url": to_local(c.iri)}
                            for c in found.concepts]}
    return render_template("pages/municipality.html", o=overview, jsonld=jsonld,
                           mt=lambda key, **v: _mt(lang, key, **v), grids_link=_mt(lang, "grids_link"))


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


@dataclass(frozen=True)
class Peer:
    iri: str
    title: str


def _similar(iri: str, lang: str) -> list[tuple[Peer, float]]:
    """The most similar measures of the same concept: one query over that concept's measures
    (not the deployment's), so a measure page costs the same with 2 or 400 municipalities."""
    store = _store()
    own = store.select(page_data.PREFIXES + f"SELECT ?k WHERE {{ <{iri}> a kik:Measure ; dct:isPartOf ?k }}")
    concept = min((row["k"].value for row in own if isinstance(row["k"], ox.NamedNode)), default=None)
    if concept is None:
        return []
    # the concept written into the query: as a subquery result Oxigraph did not start from it (0.4 s)
    rows = store.select(page_data.PREFIXES + f"""
        SELECT ?m ?c WHERE {{
          ?m dct:isPartOf <{concept}> ; a kik:Measure .
          OPTIONAL {{ ?m kik:addressesChallenge ?c }}
        }}""")
    peers: dict[str, set[str]] = {}
    for row in rows:
        peers.setdefault(row["m"].value, set())
        if "c" in row:
            peers[row["m"].value].add(row["c"].value)
    if not peers.get(iri):
        return []
    found = most_similar(iri, {m: frozenset(c) for m, c in peers.items()})
    titles = page_data.labels_for(store, {m for m, _ in found}, lang)
    return [(Peer(iri=m, title=titles.get(m, local_name(m))), score) for m, score in found]


def resource_html(iri: str, lang: str) -> str | None:
    """The HTML page of any dataset IRI, or ``None`` when the graph says nothing about it.

    Called by ``server.linked_data`` inside a request, after content negotiation chose HTML; kept
    per build like the other pages (``lang`` may come from Accept-Language, so it is in the key).
    """
    if lang not in LANGUAGES:
        lang = "de"

    def render() -> Response:
        html = _resource_html(iri, lang)
        return Response(html, mimetype="text/html") if html is not None else Response(status=204)

    page = page_cache.cached((*_page_key(lang, "text/html"), iri), render)
    return page.get_data(as_text=True) if page.status_code == 200 else None


def _resource_html(iri: str, lang: str) -> str | None:
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
            context.update(heat_grid=grid, counts=counts, levels=heat_levels(counts, grid))
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
@_cached("image/svg+xml")
def profile_file():
    """A measure's profile as a standalone SVG (grid, indices, legend) for reports."""
    lang = request_lang()
    iri = request.args.get("iri", "")
    if not iri:
        _fail(400, "Parameter iri fehlt / missing: /profil.svg?iri=<IRI of a measure>")
    record = _measures_by_iri(lang).get(iri)
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


FACET_OPTIONS = 200  # values listed per facet; the rest is named as a count (a choice needs no 4 000 options)
MAX_FILTER_GRIDS = 3


def _facet_options(found: list[page_data.MeasureRecord], labels: dict[str, str],
                   criteria) -> tuple[dict[str, list[tuple[str, str, int]]], dict[str, int]]:
    """Per facet: the values of the found measures with how many have each (most frequent first,
    at most ``FACET_OPTIONS``; a chosen value is always kept), and how many values were left out."""
    options, more = {}, {}
    for name, facet in SINGLE.items():
        counted = Counter(chain.from_iterable(record.facets.get(facet, ()) for record in found))
        ranked = sorted(counted)  # by value, then (stable) most frequent first: both sorts without a Python key
        ranked.sort(key=counted.__getitem__, reverse=True)
        kept = ranked[:FACET_OPTIONS]
        chosen = criteria.single.get(name)
        if chosen and chosen not in kept:
            kept.append(chosen)
        options[name] = sorted(((v, labels.get(v) or local_name(v), counted.get(v, 0)) for v in kept),
                               key=lambda item: (item[1].casefold(), item[0]))
        more[name] = len(ranked) - len(ranked[:FACET_OPTIONS])
    return options, more


def _used_grids(found: list[page_data.MeasureRecord], grids: page_data.Grids) -> set[str]:
    """The grids of the challenges the found measures address."""
    by_challenge = grids.by_challenge
    return {by_challenge[c] for c in frozenset().union(*(r.challenges for r in found)) if c in by_challenge}


def _filter_grids(used: set[str], criteria, grids: page_data.Grids) -> list[Grid]:
    """The challenge grids to filter by: that of a chosen concept, of chosen challenges, or of the
    results when they use at most ``MAX_FILTER_GRIDS`` grids (``used``; each municipality has its own)."""
    wanted = {grids.by_challenge[c] for c in criteria.challenges if c in grids.by_challenge}
    concept = criteria.single.get("konzept")
    if concept and concept in grids.by_concept:
        wanted.add(grids.by_concept[concept])
    if len(used) <= MAX_FILTER_GRIDS:
        wanted |= used
    return [grids.by_iri[g] for g in sorted(wanted) if g in grids.by_iri]


@bp.get("/massnahmen")
@_cached("text/html")
def measures_list():
    """Measures with filters, 50 per page, with counts per facet value."""
    lang = request_lang()
    try:
        criteria = parse(request.args, request.args.getlist)
    except ValueError as error:
        _fail(400, str(error))
    data = page_data.measures(_store(), lang)
    grids = page_data.grids(_store(), lang)
    _refuse_unknown_filter_values(criteria, data, grids, lang)
    found = apply(data.records, criteria)
    page = _page(len(found))
    shown = found[page.start:page.stop]
    def facets() -> tuple:
        options, more = _facet_options(found, data.labels, criteria)
        every = _used_grids(found, grids)
        return options, more, _filter_grids(every, criteria, grids), len(every)

    # without a filter the counts are the same for every visitor: once per build
    options, more, used_grids, all_used = (facets() if criteria.active else
                                           page_data.memo(_store(), ("facets", lang), facets))
    jsonld = {"@context": "https://schema.org", "@type": "ItemList", "name": translate(lang, "measures_title"),
              "numberOfItems": len(found), "inLanguage": lang,
              "itemListElement": [{"@type": "ListItem", "position": page.start + n + 1, "url": to_local(r.iri),
                                   "name": r.title} for n, r in enumerate(shown)]}
    keep = {k: vs for k, vs in request.args.lists() if k not in ("seite", "lang")}
    return render_template(
        "pages/measures.html", criteria=criteria, results=shown, total=len(found), page=page, keep=keep,
        options=options, more=more, grids=used_grids, grids_hidden=all_used > len(used_grids),
        minis={r.iri: _mini_profile(r, grids, lang) for r in shown}, jsonld=jsonld, filters=SINGLE,
        mt=lambda key, **v: _mt(lang, key, **v),
    )


def _refuse_unknown_filter_values(criteria, data, grids, lang: str) -> None:
    """A filter value that names nothing in this deployment is a client error, not an empty list: the
    list's own links only ever carry known values. Concepts and challenges without measures are known."""
    known = page_data.memo(_store(), ("filter-values", lang), lambda: {
        **{name: frozenset().union(*(r.facets.get(facet, frozenset()) for r in data.records))
           for name, facet in SINGLE.items()},
        "konzept": frozenset(grids.by_concept) | frozenset().union(*(r.facets.get("concepts", frozenset())
                                                                    for r in data.records)),
        "h": frozenset(grids.by_challenge),
    })
    for name, value in [*criteria.single.items(), *(("h", c) for c in criteria.challenges)]:
        if value not in known[name]:
            _fail(400, f"{name}={value[:200]!r} names nothing this deployment's measures can be filtered by; "
                       f"choose a value offered on /massnahmen.")


# ---------------------------------------------------------------------------------------------
# comparison


GROUPS_PER_PAGE = 10  # municipalities whose measures the comparison form offers at once


def _measures_by_iri(lang: str) -> dict[str, page_data.MeasureRecord]:
    """The measure records by IRI, once per build (made anew, the dict took half of /vergleich's CPU at 400)."""
    store = _store()
    return page_data.memo(store, ("measures-by-iri", lang), lambda: page_data.measures(store, lang).by_iri())


def _municipality_by_concept(lang: str) -> dict[str, page_data.Municipality]:
    """Each concept version's municipality (for measures of several municipalities on one page)."""
    return page_data.memo(_store(), ("owners", lang), lambda: {
        c.iri: m for m in page_data.municipalities(_store(), lang) for c in m.concepts})


@bp.get("/vergleich")
@_cached("text/html")
def compare():
    lang = request_lang()
    chosen = list(dict.fromkeys(v for v in request.args.getlist("m") if v))
    data = page_data.measures(_store(), lang)
    by_iri = _measures_by_iri(lang)
    owners = _municipality_by_concept(lang)
    every_group = page_data.memo(_store(), ("compare-groups", lang), lambda: _measure_groups(data.records, owners))
    group_page = _page(len(every_group), GROUPS_PER_PAGE)
    groups = every_group[group_page.start:group_page.stop]
    paging = {"group_page": group_page, "keep": {"m": chosen},
              "offered": {r.iri for _, records in groups for r in records},
              "groups_note": _mt(lang, "groups_page_note", shown=len(groups), n=len(every_group))
              if group_page.pages > 1 else None}
    if not chosen:
        return render_template("pages/compare.html", items=[], groups=groups, jsonld=None, **paging)
    if not 2 <= len(chosen) <= 4:
        _fail(400, translate(lang, "compare_need"))
    unknown = [m for m in chosen if m not in by_iri]
    if unknown:
        _fail(404, f"no measure with IRI {unknown[0]!r}")
    grids = page_data.grids(_store(), lang)
    german = {c.iri: c for g in page_data.grids(_store(), "de").by_iri.values() for c in g.cells}
    records = [by_iri[m] for m in chosen]
    keys = {r.iri: frozenset(deployment.challenge_key(german[c]) if c in german else (0, c) for c in r.challenges)
            for r in records}
    known = [r for r in records if r.challenges]
    shared = frozenset.intersection(*(keys[r.iri] for r in known)) if len(known) >= 2 else frozenset()
    items = []
    for record in records:
        grid = _measure_grid({KIK + "addressesChallenge": set(record.challenges),
                              "http://purl.org/dc/terms/isPartOf": set(record.facets["concepts"])}, grids)
        others = set().union(*(keys[r.iri] for r in known if r is not record)) if record.challenges else set()
        own = {c for c in record.challenges if (deployment.challenge_key(german[c]) if c in german else (0, c)) not in others}
        owner = owners.get(record.concept or "")
        items.append({"record": record, "grid": grid, "only": (grid.ordered(own) if grid else []),
                      "municipality": owner,
                      "text": _profile_text(grid, record.challenges, lang) if grid and record.challenges else ""})
    first = known[0] if known else None
    shared_cells = sorted((grids.by_iri[grids.by_challenge[c]].cell(c) for c in (first.challenges if first else ())
                           if c in grids.by_challenge and c in german and deployment.challenge_key(german[c]) in shared),
                          key=lambda c: c.index)
    pairs = [{"a": a, "b": b, "shared": len(keys[a.iri] & keys[b.iri]), "union": len(keys[a.iri] | keys[b.iri]),
              "score": jaccard(keys[a.iri], keys[b.iri])} for i, a in enumerate(records) for b in records[i + 1:]]
    across = len({item["municipality"].iri for item in items if item["municipality"]}) > 1
    jsonld = {"@context": "https://schema.org", "@type": "ItemList", "name": translate(lang, "compare_title"),
              "inLanguage": lang,
              "itemListElement": [{"@type": "ListItem", "position": n + 1, "url": to_local(r.iri), "name": r.title}
                                  for n, r in enumerate(records)]}
    return render_template("pages/compare.html", items=items, shared=shared_cells, pairs=pairs,
                           known=known, groups=groups, jsonld=jsonld, **paging,
                           across=_mt(lang, "compare_across") if across else None,
                           municipality_word=_mt(lang, "municipality_of"))


def _measure_groups(records: list[page_data.MeasureRecord],
                    owners: dict[str, page_data.Municipality]) -> list[tuple[str, list[page_data.MeasureRecord]]]:
    """The measures to choose from, by municipality (in the landing page's order), for the form."""
    order: dict[str, int] = {}
    for owner in owners.values():
        order.setdefault(owner.iri, len(order))
    grouped: dict[str, list[page_data.MeasureRecord]] = {}
    labels: dict[str, str] = {}
    for record in records:
        owner = owners.get(record.concept or "")
        key = owner.iri if owner else ""
        labels[key] = owner.label if owner else "–"
        grouped.setdefault(key, []).append(record)
    return [(labels[k], grouped[k]) for k in sorted(grouped, key=lambda k: (order.get(k, len(order)), k))]


# ---------------------------------------------------------------------------------------------
# the municipalities' grids side by side


GRIDS_PER_PAGE = 24


@bp.get("/raster")
@_cached("text/html")
def grids_side_by_side():
    """Heat maps next to each other, on one colour scale unless asked otherwise: the chosen
    municipalities (``k``), else one page (``seite``) of all or of those matching ``q``."""
    lang = request_lang()
    store = _store()
    everyone = deployment.entries(store, lang)
    by_iri = {e.municipality.iri: e for e in everyone}
    wanted = list(dict.fromkeys(v for v in request.args.getlist("k") if v))
    unknown = [k for k in wanted if k not in by_iri]
    if unknown:
        _fail(404, f"no municipality with IRI {unknown[0]!r}")
    scale = request.args.get("skala", "gemeinsam")
    if scale not in ("gemeinsam", "eigen"):
        _fail(400, "skala: gemeinsam | eigen")
    text = _search_text()
    found = deployment.search(everyone, text)
    page = _page(len(found), GRIDS_PER_PAGE)
    listed = found[page.start:page.stop]
    shown = [by_iri[k].municipality for k in wanted] if wanted else [e.municipality for e in listed]
    grids = page_data.grids(store, lang)
    counts = page_data.challenge_counts(store)
    per_concept = deployment.measures_per_concept(store)
    panels = []
    for m in shown:
        grid_iri = grids.by_concept.get(m.current.iri)
        panels.append({"municipality": m, "concept": m.current, "grid": grids.by_iri.get(grid_iri) if grid_iri else None,
                       "measures": per_concept.get(m.current.iri, 0)})
    top = max((counts.get(c.iri, 0) for p in panels if p["grid"] for c in p["grid"].cells), default=0)
    for panel in panels:
        if panel["grid"]:
            panel["levels"] = heat_levels(counts, panel["grid"], top if scale == "gemeinsam" else None)
    choices = list({m.iri: m for m in [*shown, *(e.municipality for e in listed)]}.values())
    texts = {key: _mt(lang, key) for key in MULTI_TEXTS["de"] if "{" not in MULTI_TEXTS["de"][key]}
    keep = {"q": text, "skala": scale if scale != "gemeinsam" else None}
    return render_template(
        "pages/grids.html", panels=panels, everyone=choices, many=len(everyone) > 1, wanted=set(wanted),
        scale=scale, counts=counts, texts=texts, page=page, query=text, keep=keep,
        page_note=_mt(lang, "grids_page_note", shown=len(listed), n=len(found)) if not wanted and page.pages > 1 else None,
        scale_note=_mt(lang, "grids_scale_shared", top=top) if scale == "gemeinsam" else _mt(lang, "grids_scale_own"),
        measures_text=lambda n: _mt(lang, "grids_measures", n=n),
        cell_text=lambda cell, n: _mt(lang, "grids_cell", index=cell.index, label=cell.label, n=n),
    )
