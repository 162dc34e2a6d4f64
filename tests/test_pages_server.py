"""Pages for people, checked through Flask's test client against the real build of both datasets."""

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


def test_landing_page_shows_both_municipalities_hamm_first_with_completeness(client, dist_dir):
    page = client.get("/").get_data(as_text=True)
    assert page.index("Stadt Hamm") < page.index("Musterstadt (fiktiv)")
    stats = json.loads((dist_dir / "stats.json").read_text(encoding="utf-8"))
    for report in stats["completeness"]:
        declared = report["measures"]["declared"]
        if report["concept"] in page:  # only the current versions are summarised
            assert f"{report['measures']['recorded']} von {declared} Maßnahmen des Konzepts erfasst" in page


def test_landing_heat_map_counts_match_sparql(client, store):
    rows = store.select(KIK + f"""SELECT ?i (COUNT(DISTINCT ?m) AS ?n) WHERE {{
        ?c kik:gridIndex ?i . FILTER(STRSTARTS(STR(?c), "{FICTIONAL}"))
        OPTIONAL {{ ?m a kik:Measure ; kik:addressesChallenge ?c }} }} GROUP BY ?i""")
    expected = {int(r["i"].value): int(r["n"].value) for r in rows}
    assert len(expected) == 18
    page = client.get("/").get_data(as_text=True)
    section = page[page.index('id="kommune-2"'):]
    cells = re.findall(r'data-index="(\d+)" data-count="(\d+)"', section.split("</table>")[0])
    assert {int(i): int(n) for i, n in cells} == expected


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
    assert listed({"q": "sprachbrücke"}) == {m for m in found if m.endswith("/kita-sprachbruecke")}
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
    de = client.get("/").get_data(as_text=True)
    en = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="de">' in de and '<html lang="en">' in en
    assert german in de and english not in de
    assert english in en and german not in en
    assert 'href="/?lang=en"' in de and 'hreflang="en"' in de
    assert client.get("/?lang=fr").status_code == 400
