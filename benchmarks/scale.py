"""Scale: index throughput, search latency and peak memory at 1k / 10k / 100k entries, with the
embedded store and a Chroma server side by side.

Each measurement runs in a fresh process so that peak memory (ru_maxrss) is its own. Catalogs
come from benchmarks/synthetic_catalog.py. Targets on a 2-core machine: 100k entries indexed in
<= 5 min, search p50 <= 100 ms at 100k once loaded, peak memory <= 2 GiB at 100k.

Usage: python benchmarks/scale.py [--sizes 1000,10000,100000] [--queries 50] [--no-server]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from synthetic_catalog import PROBLEMS, SETTINGS, generate  # noqa: E402

# Runs in the child: one command in-process, then its timings and peak memory as JSON.
CHILD = r"""
import json, resource, statistics, sys, time
from paperbot.config import resolve
from paperbot.workspace import Workspace
mode, catalog, store, url, queries = sys.argv[1:6]
settings = resolve({"catalog": catalog, "store": store, "chroma_url": url or None})
workspace = Workspace(settings)
started = time.perf_counter()
result = {}
if mode == "index":
    report = workspace.sync()
    result["index_s"] = time.perf_counter() - started
    result["added"] = report.added
else:
    workspace.search("warm-up")
    result["load_s"] = time.perf_counter() - started
    times = []
    for query in json.loads(queries):
        begun = time.perf_counter()
        workspace.search(query)
        times.append(time.perf_counter() - begun)
    times.sort()
    result["p50_ms"] = 1000 * statistics.median(times)
    result["p95_ms"] = 1000 * times[int(0.95 * (len(times) - 1))]
result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(result))
"""


def child(mode: str, catalog: Path, store: Path, url: str, queries: list[str], env) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(catalog), str(store), url, json.dumps(queries)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def start_server(folder: Path, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from chromadb.cli.cli import app; app()",
            "run",
            "--path",
            str(folder),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("chroma run did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--no-server", action="store_true")
    args = parser.parse_args()
    queries = [f"{problem.split()[0]} {setting}" for problem in PROBLEMS for setting in SETTINGS][
        : args.queries
    ]
    rows = []
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "XDG_DATA_HOME": home, "XDG_CONFIG_HOME": home}
        for size in (int(s) for s in args.sizes.split(",")):
            catalog = Path(home) / f"catalog-{size}.txt"
            catalog.write_text(generate(size, seed=size), encoding="utf-8")
            modes = [("embedded", "")]
            server = None
            if not args.no_server:
                server = start_server(Path(home) / f"chroma-{size}", 8700 + len(rows))
                modes.append(("server", f"http://127.0.0.1:{8700 + len(rows)}"))
            for mode, url in modes:
                store = Path(home) / f"store-{size}-{mode}"
                indexed = child("index", catalog, store, url, [], env)
                searched = child("search", catalog, store, url, queries, env)
                rows.append((size, mode, indexed, searched))
                print(
                    f"{size:>7} {mode:<9} index {indexed['index_s']:7.1f} s "
                    f"({size / indexed['index_s']:7.0f}/s, peak {indexed['peak_mib']:6.0f} MiB)  "
                    f"load {searched['load_s']:6.1f} s  search p50 {searched['p50_ms']:6.1f} ms "
                    f"p95 {searched['p95_ms']:6.1f} ms (peak {searched['peak_mib']:6.0f} MiB)",
                    flush=True,
                )
            if server:
                server.terminate()
                server.wait()


if __name__ == "__main__":
    main()
