"""What the store says about Musterstadt's measure profiles: the truth the page tests compare with."""

from __future__ import annotations

FICTIONAL = "https://w3id.org/kik/fiktiv/musterstadt/"
PROFILE_QUERY = f"""PREFIX kik: <https://w3id.org/kik/ontology#>
SELECT ?m ?i WHERE {{ ?m a kik:Measure .
    OPTIONAL {{ ?m kik:addressesChallenge ?c . ?c kik:gridIndex ?i }}
    FILTER(STRSTARTS(STR(?m), "{FICTIONAL}")) }}"""


def profiles(store) -> dict[str, set[int]]:
    """Every fictional measure's profile as grid indices, straight from SPARQL."""
    result: dict[str, set[int]] = {}
    for row in store.select(PROFILE_QUERY):
        result.setdefault(row["m"].value, set())
        if "i" in row:
            result[row["m"].value].add(int(row["i"].value))
    return result
