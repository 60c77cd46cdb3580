"""How well the citation checker tells good answers from bad ones, without any model.

Run from the repository root:  python benchmarks/citation_eval.py

It loads the case set (tests/data/citation_cases.json) and the real catalog, checks every answer,
and prints, per split (dev: the cases the checker was tuned on; heldout: cases kept out of
tuning) the share of bad answers detected and the share of good answers falsely flagged, per
problem kind, and the same for a naive baseline that only checks presence, key validity and that
each number occurs somewhere in the cited entries.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from paperbot.catalog import Entry, load
from paperbot.citations import (
    KINDS,
    CitationReport,
    Quantity,
    check_answer,
    numbers_in,
    parse_citations,
    split_answer,
)

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "data" / "citation_cases.json"
CATALOG = ROOT / "store" / "neurips2025-efficient-multimodal.txt"
SPLITS = ("dev", "heldout", "all")


def baseline_flags(text: str, entries: Sequence[Entry]) -> bool:
    """The check most tools stop at: every sentence that names a paper or states a number cites
    something, every key exists, and every number of a cited sentence appears in one of the
    cited entries (in any role)."""
    by_id = {entry.id: entry for entry in entries}
    names = [entry.name.lower() for entry in entries]
    citations = parse_citations(text, entries)
    if any(key not in by_id for c in citations for key in c.ids):
        return True
    for start, end, _ in split_answer(text):
        inside = [c for c in citations if start <= c.start and c.end <= end]
        sentence = text[start:end]
        for c in inside:
            sentence = sentence.replace(c.raw, " ")
        claimed = numbers_in(sentence)
        if not inside:
            if claimed or any(name in sentence.lower() for name in names):
                return True
            continue
        stated = [q for c in inside for key in c.ids for q in numbers_in(by_id[key].summary)]
        if any(not _found(q, stated) for q in claimed):
            return True
    return False


def _found(claimed: Quantity, stated: list[Quantity]) -> bool:
    return any(
        claimed.value == q.value
        or (
            isinstance(claimed.value, float)
            and isinstance(q.value, float)
            and math.isclose(claimed.value, q.value)
        )
        for q in stated
    )


def rates(cases: list[dict], flagged: Callable[[dict], bool]) -> tuple[int, float, int, float]:
    bad = [case for case in cases if not case["ok"]]
    good = [case for case in cases if case["ok"]]
    detected = sum(1 for case in bad if flagged(case))
    false_alarms = sum(1 for case in good if flagged(case))
    return (
        len(bad),
        detected / len(bad) if bad else 1.0,
        len(good),
        false_alarms / len(good) if good else 0.0,
    )


def split_of(name: str, cases: list[dict]) -> list[dict]:
    if name == "all":
        return cases
    return [case for case in cases if case["heldout"] == (name == "heldout")]


def main() -> int:
    cases = json.loads(CASES.read_text(encoding="utf-8"))
    entries = load(CATALOG)
    started = time.perf_counter()
    reports: dict[str, CitationReport] = {
        case["id"]: check_answer(case["text"], entries, case.get("question")) for case in cases
    }
    elapsed = (time.perf_counter() - started) / len(cases)
    baseline = {case["id"]: baseline_flags(case["text"], entries) for case in cases}

    print(f"{len(cases)} answers, catalog of {len(entries)} entries, {elapsed * 1000:.1f} ms each")
    print()
    header = f"{'split':<9}{'bad':>5}{'detected':>10}{'good':>6}{'false alarms':>14}"
    for title, flagged in (
        ("Checker", lambda case: not reports[case["id"]].ok),
        ("Baseline (presence + key validity + number in entry)", lambda case: baseline[case["id"]]),
    ):
        print(title)
        print(header)
        for name in SPLITS:
            bad, detected, good, false_alarms = rates(split_of(name, cases), flagged)
            print(f"{name:<9}{bad:>5}{detected:>10.3f}{good:>6}{false_alarms:>14.3f}")
        print()

    print("Per problem kind (all splits): bad answers expecting it, flagged, kind reported")
    print(f"{'kind':<15}{'cases':>6}{'flagged':>9}{'reported':>10}{'baseline':>10}")
    for kind in KINDS:
        expecting = [case for case in cases if kind in case["kinds"]]
        if not expecting:
            continue
        flagged = sum(1 for case in expecting if not reports[case["id"]].ok)
        reported = sum(
            1
            for case in expecting
            if kind in {problem.kind for problem in reports[case["id"]].problems}
        )
        base = sum(1 for case in expecting if baseline[case["id"]])
        count = len(expecting)
        print(
            f"{kind:<15}{count:>6}{flagged / count:>9.3f}{reported / count:>10.3f}"
            f"{base / count:>10.3f}"
        )

    wrong = [case["id"] for case in cases if reports[case["id"]].ok != case["ok"]]
    if wrong:
        print()
        print("Misjudged: " + ", ".join(wrong))
    return 0


if __name__ == "__main__":
    sys.exit(main())
