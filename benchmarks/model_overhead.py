"""How long `paperbot ask` takes before its request leaves for the model.

A stub OpenAI-compatible server on loopback notes when each request arrives; the time from
starting `paperbot ask` to that moment is paperbot's own overhead (start-up, catalog, store,
retrieval, prompt, and the litellm import). It is compared with the bare litellm import.
Target: overhead <= litellm import + 1 s.

Usage: python benchmarks/model_overhead.py [--runs N]
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from openai_server import OpenAIServer, Reply

QUESTION = "How much does CDPruner reduce FLOPs?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    server = OpenAIServer().start()
    env_base = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    overheads, imports = [], []
    with tempfile.TemporaryDirectory() as home:
        env = {**env_base, "XDG_DATA_HOME": home, "XDG_CONFIG_HOME": home}
        command = [
            sys.executable,
            "-m",
            "paperbot",
            "ask",
            "--no-log",
            "--model",
            "openai/stub",
            "--api-base",
            server.api_base,
            QUESTION,
        ]
        subprocess.run(
            [sys.executable, "-m", "paperbot", "index"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(args.runs):
            server.replies.append(Reply(text="CDPruner reduces FLOPs by 95% [@cdpruner]."))
            started = time.monotonic()
            subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
            overheads.append(server.requests[-1]["received_at"] - started)
            started = time.monotonic()
            subprocess.run([sys.executable, "-c", "import litellm"], env=env_base, check=True)
            imports.append(time.monotonic() - started)
    server.stop()
    overhead, bare = statistics.median(overheads), statistics.median(imports)
    print(f"paperbot ask until the request leaves: median {overhead:.2f} s over {args.runs} runs")
    print(f"python -c 'import litellm':            median {bare:.2f} s")
    print(f"overhead beyond the litellm import:    {overhead - bare:+.2f} s (target <= +1.00 s)")


if __name__ == "__main__":
    main()
