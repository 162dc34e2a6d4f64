"""Done-when checks of issue 5: headless Chromium (Debian's /usr/bin/chromium) over the running server,
once over the build of both datasets and once with 50 generated municipalities more (issue 13)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from tests.browser.cdp import Browser
from tests.profiles import FICTIONAL, profiles
from tests.serving import serving

KIK = "PREFIX kik: <https://w3id.org/kik/ontology#> PREFIX dct: <http://purl.org/dc/terms/> " \
      "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "


@pytest.fixture(scope="module")
def browser():
    chromium = Browser()
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture(scope="module", params=["hamm+musterstadt", "plus-50-generated"])
def app(request, dist_dir, generated_build):
    from server import create_app

    build = dist_dir if request.param == "hamm+musterstadt" else generated_build(50)
    return create_app({"KIK_DIST": str(build), "TESTING": True})


@pytest.fixture(scope="module")
def live_server(app):
    with serving(app) as base:
        yield base


@pytest.fixture(scope="module")
def store(app):
    return app.extensions["kik.store"]


def local(live_server: str, iri: str) -> str:
    return live_server + iri.removeprefix("https://w3id.org/kik/")


def test_municipality_page_shows_18_grid_cells_with_counts(browser, live_server, store):
    browser.open(live_server)
    links = browser.js("Array.from(document.querySelectorAll('tr.municipality-row th a')).map(a => a.textContent)")
    assert "Hamm" in links[0], "Hamm comes first"
    browser.js("document.querySelector('form.list-search input[name=q]').value = 'Musterstadt'")
    browser.click("form.list-search button[type=submit]")
    assert "q=Musterstadt" in browser.url()
    browser.click("tr.municipality-row[data-municipality*='/musterstadt/'] th a")
    assert "/kommune/fiktiv/musterstadt" in browser.url()
    cells = browser.js("""Array.from(document.querySelectorAll('section.municipality')).map(s => ({
        heading: s.querySelector('h1').textContent,
        cells: Array.from(s.querySelectorAll('table.heat td[data-index]')).map(td => ({
            index: +td.dataset.index, text: td.querySelector('.count').textContent.trim()}))}))""")
    fictional = next(s for s in cells if "Musterstadt" in s["heading"])
    assert len(fictional["cells"]) == 18
    rows = store.select(KIK + f"""SELECT ?i (COUNT(DISTINCT ?m) AS ?n) WHERE {{
        ?c kik:gridIndex ?i . FILTER(STRSTARTS(STR(?c), "{FICTIONAL}"))
        OPTIONAL {{ ?m a kik:Measure ; kik:addressesChallenge ?c }} }} GROUP BY ?i""")
    expected = {int(r["i"].value): int(r["n"].value) for r in rows}
    shown = {c["index"]: int(c["text"].split()[0]) for c in fictional["cells"]}
    assert shown == expected


def test_fictional_measure_page_shows_its_profile(browser, live_server, store):
    found = profiles(store)
    measure = sorted(m for m, c in found.items() if len(c) >= 2)[0]
    browser.open(local(live_server, measure) + "?lang=de")
    filled = browser.js("Array.from(document.querySelectorAll('table.profile td.on')).map(td => +td.dataset.index)")
    all_cells = browser.js("document.querySelectorAll('table.profile td[data-index]').length")
    assert set(filled) == found[measure]
    assert all_cells == 18
    unknown = sorted(m for m, c in found.items() if not c)[0]
    browser.open(local(live_server, unknown) + "?lang=de")
    assert browser.js("document.querySelectorAll('table.profile').length") == 0
    assert "Profil unbekannt" in browser.js("document.querySelector('.profile-unknown').textContent")


def test_filtering_by_a_challenge_lists_what_sparql_says(browser, live_server, store):
    challenge = store.select(KIK + f"""SELECT ?c WHERE {{ ?c a kik:Challenge ; kik:gridIndex 11 .
        FILTER(STRSTARTS(STR(?c), "{FICTIONAL}")) }}""")[0]["c"].value
    expected = {r["m"].value for r in store.select(KIK + f"SELECT ?m WHERE {{ ?m a kik:Measure ; kik:addressesChallenge <{challenge}> }}")}
    browser.open(live_server + "massnahmen")
    # with many municipalities the form first asks for a concept (each has its own challenges)
    concept = FICTIONAL + "konzept/2023"
    browser.js(f"document.querySelector('select[name=konzept]').value = {json.dumps(concept)}")
    browser.click("form.filters button[type=submit]")
    browser.js(f"document.querySelector('input[name=h][value={json.dumps(challenge)}]').click()")
    browser.click("form.filters button[type=submit]")
    assert "h=" in browser.url(), "the filter is in the URL, so the view can be shared"
    listed = browser.js("Array.from(document.querySelectorAll('li.measure')).map(li => li.dataset.iri)")
    assert set(listed) == expected and expected


def test_comparison_of_two_measures_lists_shared_challenges(browser, live_server, store):
    found = profiles(store)
    known = sorted(m for m, c in found.items() if c)
    a, b = next((x, y) for x in known for y in known if x < y and found[x] & found[y] and found[x] != found[y])
    browser.open(live_server + "vergleich?" + urlencode([("m", a), ("m", b)]))
    shared = browser.js("Array.from(document.querySelectorAll('.shared-list li')).map(li => +li.dataset.index)")
    assert set(shared) == found[a] & found[b]
    assert browser.js("document.querySelectorAll('.compare-item table.profile').length") == 2


def test_english_switch_changes_the_labels(browser, live_server, store):
    row = store.select(KIK + f"""SELECT ?de ?en WHERE {{ ?c a kik:Challenge ; kik:gridIndex 1 ; skos:prefLabel ?de, ?en .
        FILTER(STRSTARTS(STR(?c), "{FICTIONAL}") && LANG(?de) = "de" && LANG(?en) = "en") }}""")[0]
    browser.open(live_server + "kommune/fiktiv/musterstadt")
    names = "Array.from(document.querySelectorAll('table.heat td .name')).map(n => n.textContent)"
    assert browser.js("document.documentElement.lang") == "de"
    assert row["de"].value in browser.js(names)
    browser.click("li.switch a")
    assert browser.js("document.documentElement.lang") == "en"
    assert "lang=en" in browser.url()
    assert row["en"].value in browser.js(names)
    assert row["de"].value not in browser.js(names)


def test_keyboard_first_tab_reaches_the_skip_link(browser, live_server):
    browser.open(live_server)
    browser.press_tab()
    assert browser.js("document.activeElement.className") == "skip"


def test_script_title_is_text_in_the_browser(browser, live_server, store):
    iri = store.select(KIK + 'SELECT ?m WHERE { ?m a kik:Measure ; dct:title ?t . FILTER(CONTAINS(?t, "<script>")) }')[0]["m"].value
    browser.open(local(live_server, iri) + "?lang=de")
    assert "<script>alert" in browser.js("document.querySelector('h1').textContent")
    assert browser.js("document.querySelectorAll('script:not([type=\"application/ld+json\"])').length") == 0
    assert not any(e.get("method") == "Page.javascriptDialogOpening" for e in browser.events)
