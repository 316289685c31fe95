"""Grading in worker processes, so a serving process's threads never queue behind the rubric for the GIL.

`PoolGrader` is a drop-in grader for `InterviewEngine(db, content, grader=...)`: it takes the arguments
of `bot.rubric.grade` and returns the same `Grade`. Each worker loads the content once (the built-in
content plus the same team directories as the serving process) and grades there; the calling thread
only waits on a future. When the pool cannot start, or breaks twice in a row, grading carries on in
this process and a warning says so. Knows nothing about Slack.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from bot.content import Content, default_content, load_content
from bot.content.loader import content_dirs_from_env
from bot.rubric import grade as rubric_grade
from bot.rubric.types import Grade

log = logging.getLogger("gauntlet.grading")

WORKERS_ENV = "GAUNTLET_GRADE_WORKERS"
# A short answer touching most detectors; graded once per round at worker start-up so the lexicon
# indexes and compiled patterns are built before the first real answer arrives.
_WARM_TEXT = (
    "At 14:02 our latency alert fired and I was on call. Checkout errors hit 12% for 20 minutes. "
    "I rolled back the deploy, then we added a canary check so it cannot ship again."
)

_worker_content: Content | None = None


def default_workers() -> int:
    """$GAUNTLET_GRADE_WORKERS if set (0 means grade in-process), else one worker per spare CPU, 1–2.

    The serving process keeps a CPU for acknowledging requests; on a 2-CPU machine that leaves one."""
    raw = os.environ.get(WORKERS_ENV, "").strip()
    if raw:
        try:
            return max(0, int(raw))
        except ValueError:
            log.warning("%s=%r is not a number; using the default", WORKERS_ENV, raw)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(2, cpus - 1))


def _init_worker(dirs: list[str]) -> None:
    global _worker_content
    # Ctrl-C reaches the whole process group; the serving process decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A worker idles on its task queue forever if the serving process is killed outright: leave with it.
    parent = os.getppid()
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    _worker_content = load_content(dirs)
    for round_id in _worker_content.rounds:
        rubric_grade(_WARM_TEXT, round_id, "mid", content=_worker_content)


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _grade_in_worker(text: str, round_id: str, level: str, id: str | None, followup: bool = False) -> Grade:
    return rubric_grade(text, round_id, level, content=_worker_content, id=id, followup=followup)


def _worker_ready() -> int:
    return os.getpid()


class PoolGrader:
    """`bot.rubric.grade` run in `workers` processes (none: in this process).

    `content_dirs` are the team directories loaded over the built-in content, in this process and in
    every worker; by default those named in $GAUNTLET_CONTENT_DIR, with `default_content()` here."""

    def __init__(self, workers: int | None = None, *, content_dirs: Sequence[Path | str] | None = None):
        self.workers = default_workers() if workers is None else max(0, workers)
        if content_dirs is None:
            self.content_dirs = [str(d) for d in content_dirs_from_env()]
            self.content = default_content()
        else:
            self.content_dirs = [str(d) for d in content_dirs]
            self.content = load_content(self.content_dirs)
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._restarted = False  # the pool broke and was recreated; a break before any grade ends it
        self._closed = False

    # ---- life cycle ---------------------------------------------------------------------------

    def start(self) -> PoolGrader:
        """Start every worker and wait until each has loaded the content and graded once."""
        if self.workers:
            with self._lock:
                self._executor = self._new_executor()
        return self

    def _new_executor(self) -> ProcessPoolExecutor | None:
        """A started pool, or None (with a warning) when it cannot start: grading stays in-process."""
        executor = None
        try:
            # spawn, not fork: the serving process has threads (scheduler, sweep, listeners) whose
            # locks a forked child could inherit held; a recreated pool is started mid-serving.
            executor = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker, initargs=(self.content_dirs,),
            )
            # Workers are spawned on demand, one per task while none is idle: as many tasks as
            # workers starts them all, and each runs the initializer (content + warm-up) first.
            futures = [executor.submit(_worker_ready) for _ in range(self.workers)]
            for f in futures:
                f.result(timeout=120)
        except Exception as exc:  # any failure to start means grading in-process, said once
            log.warning("grading workers could not start (%s: %s); grading in the serving process",
                        exc.__class__.__name__, exc)
            if executor is not None:
                executor.shutdown(wait=False, cancel_futures=True)
            return None
        log.info("Grading in %d worker process(es): %s", self.workers,
                 ", ".join(str(p) for p in self.worker_pids(executor)))
        return executor

    def worker_pids(self, executor: ProcessPoolExecutor | None = None) -> list[int]:
        """Process ids of the live grading workers (for monitoring and tests)."""
        executor = executor or self._executor
        procs = getattr(executor, "_processes", None) or {}
        return sorted(pid for pid, p in dict(procs).items() if p.is_alive())

    @property
    def pooled(self) -> bool:
        """Whether grades currently come from worker processes."""
        return self._executor is not None

    def shutdown(self) -> None:
        """Stop the workers after the grades they are working on; later grades run in-process."""
        with self._lock:
            executor, self._executor, self._closed = self._executor, None, True
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> PoolGrader:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.shutdown()

    # ---- grading ------------------------------------------------------------------------------

    def __call__(self, text: str, round_id: str, level: str = "mid", *, content: Any = None,
                 id: str | None = None, followup: bool = False) -> Grade:
        if content is not None and content is not self.content:
            # The workers hold one content; another one (a test's, a preview's) is graded here.
            return rubric_grade(text, round_id, level, content=content, id=id, followup=followup)
        for _ in range(2):
            executor = self._executor
            if executor is None:
                break
            try:
                grade = executor.submit(_grade_in_worker, text, round_id, level, id, followup).result()
                self._restarted = False
                return grade
            except BrokenProcessPool:
                self._replace(executor)
            except RuntimeError:
                if self._executor is executor:  # not shut down under us: a real error from grading
                    raise
        return rubric_grade(text, round_id, level, content=self.content, id=id, followup=followup)

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        """A worker died: recreate the pool once; if the new one breaks too, grade in-process."""
        with self._lock:
            if self._executor is not broken:
                return  # another thread already replaced it (or it was shut down)
            broken.shutdown(wait=False, cancel_futures=True)
            if self._restarted or self._closed:
                log.warning("grading workers died again; grading in the serving process from now on")
                self._executor = None
                return
            log.warning("a grading worker died; starting a new pool")
            self._restarted = True
            self._executor = self._new_executor()
