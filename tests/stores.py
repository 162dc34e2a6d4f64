"""Real SPARQL 1.1 stores on loopback for the external-store tests: ``oxigraph serve`` and Virtuoso 7.

Each context manager starts the store as a subprocess in its own temporary directory on free ports,
waits until it answers a query, yields a ``RunningStore`` (its URLs, how ``kg push`` and our server
reach it) and stops the process at the end.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from kg.cli import main as kg_main

READY_WITHIN = 60.0
REPOSITORY = Path(__file__).resolve().parents[1]
VIRTUOSO_SETUP = REPOSITORY / "docs" / "virtuoso-setup.sql"
# A developer without Virtuoso may leave its tests out with this variable; CI never sets it.
WITHOUT_VIRTUOSO = "KIK_TEST_WITHOUT_VIRTUOSO"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class RunningStore:
    """A store under test: where it answers, and what ``kg push`` and our server need to reach it."""

    engine: str
    query_url: str
    gsp_url: str
    push_options: tuple[str, ...] = ()
    password: str = ""
    server_settings: dict = field(default_factory=dict)
    wrong_gsp_url: str = ""  # a URL a user might mistake for the Graph Store Protocol endpoint

    def push(self, dist: Path, *more: str) -> int:
        """``kg push`` of ``dist`` into this store (the password, as for a user, from the environment)."""
        previous = os.environ.get("KIK_STORE_PASSWORD")
        os.environ["KIK_STORE_PASSWORD"] = self.password
        try:
            return kg_main(["push", "--dist", str(dist), "--store", self.gsp_url, *self.push_options, "--quiet", *more])
        finally:
            if previous is None:
                del os.environ["KIK_STORE_PASSWORD"]
            else:
                os.environ["KIK_STORE_PASSWORD"] = previous

    def put(self, graph: str, ntriples: bytes) -> int:
        """One Graph Store Protocol PUT (to seed graphs the build does not have); returns the status."""
        auth = requests.auth.HTTPDigestAuth("kik", self.password) if self.password else None
        param = self.push_options[self.push_options.index("--graph-param") + 1] if "--graph-param" in self.push_options else "graph"
        response = requests.put(self.gsp_url, params={param: graph}, data=ntriples, auth=auth,
                                headers={"Content-Type": "application/n-triples"}, timeout=30)
        return response.status_code


def _wait_until_ready(process: subprocess.Popen, url: str, log: Path, name: str) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while True:
        if process.poll() is not None:
            pytest.fail(f"{name} exited with {process.returncode}: {log.read_text(errors='replace')[-3000:]}")
        try:
            if requests.get(url, params={"query": "ASK {}"}, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{name} did not answer on {url} within {READY_WITHIN:g} s: {log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)


def _stop(process: subprocess.Popen, grace: float) -> None:
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _oxigraph_binary() -> str:
    found = Path(sys.executable).with_name("oxigraph")
    path = str(found) if found.is_file() else shutil.which("oxigraph")
    assert path, "the `oxigraph` command is missing: pip install oxigraph (the test extras list it)"
    return path


@contextmanager
def oxigraph_serve(location: Path) -> Iterator[RunningStore]:
    """``oxigraph serve --union-default-graph`` with its database in ``location``."""
    port = free_port()
    log = location.parent / f"oxigraph-{port}.log"
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen([_oxigraph_binary(), "serve", "--location", str(location), "--bind",
                                    f"127.0.0.1:{port}", "--union-default-graph"], stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_until_ready(process, f"{base}/query", log, "oxigraph serve")
            yield RunningStore("oxigraph", f"{base}/query", f"{base}/store",
                               server_settings={"KIK_STORE_QUERY_URL": f"{base}/query"}, wrong_gsp_url=f"{base}/query")
        finally:
            _stop(process, 10)


def virtuoso_binaries() -> tuple[str, str]:
    """``virtuoso-t`` and ``isql-vt`` (Debian package ``virtuoso-opensource``); fails clearly if missing."""
    server, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if server and isql:
        return server, isql
    if os.environ.get(WITHOUT_VIRTUOSO):
        pytest.skip(f"Virtuoso is not installed and {WITHOUT_VIRTUOSO} is set")
    pytest.fail("Virtuoso is not installed (virtuoso-t and isql-vt are missing). Install it with `make virtuoso` "
                "(Debian: apt-get install virtuoso-opensource), or set "
                f"{WITHOUT_VIRTUOSO}=1 to leave the Virtuoso tests out on your machine.")


VIRTUOSO_INI = """\
[Database]
DatabaseFile       = virtuoso.db
ErrorLogFile       = virtuoso.log
LockFile           = virtuoso.lck
TransactionFile    = virtuoso.trx
xa_persistent_file = virtuoso.pxa
TempStorage        = TempDatabase

[TempDatabase]
DatabaseFile       = virtuoso-temp.db
TransactionFile    = virtuoso-temp.trx

[Parameters]
ServerPort         = 127.0.0.1:{sql_port}
DisableUnixSocket  = 1
DirsAllowed        = .
NumberOfBuffers    = {buffers}
MaxDirtyBuffers    = {dirty}
CheckpointInterval = 60

[HTTPServer]
ServerPort         = 127.0.0.1:{http_port}
ServerRoot         = /var/lib/virtuoso-opensource-7/vsp
ServerThreads      = 10
MaxClientConnections = 10
Charset            = UTF-8

[SPARQL]
ResultSetMaxRows   = 1000000
MaxQueryExecutionTime = 60
MaxQueryCostEstimationTime = 0
"""


@contextmanager
def virtuoso_serve(directory: Path, password: str = "kik-test-password", buffers: int = 40_000) -> Iterator[RunningStore]:
    """Virtuoso 7 with a fresh database in ``directory``, set up by docs/virtuoso-setup.sql; ``buffers``
    8 KB pages of cache (Virtuoso's advice: 85,000 per GB of RAM it may use)."""
    server, isql = virtuoso_binaries()
    directory.mkdir(parents=True, exist_ok=True)
    sql_port, http_port = free_port(), free_port()
    (directory / "virtuoso.ini").write_text(VIRTUOSO_INI.format(sql_port=sql_port, http_port=http_port, buffers=buffers, dirty=buffers * 3 // 4), encoding="utf-8")
    log = directory / "console.log"
    base = f"http://127.0.0.1:{http_port}"
    with log.open("wb") as out:
        process = subprocess.Popen([server, "+foreground", "+configfile", "virtuoso.ini"], cwd=directory,
                                   stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_until_ready(process, f"{base}/sparql", directory / "virtuoso.log", "Virtuoso")
            setup = subprocess.run([isql, f"127.0.0.1:{sql_port}", "dba", "dba", str(VIRTUOSO_SETUP),
                                    "-u", f"PASSWORD={password}"], capture_output=True, text=True, timeout=60)
            if setup.returncode != 0 or "Error" in setup.stdout + setup.stderr:
                pytest.fail(f"docs/virtuoso-setup.sql failed: {setup.stdout[-2000:]} {setup.stderr[-2000:]}")
            yield RunningStore("virtuoso", f"{base}/sparql", f"{base}/sparql-graph-crud-auth",
                               push_options=("--user", "kik", "--digest", "--graph-param", "graph-uri"),
                               password=password, server_settings={"KIK_STORE_QUERY_URL": f"{base}/sparql"},
                               # (a PUT to /sparql gets no answer at all from Virtuoso 7.2.5: the push would wait for its timeout)
                               wrong_gsp_url=f"{base}/sparql-graph-crud")
        finally:
            _stop(process, 30)


STORES = {"oxigraph": oxigraph_serve, "virtuoso": virtuoso_serve}


@contextmanager
def running_store(engine: str, directory: Path) -> Iterator[RunningStore]:
    """The store named ``engine`` ("oxigraph" or "virtuoso") with its data in ``directory``."""
    with STORES[engine](directory / "db") as store:
        yield store
