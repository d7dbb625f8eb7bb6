"""``python -m azera memory``: add a memory, search memories, rebuild the indexes (through the app when it runs)."""

from __future__ import annotations

import argparse
import sys


def _print_recalled(hits: list[dict]) -> None:
    for n, hit in enumerate(hits, start=1):
        parts = {**hit["sources"], **{f"+{name}": value for name, value in hit.get("context", {}).items()}}
        sources = ", ".join(f"{name} {score:.3f}" for name, score in parts.items())
        who = f"{hit['speaker']}: " if hit.get("speaker") else ""
        print(f"{n}. [{hit['created_at']}] ({hit['kind']}) {who}{hit['text']}\n   fused {hit['score']:.4f}: {sources}")


def _progress(done: int, total: int) -> None:
    print(f"\r    indexed {done:,} of {total:,} ({100 * done // max(total, 1)} %)", end="", file=sys.stderr, flush=True)


def _follow_reindex(app, state: dict) -> int:
    """Print the app's re-index progress until nothing waits (Ctrl-C stops following, not the re-index)."""
    import time

    total = state["total"]
    try:
        while state["waiting"] and not state["problem"]:
            _progress(total - state["waiting"], total)
            time.sleep(2)
            state = app.call("GET", "/api/memories/index").json()
    except KeyboardInterrupt:
        print("\nthe app goes on re-indexing in the background", file=sys.stderr)
        return 0
    if state["problem"]:
        print(f"\nerror: indexing fails, the app retries: {state['problem']}", file=sys.stderr)
        return 1
    _progress(total, total)
    print(f"\nreindexed {total:,} memories from SQL")
    return 0


def _memory_through_app(app, args: argparse.Namespace) -> int:
    """The running app holds the memory indexes: ask it."""
    print(f"[through the running app at {app.url}]", file=sys.stderr)
    try:
        if args.action == "add":
            body = {"text": args.text, "persona": args.persona, "kind": args.kind}
            added = app.call("POST", "/api/memories", json=body).json()
            print(f"added {added['id']} ({args.kind}) for {args.persona}")
        elif args.action == "search":
            _print_recalled(
                app.call("GET", "/api/memories/search", params={"q": args.query, "persona": args.persona}).json()
            )
        else:
            state = app.call("POST", "/api/memories/reindex").json()
            return _follow_reindex(app, state)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def cmd_memory(args: argparse.Namespace) -> int:
    """Add a memory, search memories, or rebuild every index from SQL (through the app when it runs)."""
    import dataclasses

    from azera.cli.remote import running_app
    from azera.db.engine import session_scope
    from azera.errors import ServiceError
    from azera.memory.service import MemoryService
    from azera.runtime import runtime
    from azera.services.personas import get_persona
    from azera.services.startup import prepare

    prepare()
    app = running_app()
    if app is not None:
        return _memory_through_app(app, args)
    service = runtime().memory()
    if service is None:
        print(
            "error: the memory indexes cannot be opened (another Azera may be using them; see the log above)",
            file=sys.stderr,
        )
        return 1
    try:
        if args.action == "add":
            with session_scope() as session:
                get_persona(session, args.persona)
                memory = MemoryService.record(session, text=args.text, persona_id=args.persona, kind=args.kind)
            service.index([memory.id])
            print(f"added {memory.id} ({args.kind}) for {args.persona}")
        elif args.action == "search":
            found = service.retrieve(args.query, persona_id=args.persona, chat_id="")
            _print_recalled([dataclasses.asdict(hit) for hit in found])
        else:
            done = service.reindex(progress=_progress)
            print(f"\nreindexed {done:,} memories from SQL")
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
