"""The servers compared: ours (waitress, as in production), `oxigraph serve`, rdflib-endpoint
(uvicorn), and nginx for static files. Each knows how to start on one build and where it answers."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from bench import procs

REPOSITORY = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SELECT_JSON = "application/sparql-results+json"
GRAPH_TURTLE = "text/turtle"
PROBE = "SELECT * WHERE { ?s ?p ?o } LIMIT 1"


@dataclass
class Running:
    """A started server: its process, base URL and the path of its SPARQL query operation."""

    name: str
    process: subprocess.Popen
    base_url: str
    query_path: str
    started: float  # time.monotonic() just before launch

    def query_url_path(self, query: str) -> str:
        return f"{self.query_path}?{urllib.parse.urlencode({'query': query})}"


def accept_for(query: str) -> str:
    """The media type to ask for: results JSON for SELECT/ASK, Turtle for CONSTRUCT/DESCRIBE."""
    body = "\n".join(line for line in query.splitlines() if not re.match(r"\s*(#|PREFIX|BASE)", line, re.IGNORECASE))
    match = re.search(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", body, re.IGNORECASE)
    return GRAPH_TURTLE if match and match.group(1).upper() in ("CONSTRUCT", "DESCRIBE") else SELECT_JSON


def start_ours(dist: Path, logs: Path, started: float, cache: bool = True, settings: dict[str, str] | None = None) -> Running:
    """Our server with production settings; ``cache=False`` turns the answer cache off, so every
    request is evaluated (the figure to compare query engines by); ``settings`` are more KIK_* variables."""
    port = procs.free_port()
    env = {"KIK_DIST": str(dist)} | ({} if cache else {"KIK_RESULT_CACHE_MB": "0"}) | (settings or {})
    process = procs.start(
        [str(BIN / "waitress-serve"), "--threads=8", f"--listen=127.0.0.1:{port}", "server.wsgi:app"],
        logs / ("ours.log" if cache else "ours-nocache.log"), cwd=REPOSITORY, env=env,
    )
    return Running("ours" if cache else "ours, cache off", process, f"http://127.0.0.1:{port}", "/sparql", started)


def oxigraph_load(dist: Path, location: Path, logs: Path, timeout: float) -> procs.Timed:
    """Load the build's N-Quads into an on-disk Oxigraph store (what `oxigraph serve` reads)."""
    if location.exists():
        shutil.rmtree(location)
    return procs.run_timed([str(BIN / "oxigraph"), "load", "--location", str(location), "--file", str(dist / "kg.nq")],
                           logs / "oxigraph-load.log", timeout=timeout)


def start_oxigraph(location: Path, logs: Path, started: float) -> Running:
    port = procs.free_port()
    process = procs.start(
        [str(BIN / "oxigraph"), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
        logs / "oxigraph.log",
    )
    return Running("oxigraph serve", process, f"http://127.0.0.1:{port}", "/query", started)


def start_rdflib_endpoint(dist: Path, logs: Path, started: float) -> Running:
    port = procs.free_port()
    process = procs.start(
        [str(BIN / "rdflib-endpoint"), "serve", str(dist / "kg.nq"), "--host", "127.0.0.1", "--port", str(port)],
        logs / "rdflib-endpoint.log",
    )
    return Running("rdflib-endpoint", process, f"http://127.0.0.1:{port}", "/", started)


NGINX_CONF = """
{user}
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    types {{ application/n-quads nq; application/gzip gz; }}
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or (str(Path("/usr/sbin/nginx")) if Path("/usr/sbin/nginx").exists() else None)


def start_nginx(root: Path, tmp: Path, logs: Path, started: float) -> Running:
    """nginx on loopback with a generated minimal config (never the system one)."""
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed (Debian: apt-get install -y nginx)")
    tmp.mkdir(parents=True, exist_ok=True)
    port = procs.free_port()
    conf = tmp / "nginx.conf"
    # as root, nginx's workers would run as "nobody" and could not read a private temporary folder
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    conf.write_text(NGINX_CONF.format(user=user, tmp=tmp, port=port, root=root.resolve()), encoding="utf-8")
    process = procs.start([binary, "-p", str(tmp), "-c", str(conf)], logs / "nginx.log")
    return Running("nginx", process, f"http://127.0.0.1:{port}", "/", started)
