"""Peak memory of `gauntlet serve --http` through interviews: the serving process and its grading workers.

    .venv/bin/python bench/serve_memory.py [--requests 400] [--concurrency 20] [--quick]

The real app runs as a subprocess (scheduler on, SQLite file database) against a fake Slack Web API
in its own process. It gets `--requests` signed thread replies under a posted prompt, from people who
each answer up to five rounds (every reply is recorded, graded and answered), `--concurrency` at a
time, and then waits until every reply has been answered. The figures are peak resident set sizes,
VmHWM from /proc/<pid>/status, read while the processes still run: the serving process (the target is
for it), each grading worker process it started (`bot.interview.grading_pool`, found as its children) and any
other helper child (multiprocessing's resource tracker). The sum adds the peaks of every process, which
overstates what was resident at any one moment (peaks need not coincide, and shared library pages are
counted once per process).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _support as S

TARGET_MB = 150.0
CHANNEL = "CBENCHMEM"
PROMPT_TS = "1700000000.777777"
GRADED = re.compile(r"^\d+/100")


def graded_posts(api_url: str) -> int:
    posts = S.fake_stats(api_url)["posts"]
    return sum(1 for p in posts if p["thread_ts"] == PROMPT_TS and GRADED.match(p["text"] or ""))


def children(pid: int) -> dict[int, str]:
    """Live child processes of `pid`: pid -> "grading worker" or "helper (<what>)"."""
    found: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue  # gone while we looked
        if ppid != pid:
            continue
        if "spawn_main" in cmd:
            found[int(entry)] = "grading worker"
        else:
            what = "resource tracker" if "resource_tracker" in cmd else cmd[:40]
            found[int(entry)] = f"helper ({what})"
    return found


def peaks(pids: dict[int, str]) -> dict[int, float]:
    out = {}
    for pid in pids:
        try:
            out[pid] = S.vm_hwm_mb(pid)
        except OSError:
            continue
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 100 requests")
    args = parser.parse_args()
    if args.quick:
        args.requests = 100
    people = max(1, -(-args.requests // 5))

    with tempfile.TemporaryDirectory(prefix="bench-mem-") as tmp, S.fake_slack() as api:
        db_url = f"sqlite:///{tmp}/gauntlet.db"
        S.seed_prompt(db_url, CHANNEL, PROMPT_TS)
        with S.gauntlet_serve(api, db_url, tmp) as (proc, base):
            idle = S.vm_hwm_mb(proc.pid)
            url = base + "/slack/events"
            sent = not_acked = 0
            for step in range(5):
                n = min(people, args.requests - sent)
                if n <= 0:
                    break
                bodies = [S.thread_reply(S.answer_for(step, k), user=f"UMEM{k:05d}", channel=CHANNEL,
                                         thread_ts=PROMPT_TS) for k in range(n)]
                with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
                    statuses = list(pool.map(lambda b: S.post(url, b, S.signed_headers(b))[0], bodies))
                not_acked += sum(1 for st in statuses if st != 200)
                sent += n
                S.wait_until(lambda target=sent: graded_posts(api) >= target, 300, "the app's replies",
                             interval=0.1)
            peak = S.vm_hwm_mb(proc.pid)
            kids = children(proc.pid)
            kid_peaks = peaks(kids)
            answered = graded_posts(api)

    workers = [mb for p, mb in kid_peaks.items() if kids[p] == "grading worker"]
    helpers = [(kids[p], mb) for p, mb in kid_peaks.items() if kids[p] != "grading worker"]
    rows = [
        ("serving process: peak RSS after start-up (VmHWM)", f"{idle:.1f} MB", "", ""),
        ("serving process: peak RSS after the load (VmHWM)", f"{peak:.1f} MB", f"≤ {TARGET_MB:.0f} MB",
         S.verdict(peak <= TARGET_MB)),
    ]
    rows += [(f"grading worker {i + 1}: peak RSS (VmHWM)", f"{mb:.1f} MB", "", "")
             for i, mb in enumerate(workers)]
    rows += [(f"{kind}: peak RSS (VmHWM)", f"{mb:.1f} MB", "", "") for kind, mb in helpers]
    total = peak + sum(workers) + sum(mb for _, mb in helpers)
    rows += [
        (f"sum of peaks, serving + {len(workers)} worker(s) + {len(helpers)} helper(s)", f"{total:.1f} MB",
         "", ""),
        ("replies acked 200 / graded and answered", f"{sent - not_acked} / {answered}", f"{sent} / {sent}",
         S.verdict(not not_acked and answered >= sent)),
    ]
    S.table(f"Peak memory of gauntlet serve --http ({sent} thread replies, {args.concurrency} in flight)",
            rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
