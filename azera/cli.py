"""Command line: ``python -m azera run|doctor|migrate|personas …``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from azera.config import PROJECT_ROOT, get_settings


def _reflex_env() -> dict[str, str]:
    """Environment for the Reflex CLI: caches inside the project, no telemetry, local bun."""
    env = dict(os.environ)
    env.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    env.setdefault("REFLEX_CHECK_LATEST_VERSION", "false")
    env.setdefault("REFLEX_DIR", str(PROJECT_ROOT / ".reflex"))
    env.setdefault("BUN_INSTALL_CACHE_DIR", str(PROJECT_ROOT / ".tools" / "bun-cache"))
    bun = PROJECT_ROOT / ".tools" / "node_modules" / ".bin" / "bun"
    if bun.exists():
        env.setdefault("REFLEX_BUN_PATH", str(bun))
    return env


def cmd_run(args: argparse.Namespace) -> int:
    """Start the app (production build by default, dev mode with --dev)."""
    settings = get_settings()
    env = _reflex_env()
    command = [sys.executable, "-m", "reflex", "run", "--backend-host", settings.host]
    if args.dev:
        command += ["--env", "dev", "--frontend-port", str(settings.frontend_port)]
        command += ["--backend-port", str(settings.backend_port)]
    else:
        # Production serves the compiled pages and the backend on one port.
        env["AZERA_BACKEND_PORT"] = str(settings.frontend_port)
        command += ["--env", "prod", "--single-port", "--frontend-port", str(settings.frontend_port)]
    print(f"Azera starting on http://{settings.host}:{settings.frontend_port}", flush=True)
    os.chdir(PROJECT_ROOT)
    os.execve(sys.executable, command, env)  # replace this process: no idle wrapper left behind


def cmd_doctor(args: argparse.Namespace) -> int:
    """Print each layer's implementation and status; exit 1 if a required layer is broken."""
    from azera.doctor import run_checks

    results = run_checks()
    if args.json:
        print(json.dumps([result.__dict__ for result in results], indent=2))
    else:
        for result in results:
            mark = "OK     " if result.ok else ("BROKEN " if result.required else "problem")
            print(f"{mark} {result.layer:<16} {result.implementation:<30} {result.detail}")
    return 1 if any(result.required and not result.ok for result in results) else 0


def cmd_migrate(_args: argparse.Namespace) -> int:
    """Apply database migrations."""
    from azera.db.engine import migrate

    get_settings().ensure_dirs()
    migrate()
    print("database is at the newest schema")
    return 0


def cmd_personas(args: argparse.Namespace) -> int:
    """List, export or import personas."""
    from azera.db.engine import session_scope
    from azera.errors import ServiceError
    from azera.services import personas as persona_service
    from azera.services.persona_files import render_persona
    from azera.services.startup import prepare

    prepare()
    folder = get_settings().resolved_personas_dir
    try:
        with session_scope() as session:
            if args.action == "list":
                for persona in persona_service.list_personas(session):
                    print(f"{persona.id:<20} {persona.kind:<5} {persona.emoji} {persona.name}")
            elif args.action == "export":
                text = render_persona(persona_service.document_of(persona_service.get_persona(session, args.id)))
                if args.out:
                    Path(args.out).write_text(text, encoding="utf-8")
                else:
                    sys.stdout.write(text)
            else:
                text = Path(args.file).read_text(encoding="utf-8")
                persona = persona_service.create_persona(session, folder, text)
                print(f"imported {persona.id} ({persona.name})")
    except (ServiceError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    """Send one message and stream the reply to stdout, through the same service as the UI."""
    import asyncio

    from azera.conversation.replies import generate_reply
    from azera.db.engine import session_scope
    from azera.errors import ServiceError
    from azera.services import chats
    from azera.services.startup import prepare

    prepare()

    async def run() -> int:
        chat_id = args.chat
        if not chat_id:
            with session_scope() as session:
                chat_id = chats.create_chat(session, ai_persona_id=args.persona, title=args.message[:60]).id
        shown, failed = "", False
        async for event in generate_reply(chat_id, text=args.message):
            if event.kind in ("started", "token") and event.content.startswith(shown):
                sys.stdout.write(event.content[len(shown) :])
                sys.stdout.flush()
                shown = event.content
            elif event.kind == "done":
                print()
                print(f"[chat {chat_id} · {event.model} · {event.status}]", file=sys.stderr)
                if event.error:
                    print(f"error: {event.error}", file=sys.stderr)
                    failed = True
        return 1 if failed else 0

    try:
        return asyncio.run(run())
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def cmd_models(_args: argparse.Namespace) -> int:
    """List the chat backend's installed models."""
    import asyncio

    from azera.llm.base import BackendError
    from azera.runtime import runtime
    from azera.state.models import human_size

    backend = runtime().backend
    try:
        models = asyncio.run(backend.list_models())
    except BackendError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for model in models:
        print(f"{model.name:<40} {model.family:<12} {human_size(model.size_bytes):>9}  ({backend.name})")
    return 0


def cmd_memory(args: argparse.Namespace) -> int:
    """Add a memory, search memories, or rebuild every index from SQL."""
    from azera.db.engine import session_scope
    from azera.errors import ServiceError
    from azera.memory.service import MemoryService
    from azera.runtime import runtime
    from azera.services.personas import get_persona
    from azera.services.startup import prepare

    prepare()
    service = runtime().memory()
    if service is None:
        print("error: memory is unavailable (see the log above)", file=sys.stderr)
        return 1
    try:
        if args.action == "add":
            with session_scope() as session:
                get_persona(session, args.persona)
                memory = MemoryService.record(session, text=args.text, persona_id=args.persona, kind=args.kind)
            service.index([memory.id])
            print(f"added {memory.id} ({args.kind}) for {args.persona}")
        elif args.action == "search":
            for n, hit in enumerate(service.retrieve(args.query, persona_id=args.persona, chat_id=""), start=1):
                sources = ", ".join(f"{name} {score:.3f}" for name, score in hit.sources.items())
                print(f"{n}. [{hit.created_at}] ({hit.kind}) {hit.text}\n   fused {hit.score:.4f}: {sources}")
        else:
            print(f"reindexed {service.reindex()} memories from SQL")
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def cmd_mind(args: argparse.Namespace) -> int:
    """Show every AI persona's mood, energy and focus, or simulate idle hours on scratch data."""
    if args.action == "simulate":
        from azera.bench.simulate import run_simulation
        from azera.errors import ServiceError

        try:
            result = run_simulation(args.persona, minutes=args.minutes, exchanges=args.exchanges, start=args.start)
        except (ServiceError, ValueError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        if args.json:
            print(json.dumps(result, indent=2))
            return 0
        for row in result["trajectory"]:
            print(f"{row['minute']:>5} min  energy {row['energy']:.2f}  focus {row['focus']:.2f}  mood {row['mood']}")
        for event in result["events"]:
            print(f"{event['minute']:>5} min  {event['kind']}: {event['title']}")
        print(f"{result['dreams']} dreams, {result['journal_entries']} journal entries in {result['wall_seconds']} s")
        return 0
    from azera.runtime import runtime
    from azera.services.startup import prepare

    prepare()
    service = runtime().mind
    service.load_all()
    service.tick()
    for state in sorted(service.states(), key=lambda s: s.persona_id):
        print(
            f"{state.persona_id:<20} mood {state.mood:<11} valence {state.valence:.2f} arousal {state.arousal:.2f} "
            f"energy {state.energy:.2f} focus {state.focus:.2f}"
        )
    return 0


def cmd_write_now(args: argparse.Namespace) -> int:
    """Make a persona dream (``dream``) or reflect in its journal (``reflect``) now, and print what it wrote."""
    import asyncio

    from azera.db.engine import session_scope
    from azera.db.models import Dream, JournalEntry
    from azera.errors import ServiceError
    from azera.runtime import runtime
    from azera.services.startup import prepare

    prepare()
    dreaming = args.command == "dream"
    try:
        writer = runtime().dream_now if dreaming else runtime().reflect_now
        result = asyncio.run(writer(args.persona))
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not result.id:
        print(f"no {'dream' if dreaming else 'reflection'}: {result.reason}", file=sys.stderr)
        return 1
    with session_scope() as session:
        if dreaming:
            dream = session.get(Dream, result.id)
            print(f"{dream.content}\n[emotion {dream.emotion} · themes {', '.join(dream.themes)}]")
        else:
            entry = session.get(JournalEntry, result.id)
            insights = "".join(f"\n- {insight}" for insight in entry.insights)
            print(f"# {entry.title}\n\n{entry.content}\n\nMood: {entry.mood}\nInsights:{insights}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Run a benchmark and print its figures."""
    import asyncio

    from azera.bench.chat import bench_chat
    from azera.bench.retrieval import bench_retrieval

    if args.suite == "tick":
        from azera.bench.tick import bench_tick

        result = bench_tick(seconds=args.seconds)
    elif args.suite == "retrieval":
        result = bench_retrieval(memories=args.memories, queries=args.queries)
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
        result = asyncio.run(bench_chat(runs=args.runs, max_tokens=args.max_tokens))
    if args.json:
        print(json.dumps(result, indent=2))
    elif args.suite == "memory":
        from azera.bench.memory import format_report

        print(format_report(result))
    else:
        for key, value in result.items():
            print(f"{key:<22} {value}")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    """Create, list or revoke API tokens."""
    from azera.db.engine import session_scope
    from azera.errors import ServiceError
    from azera.services import auth
    from azera.services.startup import prepare

    prepare()
    try:
        with session_scope() as session:
            if args.action == "create":
                token, secret = auth.create_api_token(session, " ".join(args.name) or "command line")
                print(secret)
                print(f"[token {token.id} '{token.name}': shown once, keep it safe]", file=sys.stderr)
            elif args.action == "list":
                for token in auth.list_api_tokens(session):
                    used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
                    created = f"{token.created_at:%Y-%m-%d}"
                    print(f"{token.id}  {token.prefix}…  {token.name:<30} created {created}  used {used}")
            else:
                token = auth.revoke_api_token(session, args.name[0] if args.name else "")
                print(f"revoked {token.id} ({token.name})")
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def cmd_owner(args: argparse.Namespace) -> int:
    """Print the one-time setup link, or reset the owner's password (on this machine only)."""
    from azera.db.engine import session_scope
    from azera.services import auth
    from azera.services.startup import prepare

    prepare()
    settings = get_settings()
    with session_scope() as session:
        if args.action == "reset":
            auth.remove_owner(session)
            auth.forget_setup_token()
        elif auth.owner_exists(session):
            print("The owner's password is set: log in at /login (forgotten? `python -m azera owner reset`)")
            return 0
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    print(auth.setup_link(f"http://{host}:{settings.frontend_port}"))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m azera`` argument parser."""
    parser = argparse.ArgumentParser(prog="python -m azera", description="Azera, a self-hosted AI companion.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start the app on http://127.0.0.1:3000")
    run.add_argument("--dev", action="store_true", help="development mode with hot reload")
    run.set_defaults(handler=cmd_run)
    doctor = commands.add_parser("doctor", help="check every layer")
    doctor.add_argument("--json", action="store_true")
    doctor.set_defaults(handler=cmd_doctor)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(handler=cmd_migrate)
    personas = commands.add_parser("personas", help="list, export or import personas")
    actions = personas.add_subparsers(dest="action", required=True)
    actions.add_parser("list")
    export = actions.add_parser("export")
    export.add_argument("id")
    export.add_argument("--out", help="file to write (default: stdout)")
    imported = actions.add_parser("import")
    imported.add_argument("file")
    personas.set_defaults(handler=cmd_personas)
    chat = commands.add_parser("chat", help="send a message and stream the reply")
    chat.add_argument("message")
    chat.add_argument("--persona", default="azera", help="AI persona for a new chat (default: azera)")
    chat.add_argument("--chat", help="continue this chat id instead of starting one")
    chat.set_defaults(handler=cmd_chat)
    models = commands.add_parser("models", help="list installed chat models")
    models.add_argument("action", choices=["list"])
    models.set_defaults(handler=cmd_models)
    memory = commands.add_parser("memory", help="add, search or reindex memories")
    memory_actions = memory.add_subparsers(dest="action", required=True)
    add = memory_actions.add_parser("add")
    add.add_argument("text")
    add.add_argument("--persona", default="azera")
    add.add_argument("--kind", default="fact")
    search = memory_actions.add_parser("search")
    search.add_argument("query")
    search.add_argument("--persona", default="azera")
    memory_actions.add_parser("reindex")
    memory.set_defaults(handler=cmd_memory)
    for name, purpose in (
        ("dream", "make a persona dream now"),
        ("reflect", "make a persona write in its journal now"),
    ):
        writer = commands.add_parser(name, help=purpose)
        writer.add_argument("--persona", default="azera")
        writer.set_defaults(handler=cmd_write_now)
    mind = commands.add_parser("mind", help="mental state of the AI personas; simulate idle hours")
    mind.add_argument("action", choices=["status", "simulate"])
    mind.add_argument("--persona", default="azera", help="simulate: the AI persona")
    mind.add_argument("--minutes", type=int, default=600, help="simulate: idle minutes to fast-forward")
    mind.add_argument("--exchanges", type=int, default=6, help="simulate: opening exchanges (at most 6)")
    mind.add_argument("--start", default="", help="simulate: local start time HH:MM (default: journal hour - 3 h)")
    mind.add_argument("--json", action="store_true")
    mind.set_defaults(handler=cmd_mind)
    token = commands.add_parser("token", help="API tokens: create NAME, list, revoke ID")
    token.add_argument("action", choices=["create", "list", "revoke"])
    token.add_argument("name", nargs="*", help="create: what will use it; revoke: the token id or prefix")
    token.set_defaults(handler=cmd_token)
    owner = commands.add_parser("owner", help="link: print the one-time setup link; reset: forget the password")
    owner.add_argument("action", choices=["link", "reset"])
    owner.set_defaults(handler=cmd_owner)
    bench = commands.add_parser("bench", help="benchmarks")
    bench.add_argument("suite", choices=["chat", "retrieval", "memory", "tick"])
    bench.add_argument("--seconds", type=float, default=30.0, help="tick: how long to measure")
    bench.add_argument("--dataset", help="memory: JSON conversations + questions (see README)")
    bench.add_argument("--k", type=int, default=10, help="memory: recall@k")
    bench.add_argument("--memories", type=int, default=10_000, help="retrieval: memories to index")
    bench.add_argument("--queries", type=int, default=100, help="retrieval: messages to time")
    bench.add_argument("--runs", type=int, default=5)
    bench.add_argument("--max-tokens", type=int, default=64)
    bench.add_argument("--json", action="store_true")
    bench.set_defaults(handler=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    return args.handler(args)
