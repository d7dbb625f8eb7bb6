"""``python -m azera bench …``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def cmd_bench(args: argparse.Namespace) -> int:
    """Run a benchmark and print its figures."""
    import asyncio

    from azera.bench.chat import bench_chat

    if args.suite == "tick":
        from azera.bench.tick import bench_tick

        result = bench_tick(seconds=args.seconds)
    elif args.suite == "load":
        from azera.bench.load import bench_load

        result = bench_load(sessions=args.sessions, replies=args.replies, seconds=args.seconds)
    elif args.suite == "api":
        from azera.bench.api import bench_api

        result = bench_api(seconds=args.seconds, clients=args.clients, runs=args.runs, max_tokens=args.max_tokens)
    elif args.suite == "images":
        from azera.bench.images import bench_images

        result = bench_images(runs=args.runs)
    elif args.suite == "voice":
        from azera.bench.voice import bench_voice

        result = bench_voice(runs=args.runs)
    elif args.suite in ("index", "retrieval"):
        from azera.bench.retrieval import bench_sizes

        result = bench_sizes(args.memories, queries=args.queries if args.suite == "retrieval" else 0)
    elif args.suite == "quality":
        from azera.bench.quality import bench_quality

        result = asyncio.run(bench_quality(args.model))
    elif args.suite == "memory":
        from azera.bench.memory import DatasetError, bench_memory

        if not args.dataset:
            print("error: bench memory needs --dataset FILE", file=sys.stderr)
            return 2
        try:
            result = bench_memory(Path(args.dataset), k=args.k)
        except DatasetError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    else:
        model = args.model[0] if args.model else ""
        result = asyncio.run(
            bench_chat(runs=args.runs, max_tokens=args.max_tokens, model=model, concurrent=args.concurrent)
        )
    if args.json:
        print(json.dumps(result, indent=2))
    elif args.suite == "memory":
        from azera.bench.memory import format_report

        print(format_report(result))
    elif args.suite == "quality":
        from azera.bench.quality import format_report

        print(format_report(result))
    elif args.suite in ("index", "retrieval"):
        from azera.bench.retrieval import format_report

        print(format_report(result))
    else:
        for key, value in result.items():
            print(f"{key:<22} {value}")
    return 0
