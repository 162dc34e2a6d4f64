"""Occupying the SPARQL endpoint's query workers from a test: a query that never finishes."""

from __future__ import annotations

import threading

import requests

# a cross product of all triples with themselves, three times: never finishes on any machine
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def hold_the_only_worker(url: str, runner, answers: dict) -> threading.Thread:
    """Send the runaway query from a thread and return once it occupies the only worker; its answer
    lands in ``answers["runaway"]`` and "runaway" is appended to ``answers["order"]`` when it comes."""

    def runaway() -> None:
        answers["runaway"] = requests.get(url, params={"query": RUNAWAY}, timeout=60)
        answers.setdefault("order", []).append("runaway")

    thread = threading.Thread(target=runaway)
    thread.start()
    while runner.running == 0 and thread.is_alive():
        threading.Event().wait(0.01)
    return thread
