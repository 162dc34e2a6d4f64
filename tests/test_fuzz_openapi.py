"""Property-based fuzzing of the whole HTTP interface against its OpenAPI description (schemathesis).

Schemathesis reads /openapi.json from the app and generates requests for every operation, valid
ones and, with negative generation on, invalid ones (values outside an enum, wrong types, missing
required parameters); each response must not be a 5xx (except the documented 503 of /sparql), must
have a documented status and media type, documented headers, and carry the security headers. The
examples per operation are bounded so the whole run stays within a couple of minutes. A route the
description lacks is never fuzzed, so the description must cover every route of the app.
"""

from __future__ import annotations

import json
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server import create_app
from server.openapi import DESCRIPTION

MAX_EXAMPLES = 25
LEAKS = ("Traceback", 'File "', "site-packages")


@pytest.fixture(scope="module")
def fuzz_app(dist_dir):
    """An app with short limits so that generated queries cannot run long (and with real error handling)."""
    app = create_app({"KIK_DIST": str(dist_dir), "KIK_QUERY_TIMEOUT": 3.0, "KIK_MAX_CONCURRENT_QUERIES": 2,
                      "KIK_MAX_RESULT_ROWS": 1000})
    yield app
    runner = app.extensions.get("kik.query_runner")
    if runner is not None:
        runner.close()


@schemathesis.serializer("application/sparql-query")
def sparql_query_body(ctx, value) -> bytes:
    """A generated query text as the body of a POST application/sparql-query."""
    return value.encode("utf-8") if isinstance(value, str) else str(value).encode("utf-8")


# the file the server serves at /openapi.json (test_security_headers checks that it is served);
# the app under test is attached per case (a pytest fixture cannot be used at import time)
schema = schemathesis.openapi.from_path(DESCRIPTION)
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


def no_server_error(ctx, response, case) -> None:
    """No 5xx but the documented 503 (busy, time limit) of the SPARQL endpoint."""
    if response.status_code >= 500:
        documented = response.status_code == 503 and case.path == "/sparql"
        assert documented, f"{response.status_code} for {case.method} {case.formatted_path}: {response.text[:300]}"


def security_headers(ctx, response, case) -> None:
    headers = {name.lower(): value for name, value in response.headers.items()}
    assert headers.get("x-content-type-options") == ["nosniff"] or headers.get("x-content-type-options") == "nosniff"
    assert "frame-ancestors 'none'" in str(headers.get("content-security-policy"))


def no_leaks(ctx, response, case) -> None:
    if response.status_code >= 400:
        text = response.text or ""
        assert not any(leak in text for leak in LEAKS), text[:500]


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_interface_matches_its_description(fuzz_app, case) -> None:
    case.call_and_validate(app=fuzz_app, checks=[
        no_server_error, security_headers, no_leaks,
        status_code_conformance, content_type_conformance, response_headers_conformance,
        response_schema_conformance,
    ])


def _template(path: str) -> str:
    """A path with its variables blanked: ``/download/<path:name>`` and ``/download/{file}`` agree."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


def test_every_route_of_the_app_is_described(app) -> None:
    """A route the description lacks is a route the fuzzer never reaches."""
    described = {_template(path): {method.upper() for method in operations}
                 for path, operations in json.loads(DESCRIPTION.read_text(encoding="utf-8"))["paths"].items()}
    missing = []
    for rule in app.url_map.iter_rules():
        methods = set(rule.methods or ()) - {"HEAD", "OPTIONS"}
        if not methods <= described.get(_template(rule.rule), set()):
            missing.append(f"{sorted(methods)} {rule.rule}")
    assert not missing, f"routes missing from server/openapi.json: {missing}"


def test_invalid_requests_are_generated_too() -> None:
    """Negative generation is on for every operation (schemathesis' default could change)."""
    for operation in schema.get_all_operations():
        config = schema.config.generation_for(operation=operation.ok())
        assert set(config.modes) == {GenerationMode.POSITIVE, GenerationMode.NEGATIVE}
