"""The pages' response cache (server/publishing/page_cache.py): a kept page is the page the views render,
no two different requests share an entry, the memory bound holds, a swap serves the new build;
and the catalog's kept serialisations are those of its graph.

The truth each page is compared with is the same app's code with the cache off (``KIK_PAGE_CACHE_MB=0``),
on the same build: every request there is rendered from the store.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from rdflib import Graph

from server import create_app
from server.publishing import page_cache
from server.publishing.page_cache import Page, PageCache
from tests.conftest import MINI, kg_build

KIK = "PREFIX kik: <https://w3id.org/kik/ontology#> PREFIX dct: <http://purl.org/dc/terms/> "


@pytest.fixture(scope="module")
def cached(dist_dir):
    return create_app({"KIK_DIST": str(dist_dir), "TESTING": True})


@pytest.fixture(scope="module")
def plain(dist_dir):
    return create_app({"KIK_DIST": str(dist_dir), "TESTING": True, "KIK_PAGE_CACHE_MB": 0})


@pytest.fixture(scope="module")
def paths(plain) -> list[str]:
    """One URL of every kind of page of ``server/pages``, from the build (two measures with profiles)."""
    store = plain.extensions["kik.store"]
    a, b = (row["m"].value for row in store.select(
        KIK + "SELECT DISTINCT ?m WHERE { ?m a kik:Measure ; kik:addressesChallenge ?c } ORDER BY ?m LIMIT 2"))
    concept = store.select(KIK + "SELECT ?k WHERE { ?k a kik:IntegrationConcept } ORDER BY ?k LIMIT 1")[0]["k"].value
    local = lambda iri: "/" + iri.removeprefix("https://w3id.org/kik/")  # noqa: E731
    landing = plain.test_client().get("/").get_data(as_text=True)
    municipality = landing[landing.index('href="/kommune/') + 6:].split('"', 1)[0]
    return ["/", "/?q=Hamm", municipality, "/massnahmen", "/massnahmen?q=Sprach", "/massnahmen?q=Sprach&seite=1",
            "/vergleich", "/vergleich?" + urlencode([("m", a), ("m", b)]), "/raster", "/raster?skala=eigen",
            "/profil.svg?" + urlencode({"iri": a}), local(a), local(concept)]


def with_lang(path: str, lang: str) -> str:
    return path if lang == "de" else path + ("&" if "?" in path else "?") + "lang=en"


def kept(app) -> PageCache:
    return page_cache.cache_for(app)


def test_a_kept_page_is_the_rendered_page(cached, plain, paths):
    """Several pages in both languages: the answer that filled the cache and the one read from it are
    byte for byte (body, status, headers) the answer of the app with the cache off."""
    client, truth = cached.test_client(), plain.test_client()
    for lang in ("de", "en"):
        for path in paths:
            url = with_lang(path, lang)
            expected = truth.get(url, headers={"Accept": "text/html"})
            assert expected.status_code == 200, url
            before = len(kept(cached))
            first = client.get(url, headers={"Accept": "text/html"})
            assert len(kept(cached)) == before + 1, f"{url} was not kept"
            again = client.get(url, headers={"Accept": "text/html"})
            for answer in (first, again):
                assert answer.status_code == expected.status_code, url
                assert answer.data == expected.data, url
                assert sorted(answer.headers.items()) == sorted(expected.headers.items()), url
            head = client.head(url, headers={"Accept": "text/html"})
            assert head.status_code == 200 and head.data == b"", url
            assert head.headers["Content-Length"] == str(len(expected.data)), url


def test_different_requests_never_share_an_entry(cached, plain, paths):
    """Each pair differs in one thing the page depends on; the second of each pair is asked right after
    the first was kept, and must still be its own page."""
    measure = paths[-2]
    pairs = [
        ("/massnahmen?lang=en", "/massnahmen", {}, {}),  # language by ?lang
        ("/massnahmen?q=Sprach", "/massnahmen?q=Lotsen", {}, {}),  # query arguments
        ("/raster?skala=eigen&q=Hamm", "/raster?q=Hamm&skala=eigen", {}, {}),  # their order (the language switch repeats it)
        ("/raster", "/raster?skala=eigen", {}, {}),
        (measure, measure, {"Accept-Language": "en"}, {"Accept-Language": "de"}),  # language by Accept-Language
        (measure, measure, {"Accept": "text/html"}, {"Accept": "text/turtle"}),  # negotiated media type
        ("/", "/", {"Host": "a.example"}, {"Host": "b.example"}),  # the URL the server answers under
        ("/massnahmen", "/massnahmen", {"Host": "a.example"}, {"Host": "b.example"}),
    ]
    client, truth = cached.test_client(), plain.test_client()
    for first_url, second_url, first_headers, second_headers in pairs:
        first = client.get(first_url, headers=first_headers)
        second = client.get(second_url, headers=second_headers)
        expected = truth.get(second_url, headers=second_headers)
        assert first.status_code == second.status_code == expected.status_code == 200, (first_url, second_url)
        assert first.data != second.data, (first_url, second_url, second_headers)
        assert second.data == expected.data, (second_url, second_headers)
        assert second.headers["Content-Type"] == expected.headers["Content-Type"]


def test_errors_are_not_kept(cached):
    """A 4xx is cheap and anyone can ask for endless variants: none is kept."""
    client = cached.test_client()
    before = len(kept(cached))
    for url in ("/massnahmen?modus=x", "/massnahmen?lang=fr", "/kommune/gibt-es-nicht", "/vergleich?m=x",
                "/massnahmen?seite=999", "/profil.svg", "/massnahmen?q=a&q=b"):
        assert 400 <= client.get(url).status_code < 500, url
    assert len(kept(cached)) == before


def test_the_bound_holds_and_the_least_recently_used_goes_first(dist_dir, paths):
    limit_mb = 0.2
    app = create_app({"KIK_DIST": str(dist_dir), "TESTING": True, "KIK_PAGE_CACHE_MB": limit_mb})
    cache, client = kept(app), app.test_client()
    assert cache.limit == 200_000
    store = app.extensions["kik.store"]
    measures = [row["m"].value.removeprefix("https://w3id.org/kik") for row in store.select(
        KIK + "SELECT ?m WHERE { ?m a kik:Measure } ORDER BY ?m LIMIT 40")]
    urls = [*paths, *measures]
    sizes = {}
    for url in urls:
        assert client.get(url).status_code == 200, url
        assert cache.size <= cache.limit, f"{cache.size} bytes kept after {url}"
        assert cache.size == sum(page.size for page in cache._pages.values())
        assert sum(len(page.body) for page in cache._pages.values()) <= cache.limit
        sizes[url] = sum(len(page.body) for page in cache._pages.values())
    assert sum(len(client.get(url).data) for url in urls) > 2 * cache.limit, "the pages must exceed the bound"
    # least recently used first out: touch the oldest kept page, add new ones; it stays, the next oldest goes
    oldest, second = list(cache._pages)[:2]
    assert client.get(oldest[2] + ("?" + urlencode(oldest[3], doseq=True) if oldest[3] else "")).status_code == 200
    assert list(cache._pages)[-1] == oldest, "a hit makes the page the most recently used"
    for n in range(100):
        if second not in cache._pages:
            break
        assert client.get(f"/?q={n}").status_code == 200
    assert second not in cache._pages and oldest in cache._pages, "the least recently used page goes first"


def test_a_page_larger_than_the_bound_is_served_and_not_kept(dist_dir):
    app = create_app({"KIK_DIST": str(dist_dir), "TESTING": True, "KIK_PAGE_CACHE_MB": 0.01})
    answer = app.test_client().get("/massnahmen")
    assert answer.status_code == 200 and len(answer.data) > 10_000
    assert len(kept(app)) == 0 and kept(app).size == 0


def test_identical_requests_at_the_same_time_render_once():
    cache = PageCache(1_000_000)
    renders = []
    gate = threading.Event()

    def render() -> Page:
        renders.append(1)
        gate.wait(5)
        return Page(status=200, headers=(), body=b"page", size=100)

    answers = []
    threads = [threading.Thread(target=lambda: answers.append(cache.answer("b1", ("/x",), render, lambda: True)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # let every thread ask before the first render ends (a later one would hit anyway)
    gate.set()
    for thread in threads:
        thread.join(10)
    assert len(answers) == 8 and {a.body for a in answers} == {b"page"}
    assert len(renders) == 1
    assert cache._renders == {}, "the render locks go when nobody waits for them"


def test_a_page_of_a_build_no_longer_served_is_not_kept():
    cache = PageCache(1_000_000)
    page = Page(status=200, headers=(), body=b"old", size=10)
    assert cache.answer("old", ("/",), lambda: page, lambda: False) is page
    assert len(cache) == 0


def test_a_new_build_is_served_after_a_swap(tmp_path: Path):
    """The mini dataset, built, served and its pages kept; a measure renamed and built again: every
    page asked again shows the new build, and the old build's pages are gone."""
    sources = tmp_path / "mini"
    shutil.copytree(MINI, sources)
    dist = tmp_path / "dist"
    assert kg_build(str(sources), "--dist", str(dist)) == 0
    app = create_app({"KIK_DIST": str(dist), "TESTING": True})
    client = app.test_client()
    urls = ["/massnahmen?q=Lotsen", "/massnahmen", "/", "/vergleich", "/raster",
            "/fiktiv/test-mini/massnahme/lotsen", "/fiktiv/test-mini/massnahme/lotsen?lang=en"]
    for url in urls:
        page = client.get(url).get_data(as_text=True)
        assert "Lotsen (fiktiv)" in page or "Guides (fictional)" in page or url in ("/", "/raster"), url
    old_build = kept(app).build
    assert len(kept(app)) == len(urls)

    table = sources / "massnahmen.csv"
    table.write_text(table.read_text(encoding="utf-8").replace("Lotsen (fiktiv)", "Lotsinnen (fiktiv)", 1)
                     .replace("Guides (fictional)", "Pilots (fictional)", 1), encoding="utf-8")
    assert kg_build(str(sources), "--dist", str(dist)) == 0
    deadline = time.monotonic() + 20
    while app.extensions["kik.publication"].target != str(dist.resolve()) and time.monotonic() < deadline:
        time.sleep(0.2)
        client.get("/health")
    assert app.extensions["kik.publication"].target == str(dist.resolve()), "the new build was not loaded"
    plain = create_app({"KIK_DIST": str(dist), "TESTING": True, "KIK_PAGE_CACHE_MB": 0}).test_client()
    for url in urls:
        page = client.get(url).get_data(as_text=True)
        assert "Lotsen (fiktiv)" not in page and "Guides (fictional)" not in page, f"{url}: the old build's page"
        assert page == plain.get(url).get_data(as_text=True), url
    assert kept(app).build != old_build and len(kept(app)) == len(urls)


def test_the_catalog_keeps_each_format_and_page_apart(cached):
    """Turtle, JSON-LD, RDF/XML and HTML of the catalog, asked twice, under two host names and in two
    languages: each answer is what rdflib writes for the page's graph (parsed back: the same graph)."""
    client = cached.test_client()
    answers = {}
    for host in ("a.example", "b.example"):
        for url, accept in (("/catalog", "text/turtle"), ("/catalog", "application/ld+json"),
                            ("/catalog", "application/rdf+xml"), ("/catalog.ttl", None), ("/catalog", "text/html"),
                            ("/catalog?lang=en", "text/html")):
            headers = {"Host": host, **({"Accept": accept} if accept else {})}
            first, again = client.get(url, headers=headers), client.get(url, headers=headers)
            assert first.status_code == again.status_code == 200, url
            assert first.data == again.data, (url, accept)
            answers[(host, url, accept)] = first
            if accept != "text/html":
                assert f"http://{host}/".encode() in first.data, (url, accept, host)
    html = answers[("a.example", "/catalog", "text/html")].get_data(as_text=True)
    assert '<html lang="de"' in html
    assert '<html lang="en"' in answers[("a.example", "/catalog?lang=en", "text/html")].get_data(as_text=True)
    english = client.get("/catalog", headers={"Host": "a.example", "Accept": "text/html", "Accept-Language": "en"})
    assert '<html lang="en"' in english.get_data(as_text=True), "the language from Accept-Language has its own page"
    graphs = {}
    for (host, url, accept), answer in answers.items():
        if accept == "text/html":
            continue
        fmt = {"text/turtle": "turtle", None: "turtle", "application/ld+json": "json-ld",
               "application/rdf+xml": "xml"}[accept]
        graphs.setdefault(host, []).append(Graph().parse(data=answer.data, format=fmt))
    from rdflib.compare import isomorphic
    for host, found in graphs.items():
        assert all(isomorphic(found[0], other) for other in found[1:]), host
    assert not isomorphic(graphs["a.example"][0], graphs["b.example"][0])
