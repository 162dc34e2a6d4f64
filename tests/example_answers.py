"""The answers of the example queries in a canonical, comparable form.

``python -m tests.example_answers --dist DIST`` wrote ``tests/fixtures/example_answers.json`` from the
queries as they were before they were rewritten for speed (Hamm + Musterstadt build); the test in
``tests/test_sparql_examples.py`` compares today's queries against that file.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "example_answers.json"


def _term(value: dict) -> list[str]:
    kind = value["type"]
    text = "_:b" if kind == "bnode" else value["value"]
    return [kind if kind != "typed-literal" else "literal", text, value.get("datatype", ""),
            value.get("xml:lang", "")]


def canonical(post, text: str) -> list:
    """Rows of a SELECT (sorted, every term with type, datatype and language) or the sorted N-Triples
    lines of a CONSTRUCT/DESCRIBE; ``post(query, accept)`` returns the response body as text."""
    if "CONSTRUCT" in text or "DESCRIBE" in text:
        lines = post(text, "application/n-triples").splitlines()
        return sorted(line.strip() for line in lines if line.strip())
    bindings = json.loads(post(text, "application/sparql-results+json"))["results"]["bindings"]
    return sorted([sorted([name, *_term(value)] for name, value in row.items()) for row in bindings])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dist", required=True)
    args = parser.parse_args()
    from server import create_app
    from server.sparql.examples import DEFAULT_DIR, load_examples

    client = create_app({"KIK_DIST": args.dist, "TESTING": True}).test_client()

    def post(query: str, accept: str) -> str:
        response = client.post("/sparql", data={"query": query}, headers={"Accept": accept})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_data(as_text=True)

    answers = {example.name: canonical(post, example.text) for example in load_examples(DEFAULT_DIR)}
    FIXTURE.write_text(json.dumps(answers, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{FIXTURE}: {len(answers)} queries, {sum(map(len, answers.values()))} rows")


if __name__ == "__main__":
    main()
