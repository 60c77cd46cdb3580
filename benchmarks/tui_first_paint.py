"""Median time from launching `paperbot` to the chat's first paint, measured in tmux.

The clock starts before tmux is asked to run the command and stops when the pane shows the
input box, so interpreter start-up, imports and Textual's first frame all count. Also timed:
until the status bar says the index is ready, and from ctrl+q until the process has gone.

Usage: python benchmarks/tui_first_paint.py [--runs N]
Target: first paint under 1 s.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PAINTED = "Ask · Enter sends"
INDEX_READY = "✓ index"
POLL_SECONDS = 0.005
TIMEOUT_SECONDS = 30.0


def pane(session: str) -> str:
    return subprocess.run(
        ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
    ).stdout


def alive(session: str) -> bool:
    return (
        subprocess.run(["tmux", "has-session", "-t", session], capture_output=True).returncode == 0
    )


def wait_for(condition, started: float) -> float:
    while not condition():
        if time.perf_counter() - started > TIMEOUT_SECONDS:
            raise SystemExit("timed out: the chat did not paint (run `paperbot` to see why)")
        time.sleep(POLL_SECONDS)
    return time.perf_counter() - started


def one_run(command: str, session: str) -> tuple[float, float, float]:
    started = time.perf_counter()
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "36", command], check=True
    )
    try:
        painted = wait_for(lambda: PAINTED in pane(session), started)
        ready = wait_for(lambda: INDEX_READY in pane(session), started)
        quitting = time.perf_counter()
        subprocess.run(["tmux", "send-keys", "-t", session, "C-q"], check=True)
        quit_time = wait_for(lambda: not alive(session), quitting)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    return painted, ready, quit_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        raise SystemExit("this benchmark needs tmux")
    with tempfile.TemporaryDirectory() as home:
        env = {"XDG_DATA_HOME": home, "XDG_CONFIG_HOME": home}
        subprocess.run(
            [sys.executable, "-m", "paperbot", "index"],
            env={**os.environ, **env},
            check=True,
            stdout=subprocess.DEVNULL,
        )
        command = shlex.join(
            ["env", *(f"{k}={v}" for k, v in env.items()), sys.executable, "-m", "paperbot"]
        )
        runs = [one_run(command, f"paperbot-bench-{os.getpid()}-{n}") for n in range(args.runs)]
    for label, times in zip(
        ("first paint", "index ready", "ctrl+q to exit"), zip(*runs, strict=True), strict=True
    ):
        print(
            f"{label}: median {statistics.median(times):.3f} s "
            f"(min {min(times):.3f}, max {max(times):.3f}, {len(times)} runs)"
        )


if __name__ == "__main__":
    main()
