"""Bad HTTP parameters on every route: a 4xx that says what is wrong, never a 500, never a hang.

A table of hand-picked bad requests (invalid enum values, repeated parameters, undecodable
``%ff``, unknown IRIs, overlong values) with the status each must get and a piece of the message
that must explain it. Each row runs on the development and on the production server (waitress as
README.md starts it). tests/test_fuzz_openapi.py adds generated invalid requests per operation;
this table holds the cases a generator does not think of. (Bad *source* files: tests/test_bad_input.py.)
"""

from __future__ import annotations

import html
import re

import pytest
import requests

UNKNOWN = "https%3A%2F%2Fw3id.org%2Fkik%2Fgibt-es-nicht"
LONG = "x" * 5000
ANY_DUPLICATE = "ASK%7B%7D"

# (request target below the base, expected status, a piece of the message that explains it)
BAD = [
    ("?lang=fr", 400, "lang='fr' is not supported"),
    ("?lang=", 400, "use lang=de or lang=en"),
    ("?lang=%ff", 400, "use lang=de or lang=en"),
    ("?seite=0", 400, "seite: a page number from 1"),
    ("?seite=abc", 400, "seite: a page number from 1"),
    ("?seite=99999", 400, "seite: a page number from 1"),
    ("?q=" + "x" * 201, 400, "200"),
    ("massnahmen?modus=keine", 400, "use modus=eine (any) or modus=alle (all)"),
    ("massnahmen?modus=%ff", 400, "use modus=eine"),
    ("massnahmen?lang=xx", 400, "use lang=de or lang=en"),
    ("massnahmen?q=" + "x" * 201, 400, "200 characters"),
    ("massnahmen?seite=0", 400, "seite: a page number from 1"),
    ("massnahmen?seite=x", 400, "seite: a page number from 1"),
    ("raster?skala=x", 400, "skala: gemeinsam | eigen"),
    ("raster?skala=%ff", 400, "skala: gemeinsam | eigen"),
    ("raster?lang=xx", 400, "use lang=de or lang=en"),
    ("raster?k=" + UNKNOWN, 404, "no municipality with IRI 'https://w3id.org/kik/gibt-es-nicht'"),
    ("raster?k=%ff", 404, "no municipality with IRI"),
    ("vergleich?m=a", 400, "2 bis 4"),
    ("vergleich?m=a&m=b&m=c&m=d&m=e", 400, "2 bis 4"),
    ("vergleich?m=a&m=b", 404, "no measure with IRI 'a'"),
    ("vergleich?m=%ff&m=%fe", 404, "no measure with IRI"),
    ("vergleich?lang=x", 400, "use lang=de or lang=en"),
    ("profil.svg", 400, "iri"),
    ("profil.svg?iri=urn:x", 404, "no measure with IRI 'urn:x'"),
    ("profil.svg?iri=%ff", 404, "no measure with IRI"),
    ("profil.svg?iri=" + LONG, 404, "no measure with IRI"),
    ("profil.svg?lang=xx&iri=urn:x", 400, "use lang=de or lang=en"),
    ("%ff", 404, "unknown resource"),
    ("hamm/%ff", 404, "unknown resource"),
    ("hamm/" + LONG, 404, "unknown resource"),
    ("download/%ff", 404, "file not found"),
    ("download/" + LONG, 404, "file not found"),
    ("hamm/konzept/2018?format=nope", 400, "There is no format 'nope'"),
    ("hamm/konzept/2018?format=%ff", 400, "unknown format"),
    ("catalog?format=nope", 400, "There is no format 'nope'"),
    ("sparql?query=", 400, "The query is empty"),
    ("sparql?query=" + LONG, 400, "SPARQL syntax error"),
    (f"sparql?query={ANY_DUPLICATE}&query={ANY_DUPLICATE}", 400, "Exactly one 'query' parameter"),
    ("sparql?update=CLEAR%20ALL", 400, "read-only"),
    ("sparql/yasgui/%ff", 404, "No such file"),
    ("kommune/gibt-es-nicht", 404, "gibt-es-nicht"),
    ("vorlage/nope.xlsx", 404, "nope"),
    ("vorlage/%ff.xlsx", 404, "Vorlage"),
    ("?lang=de&lang=en", 400, "lang is given 2 times"),
    ("massnahmen?modus=eine&modus=alle", 400, "modus is given 2 times"),
    ("massnahmen?seite=1&seite=2", 400, "seite is given 2 times"),
    ("massnahmen?akteur=a&akteur=b", 400, "akteur is given 2 times"),
    ("raster?skala=eigen&skala=gemeinsam", 400, "skala is given 2 times"),
    ("massnahmen?h=" + UNKNOWN, 400, "h='https://w3id.org/kik/gibt-es-nicht' names nothing"),
    ("massnahmen?akteur=" + UNKNOWN, 400, "akteur='https://w3id.org/kik/gibt-es-nicht' names nothing"),
    ("massnahmen?konzept=" + UNKNOWN, 400, "konzept='https://w3id.org/kik/gibt-es-nicht' names nothing"),
    ("massnahmen?zielgruppe=%ff", 400, "names nothing"),
    ("massnahmen?akteur=" + LONG, 400, "names nothing"),
]


def message(response: requests.Response) -> str:
    """The visible text of an answer (an HTML error page's text, or the plain-text body)."""
    text = response.text
    if "html" in response.headers.get("Content-Type", ""):
        text = re.sub(r"<script.*?</script>|<[^>]+>", " ", text, flags=re.S)
    return " ".join(html.unescape(text).split())


@pytest.mark.parametrize(("target", "status", "says"), BAD, ids=[row[0][:60] for row in BAD])
def test_bad_parameter_gets_its_status_and_a_message(served, target, status, says) -> None:
    response = requests.get(served + target, timeout=60)  # a hang fails here, it never waits forever
    assert response.status_code == status, (target[:80], response.status_code, message(response)[:300])
    assert says in message(response), (target[:80], message(response)[:300])
    assert "Traceback" not in response.text


@pytest.mark.parametrize("target", [
    "sparql?query=%ff",
    "sparql?query=ASK%7B%7D&default-graph-uri=%ff",
    "sparql?query=ASK%7B%7D&named-graph-uri=" + LONG,
])
def test_undecodable_or_odd_sparql_parameters_are_answered_without_500(served, target) -> None:
    """Undecodable bytes arrive as U+FFFD: the engine answers or says why, never a 5xx."""
    response = requests.get(served + target, headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert response.status_code in (200, 400), (target[:80], response.status_code, response.text[:300])
    assert response.text.strip()


# Known values that no measure carries are not errors: Hamm's concept and its challenges have no
# recorded measures (0 von 48), so their filters give an empty list, which is the truth.
KNOWN_EMPTY = [
    "massnahmen?konzept=https%3A%2F%2Fw3id.org%2Fkik%2Fhamm%2Fkonzept%2F2018",
    "massnahmen?h=https%3A%2F%2Fw3id.org%2Fkik%2Fhamm%2Fkonzept%2F2018%2Fherausforderung%2F1",
]


@pytest.mark.parametrize("target", KNOWN_EMPTY)
def test_known_filter_values_without_measures_give_an_empty_list(served, target) -> None:
    response = requests.get(served + target, timeout=60)
    assert response.status_code == 200, message(response)[:300]
    assert 'numberOfItems": 0' in response.text
