"""Why a request text is refused before it reaches the engine: federated queries and updates.

Oxigraph would really call a ``SERVICE`` endpoint, so federation is detected by parsing the query
with rdflib's SPARQL grammar (a ``SERVICE`` inside a string, IRI or comment is no service call).
Parsing only happens when the word occurs at all, so ordinary queries pay nothing.
"""

from __future__ import annotations

from pyparsing import ParseException, ParseResults
from rdflib.plugins.sparql.parserutils import CompValue

READ_ONLY = (
    "This endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, …) is not accepted. "
    "Download the dumps to change the data locally."
)
NO_SERVICE = "Federated queries (SERVICE) are not accepted here: this endpoint does not call other endpoints."


def _has_service(node: object) -> bool:
    if isinstance(node, CompValue):
        if node.name == "ServiceGraphPattern":
            return True
        return any(_has_service(value) for value in node.values())
    if isinstance(node, (ParseResults, list, tuple)):
        return any(_has_service(item) for item in node)
    return False


def service_refusal(query: str) -> str | None:
    """A message if the query calls SERVICE, else None."""
    if "service" not in query.lower():
        return None
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        parsed = parseQuery(query)
    except ParseException as error:
        # the engine's parser decides about syntax; refuse only what could be a real SERVICE call
        return (
            f"{NO_SERVICE} The query mentions SERVICE and could not be checked "
            f"(line {error.lineno}, column {error.col}: {error.msg})."
        )
    return NO_SERVICE if _has_service(parsed) else None


def is_update(text: str) -> bool:
    """Whether a text that is no valid query parses as SPARQL Update (for a clear refusal message)."""
    from rdflib.plugins.sparql.parser import parseUpdate

    try:
        parseUpdate(text)
    except (ParseException, ValueError, TypeError):
        return False
    return True
