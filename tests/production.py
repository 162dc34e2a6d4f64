"""Start the server as in production on loopback: gunicorn (several worker processes, for the fault
and load tests) and waitress exactly as README.md starts it (for the limit, header and traversal
tests); and measure the memory of a whole process tree."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPOSITORY = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).with_name("gunicorn")
WAIT = 90.0  # seconds: an upper bound for start-up, not a timing assertion


@dataclass
class Production:
    """A running gunicorn: its URL, master pid and the log lines it has written so far."""

    process: subprocess.Popen
    base: str = ""
    log: list[str] = field(default_factory=list)

    def worker_pids(self) -> list[int]:
        """Live gunicorn workers (booted per the log and still running)."""
        booted = [int(m.group(1)) for line in list(self.log) for m in [re.search(r"Booting worker with pid: (\d+)", line)] if m]
        return [pid for pid in booted if _alive(pid) and pid in children(self.process.pid)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants (workers, query workers, forkserver)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
        todo += children(current)
    return total


@contextmanager
def _started(command: list[str], settings: dict[str, str], ready: str) -> Iterator[Production]:
    """Run ``command`` in its own session with KIK_* ``settings``; yield once the output line ``ready``
    (a regex whose group 1 is the base URL) appeared and /health answers; stop the whole group after."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **settings}
    process = subprocess.Popen(command, cwd=REPOSITORY, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    running = Production(process)
    reader = threading.Thread(target=lambda: [running.log.append(line) for line in process.stdout], daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + WAIT
        while not running.base and time.monotonic() < deadline and process.poll() is None:
            for line in list(running.log):
                match = re.search(ready, line)
                if match:
                    running.base = match.group(1) + "/"
            time.sleep(0.1)
        assert running.base, f"{command[0]} did not start:\n" + "".join(running.log)
        while time.monotonic() < deadline:
            try:
                if requests.get(running.base + "health", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        reader.join(timeout=5)


@contextmanager
def gunicorn(dist: Path, workers: int = 2, threads: int = 8, **settings: str) -> Iterator[Production]:
    """gunicorn with ``workers`` processes of ``threads`` threads serving ``dist`` on a free loopback port."""
    command = [str(GUNICORN), "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread",
               "--bind", "127.0.0.1:0", "--graceful-timeout", "5", "--timeout", "60", "server.wsgi:app"]
    with _started(command, {"KIK_DIST": str(dist), **settings}, r"Listening at: (http://127\.0\.0\.1:\d+)") as running:
        yield running


def readme_production_command() -> str:
    """The ``waitress-serve`` command of README.md's "Production start", continuation lines joined."""
    text = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    block = text.split("## Production start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    command = " ".join(line.strip().removesuffix("\\").strip() for line in block.splitlines())
    return command[command.index(".venv/bin/waitress-serve"):]


@contextmanager
def waitress(dist: Path, **settings: str) -> Iterator[Production]:
    """waitress started with README.md's production command, its options unchanged (shell expansion
    included), on a free loopback port instead of 8080, serving ``dist``."""
    command = readme_production_command()
    assert "--port=8080" in command, command
    command = command.replace("--port=8080", "--host=127.0.0.1 --port=0")
    command = command.replace(".venv/bin/", str(Path(sys.executable).parent) + "/", 1)
    with _started(["bash", "-c", "exec " + command], {"KIK_DIST": str(dist), **settings},
                  r"Serving on (http://127\.0\.0\.1:\d+)") as running:
        yield running


@contextmanager
def kg_serve(dist: Path, **settings: str) -> Iterator[Production]:
    """``kg serve`` (what ``make serve`` runs) on a free loopback port, serving ``dist``."""
    command = [str(Path(sys.executable).with_name("kg")), "serve", "--dist", str(dist), "--host", "127.0.0.1", "--port", "0"]
    with _started(command, settings, r"ready: (http://127\.0\.0\.1:\d+)/") as running:
        yield running
