"""The owner and API tokens: ``owner link|reset``, ``token create|list|revoke``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from azera.config import get_settings


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
    print(auth.setup_link(settings.local_url))
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """``backup list|create|verify ID|restore ID``."""
    from azera.cli.remote import running_app
    from azera.errors import ServiceError
    from azera.services import backups
    from azera.services.startup import prepare

    prepare()
    try:
        if args.action == "list":
            for info in backups.list_backups():
                rows = ", ".join(f"{info.counts.get(t, 0)} {t}" for t in ("chat", "chatmessage", "memory", "dream"))
                print(f"{info.id}  {info.created_at}  {info.size_bytes / 1e6:8.1f} MB  {info.reason:<10} {rows}")
        elif args.action == "create":
            info = backups.create_backup(reason="manual")
            print(f"backup {info.id}: {info.size_bytes / 1e6:.1f} MB in {backups.backups_dir() / info.id}")
        elif not args.id:
            print(f"error: backup {args.action} needs a backup id (see: backup list)", file=sys.stderr)
            return 2
        elif args.action == "verify":
            info = backups.verify_backup(args.id)
            print(f"backup {info.id} is whole: every checksum matches, the database passes its integrity check")
        else:
            if running_app() is not None:
                print(
                    "error: stop the app first (it holds the database); it re-indexes when it starts", file=sys.stderr
                )
                return 2
            info = backups.restore_backup(args.id)
            print(
                f"restored {info.id} (the data before it is kept as a backup too); memories are re-indexed in the "
                "background when the app starts, or now with: python -m azera memory reindex"
            )
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """``export --out FILE``: everything in one zip archive."""
    from azera.services.startup import prepare
    from azera.services.transfer import export_all

    prepare()
    out = Path(args.out)
    counts = export_all(out)
    print(f"exported to {out}: " + ", ".join(f"{n} {table}" for table, n in counts.items() if n))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """``import FILE``: an archive from ``export``, merged without duplicates; its memories indexed again."""
    from azera.cli.remote import running_app
    from azera.errors import ServiceError
    from azera.services.startup import prepare
    from azera.services.transfer import import_all

    if running_app() is not None:
        print(
            "error: stop the app first (it holds the database); it indexes what is imported when it starts",
            file=sys.stderr,
        )
        return 2
    prepare()
    try:
        report, memories = import_all(Path(args.file))
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    added = ", ".join(f"{n} {table}" for table, n in report.added.items()) or "nothing new"
    print(f"imported {added}; {sum(report.unchanged.values())} rows already here; {report.files} files")
    for conflict in report.conflicts:
        print(f"  not imported: {conflict}")
    if memories:
        print(f"{len(memories)} memories are indexed when the app starts (or now: python -m azera memory reindex)")
    return 0
