"""Median wall time of `paperbot --help` and of a cold `paperbot ask` (index already built).

Usage: python benchmarks/startup.py [--runs N]
Targets on a 2-core machine: --help <= 0.5 s, ask <= 2.0 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

QUESTION = "Which papers reduce time-to-first-token?"


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    paperbot = [sys.executable, "-m", "paperbot"]
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "XDG_DATA_HOME": home, "XDG_CONFIG_HOME": home}
        subprocess.run([*paperbot, "index"], env=env, check=True, stdout=subprocess.DEVNULL)
        figures = {
            "paperbot --help": [timed([*paperbot, "--help"], env) for _ in range(args.runs)],
            f"paperbot ask {QUESTION!r}": [
                timed([*paperbot, "ask", QUESTION], env) for _ in range(args.runs)
            ],
        }
    for label, times in figures.items():
        print(
            f"{label}: median {statistics.median(times):.3f} s "
            f"(min {min(times):.3f}, max {max(times):.3f}, {len(times)} runs)"
        )


if __name__ == "__main__":
    main()
