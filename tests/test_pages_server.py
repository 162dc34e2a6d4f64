"""Pages for people, checked through Flask's test client against the real build of both datasets, and
again against a build with 50 generated municipalities more (a page that works only for two fails)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from server.pages.views import resource_html
from tests.profiles import FICTIONAL, profiles

KIK = "PREFIX kik: <https://w3id.org/kik/ontology#> PREFIX dct: <http://purl.org/dc/terms/> " \
      "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX qb: <http://purl.org/linked-data/cube#> "


@pytest.fixture(scope="module", params=["hamm+musterstadt", "plus-50-generated"])
def build(request, dist_dir, generated_build):
    """The dist/ the module's pages are served from: both datasets, then both plus 50 generated."""
    return dist_dir if request.param == "hamm+musterstadt" else generated_build(50)


@pytest.fixture(scope="module")
def app(build):
    from server import create_app

    return create_app({"KIK_DIST": str(build), "TESTING": True})


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def store(app):
    return app.extensions["kik.store"]


class Scripts(HTMLParser):
    """Collects every <script> element's type and text."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[str | None, str]] = []
        self._open: str | None | bool = False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._open = dict(attrs).get("type")
            self.scripts.append((self._open, ""))

    def handle_data(self, data):
        if self._open is not False and self.scripts:
            kind, text = self.scripts[-1]
            self.scripts[-1] = (kind, text + data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._open = False


def scripts_of(html: str) -> list[tuple[str | None, str]]:
    parser = Scripts()
    parser.feed(html)
    return parser.scripts


MUSTERSTADT_PAGE = "/kommune/fiktiv/musterstadt"


ROW = re.compile(r'<tr class="municipality-row" data-municipality="([^"]+)" data-concept="([^"]+)">(.*?)</tr>', re.DOTALL)


def landing_rows(client, query: dict | None = None) -> list[tuple[str, str, str]]:
    """(municipality, current concept, row HTML) of every page of the landing page's list, following "next"."""
    rows, url = [], "/"
    for _ in range(100):
        page = client.get(url, query_string=query if url == "/" else None).get_data(as_text=True)
        found = ROW.findall(page)
        assert len(found) <= 50, "one page lists at most 50 municipalities"
        rows += found
        following = re.search(r'<a rel="next" href="([^"]+)"', page)
        if not following:
            return rows
        url = following.group(1).replace("&amp;", "&")
    raise AssertionError("the list never ends")


def test_landing_page_lists_hamm_first_and_each_municipality_page_has_its_completeness(client, build, store):
    rows = landing_rows(client)
    assert rows[0][0] == "https://w3id.org/kik/hamm/stadt", "real municipalities come first"
    everyone = {r["m"].value for r in store.select(KIK + "SELECT DISTINCT ?m WHERE { ?c a kik:IntegrationConcept ; kik:municipality ?m }")}
    assert sorted(r[0] for r in rows) == sorted(everyone), "every municipality once, over all pages"
    stats = json.loads((build / "stats.json").read_text(encoding="utf-8"))
    current = {concept: (re.search(r'<th scope="row"><a href="(/kommune/[^"?]+)', row).group(1), row)
               for _, concept, row in rows}
    assert {"https://w3id.org/kik/hamm/konzept/2018", "https://w3id.org/kik/fiktiv/musterstadt/konzept/2023"} <= set(current)
    assert [r[0] for r in landing_rows(client, {"q": "musterstadt"})] == ["https://w3id.org/kik/fiktiv/musterstadt/stadt"]
    for report in stats["completeness"]:
        if report["concept"] not in current:
            continue  # only the current versions are summarised
        link, row = current[report["concept"]]
        declared = report["measures"]["declared"]
        assert f'data-key="measures">{report["measures"]["recorded"]} / {declared}' in row
        own = client.get(link).get_data(as_text=True)
        assert f"{report['measures']['recorded']} von {declared} Maßnahmen des Konzepts erfasst" in own
        assert report["concept"].removeprefix("https://w3id.org/kik/") in own


def test_municipality_page_heat_map_counts_match_sparql(client, store):
    rows = store.select(KIK + f"""SELECT ?i (COUNT(DISTINCT ?m) AS ?n) WHERE {{
        ?c kik:gridIndex ?i . FILTER(STRSTARTS(STR(?c), "{FICTIONAL}"))
        OPTIONAL {{ ?m a kik:Measure ; kik:addressesChallenge ?c }} }} GROUP BY ?i""")
    expected = {int(r["i"].value): int(r["n"].value) for r in rows}
    assert len(expected) == 18
    page = client.get(MUSTERSTADT_PAGE).get_data(as_text=True)
    section = page[page.index('class="grid heat"'):]
    cells = re.findall(r'data-index="(\d+)" data-count="(\d+)"', section.split("</table>")[0])
    assert {int(i): int(n) for i, n in cells} == expected
    assert client.get("/kommune/fiktiv/nirgendwo").status_code == 404


def test_landing_heat_map_over_all_concepts_matches_sparql(client, store):
    """Per grid number: how many current concepts with recorded measures have a measure on it."""
    rows = store.select(KIK + """PREFIX prov: <http://www.w3.org/ns/prov#>
        SELECT ?k ?i (COUNT(DISTINCT ?m) AS ?n) WHERE {
          ?k a kik:IntegrationConcept ; kik:challengeGrid ?g . FILTER NOT EXISTS { ?newer prov:wasRevisionOf ?k }
          FILTER EXISTS { ?any a kik:Measure ; dct:isPartOf ?k }
          ?c skos:inScheme ?g ; kik:gridIndex ?i .
          OPTIONAL { ?m a kik:Measure ; kik:addressesChallenge ?c } } GROUP BY ?k ?i""")
    concepts = {r["k"].value for r in rows}
    addressed: dict[int, int] = {}
    for r in rows:
        addressed[int(r["i"].value)] = addressed.get(int(r["i"].value), 0) + (int(r["n"].value) > 0)
    page = client.get("/").get_data(as_text=True)
    table = page[page.index('class="grid heat overall"'):]
    table = table[:table.index("</table>")]
    shown = {int(i): (int(a), int(n)) for i, a, n in
             re.findall(r'data-index="(\d+)" data-addressed="(\d+)" data-concepts="(\d+)"', table)}
    others = re.findall(r'<li data-index="(\d+)" data-addressed="(\d+)"', page)
    assert len(shown) == 18
    if not others:  # every grid has the same numbers and names: each number counts all concepts
        assert shown == {i: (addressed[i], len(concepts)) for i in addressed}
    assert all(a <= n <= len(concepts) for a, n in shown.values())


def test_every_resource_type_has_a_page_with_relations_and_rdf_alternates(app, store):
    kinds = ["kik:StrategicGoal", "kik:ActionField", "kik:Challenge", "kik:Measure", "kik:AdministrativeUnit",
             "kik:IntegrationConcept", "kik:Document", "qb:Observation", "kik:Source", "kik:Indicator",
             "kik:IntegrationActivity"]
    with app.test_request_context("/"):
        for kind in kinds:
            rows = store.select(KIK + f"SELECT ?s WHERE {{ ?s a {kind} . FILTER(STRSTARTS(STR(?s), 'https://w3id.org/kik/')) }} "
                                 "ORDER BY ?s LIMIT 1")
            assert rows, f"the build has no {kind}"
            iri = rows[0]["s"].value
            html = resource_html(iri, "de")
            assert html is not None, iri
            assert "format=ttl" in html and "format=jsonld" in html, iri
            assert '<html lang="de">' in html
            assert 'type="application/ld+json"' in html
        assert resource_html(FICTIONAL + "gibt-es-nicht", "de") is None


def test_actor_page_lists_its_measures_both_directions(app, store):
    rows = store.select(KIK + f"""SELECT ?a (SAMPLE(?m) AS ?one) WHERE {{
        ?m a kik:Measure ; <http://www.w3.org/ns/prov#wasAssociatedWith> ?a .
        FILTER(STRSTARTS(STR(?a), "{FICTIONAL}")) }} GROUP BY ?a ORDER BY ?a LIMIT 1""")
    actor, measure = rows[0]["a"].value, rows[0]["one"].value
    with app.test_request_context("/"):
        html = resource_html(actor, "de")
    assert measure.replace("https://w3id.org/kik/", "") in html


def test_measure_page_draws_its_profile_and_unknown_profiles_say_so(app, store):
    found = profiles(store)
    known = sorted(m for m, cells in found.items() if len(cells) >= 2)[0]
    unknown = sorted(m for m, cells in found.items() if not cells)[0]
    with app.test_request_context("/"):
        html = resource_html(known, "de")
        blank = resource_html(unknown, "de")
    table = html[html.index('<table class="grid profile">'):]
    table = table[:table.index("</table>")]
    on = {int(i) for i in re.findall(r'<td class="on" data-index="(\d+)"', table)}
    off = {int(i) for i in re.findall(r'<td class="off" data-index="(\d+)"', table)}
    assert on == found[known]
    assert on | off == set(range(1, 19))
    assert "Profil unbekannt" in blank
    assert 'class="grid profile"' not in blank


def test_profile_svg_file(client, store):
    found = profiles(store)
    known = sorted(m for m, cells in found.items() if cells)[0]
    unknown = sorted(m for m, cells in found.items() if not cells)[0]
    response = client.get("/profil.svg", query_string={"iri": known})
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    ns = "{http://www.w3.org/2000/svg}"
    cells = root.findall(f".//{ns}g")
    assert len(cells) == 18
    assert {int(g.get("data-index")) for g in cells if "on" in g.get("class").split()} == found[known]
    empty = client.get("/profil.svg", query_string={"iri": unknown})
    assert b"Profil unbekannt" in empty.data and b"<g " not in empty.data
    assert client.get("/profil.svg").status_code == 400
    assert client.get("/profil.svg", query_string={"iri": FICTIONAL + "nix"}).status_code == 404


def test_script_in_a_title_is_shown_as_text_everywhere(app, client, store):
    rows = store.select(KIK + 'SELECT ?m WHERE { ?m a kik:Measure ; dct:title ?t . FILTER(CONTAINS(?t, "<script>")) }')
    assert rows, "Musterstadt must keep its title with <script> markup"
    iri = rows[0]["m"].value
    with app.test_request_context("/"):
        measure_page = resource_html(iri, "de")
    pages = [measure_page, client.get("/massnahmen", query_string={"q": "Online-Anmeldung"}).get_data(as_text=True),
             client.get("/vergleich", query_string=[("m", iri), ("m", profiles(store) and sorted(profiles(store))[0])]
                        ).get_data(as_text=True)]
    for html in pages:
        assert "&lt;script&gt;alert(" in html
        assert "<script>alert" not in html
        for kind, text in scripts_of(html):
            assert kind == "application/ld+json", "no executable script on any page"
            assert "</" not in text and "<script" not in text
            json.loads(text)


def test_filters_any_all_facets_and_text(client, store):
    found = profiles(store)
    rows = store.select(KIK + f"""SELECT ?c ?i WHERE {{ ?c a kik:Challenge ; kik:gridIndex ?i .
        FILTER(STRSTARTS(STR(?c), "{FICTIONAL}")) }}""")
    by_index = {int(r["i"].value): r["c"].value for r in rows}

    def listed(params) -> set[str]:
        page = client.get("/massnahmen", query_string=params).get_data(as_text=True)
        return set(re.findall(r'<li class="measure" data-iri="([^"]+)"', page))

    assert listed([("h", by_index[11])]) == {m for m, c in found.items() if 11 in c}
    assert listed([("h", by_index[11]), ("h", by_index[12]), ("modus", "eine")]) == \
        {m for m, c in found.items() if c & {11, 12}}
    assert listed([("h", by_index[11]), ("h", by_index[12]), ("modus", "alle")]) == \
        {m for m, c in found.items() if {11, 12} <= c}
    group = store.select(KIK + f"""SELECT ?g (COUNT(?m) AS ?n) WHERE {{ ?m kik:targetGroup ?g .
        FILTER(STRSTARTS(STR(?g), "{FICTIONAL}")) }} GROUP BY ?g ORDER BY DESC(?n) ?g LIMIT 1""")[0]["g"].value
    with_group = {r["m"].value for r in store.select(KIK + f"SELECT ?m WHERE {{ ?m a kik:Measure ; kik:targetGroup <{group}> }}")}
    assert listed({"zielgruppe": group}) == with_group
    assert {m for m in listed({"q": "sprachbrücke"}) if m.startswith(FICTIONAL)} == \
        {m for m in found if m.endswith("/kita-sprachbruecke")}
    assert client.get("/massnahmen", query_string={"modus": "beide"}).status_code == 400
    assert client.get("/massnahmen", query_string={"q": "x" * 500}).status_code == 400


def test_compare_lists_shared_challenges_and_jaccard(client, store):
    found = profiles(store)
    pair = None
    known = sorted(m for m, c in found.items() if c)
    for a in known:
        for b in known:
            if a < b and found[a] & found[b] and found[a] != found[b]:
                pair = (a, b)
                break
        if pair:
            break
    a, b = pair
    page = client.get("/vergleich", query_string=[("m", a), ("m", b)]).get_data(as_text=True)
    shared = page[page.index('class="shared-list"'):]
    shared = shared[:shared.index("</ul>")]
    assert {int(i) for i in re.findall(r'data-index="(\d+)"', shared)} == found[a] & found[b]
    score = len(found[a] & found[b]) / len(found[a] | found[b])
    assert f'data-score="{score:.4f}"' in page
    assert client.get("/vergleich", query_string=[("m", a)]).status_code == 400
    assert client.get("/vergleich", query_string=[("m", m) for m in known[:5]]).status_code == 400
    assert client.get("/vergleich", query_string=[("m", a), ("m", FICTIONAL + "nix")]).status_code == 404
    assert client.get("/vergleich").status_code == 200


def test_measure_page_lists_most_similar(app, store):
    found = profiles(store)
    known = sorted(m for m, cells in found.items() if len(cells) >= 2)[0]
    best = max(((len(found[known] & c) / len(found[known] | c), m) for m, c in found.items() if m != known and c))
    with app.test_request_context("/"):
        html = resource_html(known, "de")
    similar = html[html.index('class="similar"'):]
    assert best[1].replace("https://w3id.org/kik/", "") in similar[:similar.index("</ol>")]


def test_english_switch_and_language_attributes(client, store):
    rows = store.select(KIK + f"""SELECT ?de ?en WHERE {{ ?g a kik:StrategicGoal ; skos:prefLabel ?de, ?en .
        FILTER(STRSTARTS(STR(?g), "{FICTIONAL}") && LANG(?de) = "de" && LANG(?en) = "en") }} LIMIT 1""")
    german, english = rows[0]["de"].value, rows[0]["en"].value
    de = client.get(MUSTERSTADT_PAGE).get_data(as_text=True)
    en = client.get(MUSTERSTADT_PAGE + "?lang=en").get_data(as_text=True)
    assert '<html lang="de">' in de and '<html lang="en">' in en
    assert german in de and english not in de
    assert english in en and german not in en
    assert f'href="{MUSTERSTADT_PAGE}?lang=en"' in de and 'hreflang="en"' in de
    assert 'hreflang="en"' in client.get("/").get_data(as_text=True)
    assert client.get("/?lang=fr").status_code == 400


def _pages(client, url: str, pattern: str) -> list[list[str]]:
    """What ``pattern`` finds on every page of a paged list, following its "next" links."""
    found = []
    for _ in range(200):
        page = client.get(url).get_data(as_text=True)
        found.append(re.findall(pattern, page))
        following = re.search(r'<a rel="next" href="([^"]+)"', page)
        if not following:
            return found
        url = following.group(1).replace("&amp;", "&")
    raise AssertionError("the list never ends")


def test_measures_list_pages_through_every_measure_with_counts_per_facet(client, store):
    every = {r["m"].value for r in store.select(KIK + "SELECT ?m WHERE { ?m a kik:Measure }")}
    first = client.get("/massnahmen").get_data(as_text=True)
    assert f"{len(every)} Maßnahmen gefunden" in first
    pages = _pages(client, "/massnahmen", r'<li class="measure" data-iri="([^"]+)"')
    assert all(len(p) <= 50 for p in pages) and len(pages) == -(-len(every) // 50)
    listed = [m for p in pages for m in p]
    assert len(listed) == len(set(listed)) and set(listed) == every
    rows = store.select(KIK + """SELECT ?g (COUNT(DISTINCT ?m) AS ?n) WHERE { ?m a kik:Measure ; kik:targetGroup ?g } GROUP BY ?g""")
    expected = {r["g"].value: int(r["n"].value) for r in rows}
    select = first[first.index('name="zielgruppe"'):]
    shown = {v: int(n) for v, n in re.findall(r'<option value="([^"]+)" data-count="(\d+)"', select[:select.index("</select>")])}
    assert shown and all(expected[v] == n for v, n in shown.items())
    assert len(shown) == min(len(expected), 200)
    assert client.get("/massnahmen", query_string={"seite": len(pages) + 1}).status_code == 400
    assert client.get("/massnahmen", query_string={"seite": "zwei"}).status_code == 400


def test_grids_page_through_every_municipality(client, store):
    everyone = {r["m"].value for r in store.select(KIK + "SELECT DISTINCT ?m WHERE { ?c a kik:IntegrationConcept ; kik:municipality ?m }")}
    pages = _pages(client, "/raster", r'<section class="compare-item grid-panel" data-municipality="([^"]+)"')
    assert all(len(p) <= 24 for p in pages)
    assert sorted(m for p in pages for m in p) == sorted(everyone)


def test_unknown_iri_suggests_resources_of_its_own_municipality(client, store):
    base = "https://w3id.org/kik/fiktiv/musterstadt/"
    page = client.get("/fiktiv/musterstadt/massnahme/gibt-es-nicht", headers={"Accept": "text/html"})
    assert page.status_code == 404
    text = page.get_data(as_text=True).split("gibt-es-nicht", 2)[-1]
    suggested = set(re.findall(r'href="[^"]*?(/fiktiv/[^"?]+)"', text))
    assert suggested and all(s.startswith("/fiktiv/musterstadt/massnahme/") for s in suggested)
    for path in suggested:  # each a resource the graph describes, from this municipality only
        assert store.ask(f"ASK {{ <https://w3id.org/kik{path}> a ?type }}"), path
