"""/openapi.json: the OpenAPI 3 description of this server's whole HTTP interface.

The description is a file beside this module (server/openapi.json) so that it is reviewed like
code; the property-based tests (tests/test_fuzz_openapi.py) check the server against it.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, send_file

bp = Blueprint("openapi", __name__)
DESCRIPTION = Path(__file__).with_name("openapi.json")


@bp.get("/openapi.json")
def description():
    response = send_file(DESCRIPTION, mimetype="application/json", conditional=True, max_age=3600)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
