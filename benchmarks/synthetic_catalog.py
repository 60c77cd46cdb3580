"""A synthetic catalog in paperbot's list format, for scale tests and benchmarks.

Summaries read like the real ones: a coined method name, the problem it addresses, what it
introduces, and results with numbers. The same seed always gives the same catalog.

Usage: python benchmarks/synthetic_catalog.py N [--seed S] > catalog.txt
"""

from __future__ import annotations

import argparse
import random

PREFIXES = [
    "Fast",
    "Sparse",
    "Flash",
    "Lite",
    "Tiny",
    "Quant",
    "Elastic",
    "Fused",
    "Turbo",
    "Lean",
    "Swift",
    "Holo",
    "Meta",
    "Omni",
    "Dyna",
    "Hier",
    "Proto",
    "Neuro",
    "Cache",
]
STEMS = [
    "Prune",
    "Merge",
    "Diff",
    "Former",
    "ViT",
    "Token",
    "Attn",
    "Cast",
    "Gen",
    "Lens",
    "Mix",
    "Path",
    "Scale",
    "Route",
    "Serve",
    "Step",
    "Flow",
    "Gate",
    "Skip",
    "Distill",
]
SETTINGS = [
    "multimodal LLMs",
    "vision-language models",
    "video LLMs",
    "diffusion transformers",
    "text-to-image diffusion",
    "video diffusion models",
    "speech-language models",
    "vision-language-action models",
    "autoregressive image generators",
    "MoE LLMs",
]
PROBLEMS = [
    "redundant visual tokens inflate prefill cost",
    "quadratic attention dominates latency on long inputs",
    "sampling requires many denoising steps",
    "KV caches exhaust GPU memory at long context",
    "serving mixed requests leaves accelerators idle",
    "fine-tuning every parameter is prohibitively expensive",
    "high-resolution inputs multiply the number of tokens",
    "memory bandwidth bounds decoding throughput",
]
IDEAS = [
    "a learned token scorer that drops uninformative patches",
    "block-sparse attention with a trainable router",
    "a distilled few-step sampler with consistency training",
    "low-rank adapters shared across modalities",
    "a cache of reusable features across frames",
    "mixed-precision quantization of weights and activations",
    "speculative decoding with a small draft model",
    "progressive token merging guided by text queries",
]
METRICS = [
    ("FLOPs", "%"),
    ("latency", "×"),
    ("time-to-first-token", "×"),
    ("memory", "%"),
    ("throughput", "×"),
    ("training cost", "%"),
]
FIRST = ["Wei", "Li", "Ana", "Jon", "Mia", "Ravi", "Sara", "Yuki", "Omar", "Lena", "Ivan", "Chen"]
LAST = ["Zhang", "Smith", "Kumar", "Garcia", "Sato", "Müller", "Rossi", "Kim", "Nguyen", "Ali"]


def entry(rng: random.Random, number: int) -> str:
    name = f"{rng.choice(PREFIXES)}{rng.choice(STEMS)}{number}"
    setting, problem, idea = rng.choice(SETTINGS), rng.choice(PROBLEMS), rng.choice(IDEAS)
    metric, unit = rng.choice(METRICS)
    gain = f"{rng.uniform(1.2, 9.5):.1f}×" if unit == "×" else f"{rng.randint(20, 95)}%"
    kept = f"{rng.uniform(90, 99.9):.1f}%"
    authors = ", ".join(f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(rng.randint(1, 6)))
    summary = (
        f"{name} addresses efficiency in {setting}, where {problem}. "
        f"It introduces {idea}, trained with a lightweight objective and no change to the "
        f"backbone. Experiments show a {gain} reduction in {metric} while retaining {kept} of "
        f"the original accuracy across {rng.randint(3, 12)} benchmarks."
    )
    arxiv = f"arXiv:25{rng.randint(1, 12):02d}.{rng.randint(10000, 99999)}"
    return f"- Link: {arxiv} | OpenReview\n- Authors: {authors}\n- Summary: {summary}\n"


def generate(count: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    header = f"A synthetic list of {count} papers on efficient multimodal models (seed {seed}).\n"
    return header + "".join(entry(rng, number) for number in range(1, count + 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(generate(args.count, args.seed), end="")


if __name__ == "__main__":
    main()
