"""Event arguments come from the client: any socket.io client can send any value. Check each one here.

The rule for every public handler in ``azera/state/``: it takes no paths and no raw objects; each
argument goes through one of these checks (type, length, range, and membership in what this
session was shown), and a bad one is a toast, never an exception.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import reflex as rx
from reflex.event import EventSpec
from reflex_base.registry import RegistrationContext

from azera.errors import ServiceError

log = logging.getLogger(__name__)
PACKAGE_DIR = str(Path(__file__).resolve().parent.parent) + "/"
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BadInputError(ServiceError):
    """An event argument that is not what the handler takes; the message is shown as a toast."""


def text(value: Any, *, limit: int, what: str = "The text") -> str:
    """A string of at most ``limit`` characters that is valid Unicode (no lone surrogates)."""
    if not isinstance(value, str):
        raise BadInputError(f"{what} must be text")
    if len(value) > limit:
        raise BadInputError(f"{what} is longer than {limit:,} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInputError(f"{what} holds a character that is not valid Unicode") from None
    return value


def choice(value: Any, options: Collection[str], *, what: str = "That choice") -> str:
    """One of ``options`` (ids this session was shown, or fixed labels)."""
    if not isinstance(value, str) or value not in options:
        raise BadInputError(f"{what} is not one of the choices shown")
    return value


def number(value: Any, *, low: float, high: float, what: str = "The value") -> float:
    """A finite number in ``[low, high]`` (a numeric string is accepted, a bool is not)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadInputError(f"{what} must be a number")
    try:
        result = float(value)
    except (ValueError, OverflowError):
        raise BadInputError(f"{what} must be a number, not {str(value)[:20]!r}") from None
    if not low <= result <= high:  # also refuses NaN
        raise BadInputError(f"{what} must be between {low:g} and {high:g}")
    return result


def integer(value: Any, *, low: int, high: int, what: str = "The value") -> int:
    """A whole number in ``[low, high]``."""
    result = number(value, low=low, high=high, what=what)
    if result != int(result):
        raise BadInputError(f"{what} must be a whole number")
    return int(result)


def flag(value: Any, *, what: str = "The switch") -> bool:
    """True or False, nothing else."""
    if not isinstance(value, bool):
        raise BadInputError(f"{what} must be on or off")
    return value


def date_text(value: Any, *, what: str = "The date") -> str:
    """'' or a YYYY-MM-DD date."""
    value = text(value, limit=10, what=what)
    if value and not DATE.match(value):
        raise BadInputError(f"{what} is written YYYY-MM-DD")
    return value


def form_text(form: Any, field: str, *, limit: int, what: str = "The message") -> str:
    """One text field of a submitted form."""
    if not isinstance(form, Mapping):
        raise BadInputError("The form was not understood")
    return text(form.get(field, ""), limit=limit, what=what)


def uploads(files: Any) -> list[rx.UploadFile]:
    """Files that really came through Reflex's upload endpoint (never names or paths sent as an event)."""
    if not isinstance(files, list) or not all(isinstance(f, rx.UploadFile) for f in files):
        raise BadInputError("Files must be uploaded, not named")
    return files


async def one_upload(files: Any, *, limit: int, what: str) -> tuple[str, bytes]:
    """The first uploaded file's name and bytes, read only up to ``limit`` (one byte more says "too large")."""
    uploaded = uploads(files)
    if not uploaded:
        raise BadInputError(f"Choose {what} first")
    data = await uploaded[0].read(limit + 1)
    if len(data) > limit:
        raise BadInputError(f"{what[0].upper()}{what[1:]} is at most {limit // 1_000_000} MB")
    return (uploaded[0].name or ""), data


def _acceptable(data: Any) -> str:
    """Why a raw websocket event cannot be an event of this app ('' when it can)."""
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return "not an event object"
    if not isinstance(data.get("payload", {}), dict) or not isinstance(data.get("router_data", {}), dict):
        return "payload and router data must be objects"
    if data["name"] not in RegistrationContext.get().event_handlers:
        return f"no such event {data['name'][:120]!r}"
    return ""


def refuse_unknown_events(app: rx.App) -> None:
    """Drop websocket events that name no handler or are not event objects, before Reflex queues them.

    Reflex would log each with a traceback (and the connection's headers, cookie included).
    """
    namespace = app.event_namespace
    if namespace is None:
        return
    on_event = namespace.on_event

    async def checked(sid: str, data: Any) -> None:
        problem = _acceptable(data)
        if problem:
            log.warning("refused a malformed event: %s", problem)
            return
        await on_event(sid, data)

    namespace.on_event = checked  # type: ignore[method-assign]


def backend_error(exception: Exception) -> EventSpec:
    """The app's handler for exceptions escaping an event.

    An exception raised only inside Reflex (no frame of ours) means the client sent an event Reflex could
    not even hand to us: unknown arguments, an unknown setter. That is the client's fault: one log line and
    a toast. An exception from our own code is a bug: logged with its traceback.
    """
    frames = traceback.extract_tb(exception.__traceback__)
    if any(frame.filename.startswith(PACKAGE_DIR) for frame in frames):
        log.error("an event handler failed", exc_info=exception)
        return rx.toast.error("Something went wrong; the log has the details.")
    log.warning("refused a malformed event: %s: %s", type(exception).__name__, str(exception)[:200])
    return rx.toast.error("That request was not understood.")
