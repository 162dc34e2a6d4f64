"""Processes the benchmark starts: launch in their own group, watch memory, always clean up.

Every process goes into a new session (its own process group), so stopping it also stops the
children it forked (our query workers, uvicorn, nginx workers) and nothing else.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

_STARTED: list[subprocess.Popen] = []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(argv: list[str], log: Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start a process in its own session, output to ``log``; remembered for ``stop_all``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    stream = log.open("wb")
    process = subprocess.Popen(argv, stdout=stream, stderr=subprocess.STDOUT, cwd=cwd,
                               env={**os.environ, **(env or {})}, start_new_session=True)
    stream.close()
    _STARTED.append(process)
    return process


def stop(process: subprocess.Popen, grace: float = 5.0) -> None:
    """TERM the process group, KILL it after ``grace`` seconds."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # stragglers of the group (forked workers)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    if process in _STARTED:
        _STARTED.remove(process)


def stop_all() -> None:
    for process in _STARTED[:]:  # stop() removes from the list
        stop(process, grace=2.0)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def tree_rss(pid: int) -> int:
    """Memory in bytes of ``pid`` and all its descendants: the sum of their proportional set sizes
    (PSS), so pages that forked workers share with their parent count once, not once per process."""
    tree = _children()
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(tree.get(current, []))
        try:
            with open(f"/proc/{current}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            continue
    return total


def tree_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds (user + system) used so far by the process tree of ``pid``: the whole tree, and
    the part of it spent in processes started by Python's ``multiprocessing`` (our query workers,
    forked from its forkserver). That split shows where a request's time goes, whatever else runs."""
    tree = _children()
    tick = os.sysconf("SC_CLK_TCK")
    total = workers = 0.0
    todo = [pid]
    while todo:
        current = todo.pop()
        todo.extend(tree.get(current, []))
        try:
            with open(f"/proc/{current}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            with open(f"/proc/{current}/cmdline", "rb") as cmdline:
                forked = b"multiprocessing" in cmdline.read()
        except OSError:
            continue
        used = (int(fields[11]) + int(fields[12])) / tick
        total += used
        workers += used if forked else 0.0
    return total, workers


@dataclass
class RssSampler:
    """Samples the tree RSS of a process in the background; ``peak`` is the highest seen."""

    pid: int
    interval: float = 0.1
    peak: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self._stop.wait(self.interval)

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)


@dataclass
class Timed:
    seconds: float
    peak_rss: int
    returncode: int


def run_timed(argv: list[str], log: Path, timeout: float, cwd: Path | None = None,
              env: dict[str, str] | None = None) -> Timed:
    """Run a command to completion, with wall time and peak RSS of its process tree."""
    started = time.monotonic()
    process = start(argv, log, cwd=cwd, env=env)
    with RssSampler(process.pid) as sampler:
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop(process)
            raise TimeoutError(f"{' '.join(argv[:3])}… did not finish in {timeout:g} s (log: {log})") from None
    elapsed = time.monotonic() - started
    stop(process)
    return Timed(elapsed, sampler.peak, code)


def wait_until_answers(url: str, process: subprocess.Popen, timeout: float, started: float,
                       headers: dict[str, str] | None = None) -> float:
    """Poll ``url`` until it answers 200; returns the seconds since ``started`` (a monotonic time
    taken just before the process was launched). Raises if the process dies or time runs out."""
    request = urllib.request.Request(url, headers=headers or {})
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(request, timeout=max(1.0, timeout)) as response:
                if response.status == 200:
                    response.read()
                    return time.monotonic() - started
        except urllib.error.HTTPError as error:
            if 400 <= error.code < 500:  # up, but refusing: waiting will not help
                raise RuntimeError(f"{url} answered HTTP {error.code}") from None
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{url} did not answer within {timeout:g} s")
        time.sleep(0.02)
