"""Liveness for a running `gauntlet serve`, usable as a Docker HEALTHCHECK.

HTTP mode answers `/healthz`. Socket Mode has no port to probe, so the serving process touches a
heartbeat file while its websocket to Slack is connected; `gauntlet health` exits 0 when that file is
fresh (or when `--url` answers 200) and 1 otherwise, with one line saying why.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

HEARTBEAT_ENV = "GAUNTLET_HEARTBEAT_FILE"
BEAT_EVERY = 10.0  # seconds between beats
MAX_AGE = 60.0  # a heartbeat older than this means the process is stuck or disconnected


def heartbeat_path(env: dict[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get(HEARTBEAT_ENV) or Path(tempfile.gettempdir()) / "gauntlet.heartbeat")


class Heartbeat:
    """Touches `path` every `every` seconds while `alive()` says the process can do its work."""

    def __init__(self, path: Path, alive: Callable[[], bool], every: float = BEAT_EVERY):
        self.path = Path(path)
        self.alive = alive
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def beat(self) -> bool:
        """One beat: refresh the file if the process is alive. Returns whether it did."""
        try:
            ok = bool(self.alive())
        except Exception:
            ok = False
        if ok:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(f"{time.time():.0f}\n")
        return ok

    def _run(self) -> None:
        while not self._stop.is_set():
            self.beat()
            self._stop.wait(self.every)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop beating and remove the file, so a stopped process never looks alive."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self.path.unlink(missing_ok=True)


def check_heartbeat(path: Path, max_age: float = MAX_AGE, now: float | None = None) -> tuple[bool, str]:
    try:
        age = (time.time() if now is None else now) - path.stat().st_mtime
    except FileNotFoundError:
        return False, f"no heartbeat at {path}: the app is not running or not connected to Slack"
    if age > max_age:
        return False, f"heartbeat at {path} is {age:.0f} s old (more than {max_age:.0f} s): the app is stuck"
    return True, f"heartbeat {age:.0f} s old"


def check_url(url: str, timeout: float = 5.0) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status == 200, f"{url} answered {resp.status}"
    except OSError as exc:
        return False, f"{url} did not answer: {exc}"


def cmd_health(args: argparse.Namespace) -> int:
    if args.url:
        ok, why = check_url(args.url)
    else:
        ok, why = check_heartbeat(Path(args.file) if args.file else heartbeat_path(), args.max_age)
    print(("healthy: " if ok else "unhealthy: ") + why, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def register(subparsers) -> None:
    health = subparsers.add_parser(
        "health", help="exit 0 when the running app is alive (for Docker HEALTHCHECK), else 1",
        description="Check a running `gauntlet serve`: the Socket Mode heartbeat file, or an HTTP URL.",
    )
    health.add_argument("--url", help="check this URL instead (e.g. http://127.0.0.1:3000/healthz)")
    health.add_argument("--file", help=f"the heartbeat file (default: ${HEARTBEAT_ENV} or the temp dir)")
    health.add_argument("--max-age", type=float, default=MAX_AGE, help="seconds a heartbeat stays fresh")
    health.set_defaults(func=cmd_health)
