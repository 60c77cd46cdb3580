"""Per-query latency of `paperbot search` once loaded, over the eval questions.

Usage: python benchmarks/search_latency.py [--rounds N]
It times the retriever in-process (the index already built and loaded, as `search --batch`
runs after its first query), then runs `paperbot search --batch` on the same questions for the
end-to-end figure, load included. Target: p95 <= 50 ms per query once loaded.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from paperbot import evaluation
from paperbot.config import resolve
from paperbot.workspace import Workspace


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="passes over the question set")
    args = parser.parse_args()
    questions = [q.question for q in evaluation.load_questions(evaluation.default_questions())]
    with tempfile.TemporaryDirectory() as home:
        os.environ["XDG_DATA_HOME"] = home
        os.environ["XDG_CONFIG_HOME"] = home
        workspace = Workspace(resolve({}))
        workspace.search(questions[0])  # loads the embeddings, the store and the retriever
        times = []
        for _ in range(args.rounds):
            for question in questions:
                started = time.perf_counter()
                workspace.search(question)
                times.append((time.perf_counter() - started) * 1000)
        print(
            f"in-process search, {len(times)} queries: p50 {statistics.median(times):.1f} ms, "
            f"p95 {percentile(times, 0.95):.1f} ms, max {max(times):.1f} ms"
        )
        batch = Path(home) / "questions.txt"
        batch.write_text("\n".join(questions) + "\n", encoding="utf-8")
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "paperbot", "search", "--batch", str(batch)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        total = time.perf_counter() - started
        print(
            f"paperbot search --batch, {len(questions)} queries: {total:.2f} s in all, "
            f"load included ({total / len(questions) * 1000:.1f} ms per query)"
        )


if __name__ == "__main__":
    main()
