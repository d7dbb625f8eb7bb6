"""The owner's password, browser sessions and API tokens (only hashes are stored).

The first start has no owner: a one-time setup token is written to the data folder (mode 0600)
and printed as a link, as Jupyter does; whoever can read that file (the machine's user) sets the
owner's password with it. Passwords are hashed with argon2; session and API tokens are random
256-bit values kept as SHA-256 hashes, so a copy of the database lets nobody in.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, delete, select

from azera.config import get_settings
from azera.db.models import ApiToken, AuthSession, SettingRow, utcnow
from azera.errors import NotFoundError, ServiceError

OWNER_KEY = "owner"
SETUP_TOKEN_FILE = "owner-setup-token"
SESSION_DAYS = 30
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
TOKEN_PREFIX = "azera_"
MAX_TOKEN_NAME = 80
_hasher = PasswordHasher()


def digest(token: str) -> str:
    """What is stored for a session or API token."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


# ---- the owner -------------------------------------------------------------------------------


def owner_exists(session: Session) -> bool:
    """Whether the owner has set a password."""
    row = session.get(SettingRow, OWNER_KEY)
    return row is not None and isinstance(row.value, dict) and bool(row.value.get("password_hash"))


def check_new_password(password: str, repeated: str | None = None) -> str:
    """A password the owner may choose (8 to 1,024 characters; typed the same twice)."""
    if len(password) < MIN_PASSWORD:
        raise ServiceError(f"The password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise ServiceError(f"The password is longer than {MAX_PASSWORD} characters")
    if repeated is not None and repeated != password:
        raise ServiceError("The two passwords differ")
    return password


def set_owner_password(session: Session, password: str) -> None:
    """Set (or replace) the owner's password; every existing session ends."""
    row = session.get(SettingRow, OWNER_KEY) or SettingRow(key=OWNER_KEY)
    row.value = {"password_hash": _hasher.hash(check_new_password(password)), "set_at": utcnow().isoformat()}
    row.updated_at = utcnow()
    session.add(row)
    session.exec(delete(AuthSession))  # type: ignore[call-overload]


def password_matches(session: Session, password: str) -> bool:
    """Whether ``password`` is the owner's (argon2 verify; False when there is no owner)."""
    row = session.get(SettingRow, OWNER_KEY)
    stored = row.value.get("password_hash", "") if row is not None and isinstance(row.value, dict) else ""
    if not stored or len(password) > MAX_PASSWORD:
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def remove_owner(session: Session) -> None:
    """Forget the owner's password and end every session (``python -m azera owner reset``)."""
    row = session.get(SettingRow, OWNER_KEY)
    if row is not None:
        session.delete(row)
    session.exec(delete(AuthSession))  # type: ignore[call-overload]


# ---- the one-time setup token -------------------------------------------------------------------


def _setup_path() -> Path:
    return get_settings().data_dir / SETUP_TOKEN_FILE


def setup_token() -> str:
    """The one-time token that lets the machine's user set the owner's password (created if missing)."""
    path = _setup_path()
    if path.exists():
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(token)
    return token


def setup_token_matches(token: str) -> bool:
    """Whether ``token`` is the current setup token (constant-time comparison)."""
    path = _setup_path()
    if not token or not path.exists():
        return False
    expected = path.read_text(encoding="utf-8").strip()
    return bool(expected) and hmac.compare_digest(expected.encode(), token.encode("utf-8", "replace"))


def forget_setup_token() -> None:
    """The owner exists: the setup link stops working."""
    _setup_path().unlink(missing_ok=True)


def setup_link(base_url: str) -> str:
    """The link printed at start-up while nobody owns this Azera."""
    return f"{base_url.rstrip('/')}/auth/setup?token={setup_token()}"


# ---- browser sessions ---------------------------------------------------------------------------


def start_session(session: Session) -> str:
    """A new logged-in session; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(AuthSession(id=digest(token), created_at=now, expires_at=now + timedelta(days=SESSION_DAYS)))
    session.exec(delete(AuthSession).where(col(AuthSession.expires_at) < now))  # type: ignore[call-overload]
    return token


def session_expiry(session: Session, token: str) -> float | None:
    """When the session with this cookie token ends (epoch seconds), or None if it is not valid."""
    if not token or len(token) > 200:
        return None
    row = session.get(AuthSession, digest(token))
    if row is None:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=utcnow().tzinfo)
    return expires.timestamp() if expires > utcnow() else None


def end_session(session: Session, token: str) -> None:
    """Log a browser out."""
    row = session.get(AuthSession, digest(token))
    if row is not None:
        session.delete(row)


# ---- API tokens ---------------------------------------------------------------------------------


def create_api_token(session: Session, name: str) -> tuple[ApiToken, str]:
    """A new API token; the secret is returned once and never stored."""
    name = " ".join(str(name).split())
    if not name:
        raise ServiceError("Give the token a name (what will use it?)")
    if len(name) > MAX_TOKEN_NAME:
        raise ServiceError(f"A token name is at most {MAX_TOKEN_NAME} characters")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, prefix=secret[: len(TOKEN_PREFIX) + 6], token_hash=digest(secret))
    session.add(token)
    session.flush()
    return token, secret


def list_api_tokens(session: Session) -> list[ApiToken]:
    """Tokens not revoked, newest first."""
    query = select(ApiToken).where(col(ApiToken.revoked_at).is_(None)).order_by(col(ApiToken.created_at).desc())
    return list(session.exec(query))


def revoke_api_token(session: Session, token_id: str) -> ApiToken:
    """Revoke a token by id (or by its shown prefix); it stops working at once."""
    token = (
        session.get(ApiToken, token_id)
        or session.exec(select(ApiToken).where(ApiToken.prefix == token_id, col(ApiToken.revoked_at).is_(None))).first()
    )
    if token is None or token.revoked_at is not None:
        raise NotFoundError(f"No active API token '{token_id}'")
    token.revoked_at = utcnow()
    session.add(token)
    return token


def api_token_valid(session: Session, secret: str) -> bool:
    """Whether ``secret`` is an active API token (its last use is recorded)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return False
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == digest(secret))).first()
    if token is None or token.revoked_at is not None:
        return False
    token.last_used_at = utcnow()
    session.add(token)
    return True


# ---- the local command line ----------------------------------------------------------------------

LOCAL_TOKEN_FILE = "cli-token"
LOCAL_TOKEN_NAME = "local command line"


def issue_local_token(session: Session) -> str:
    """A fresh API token for commands run on this machine beside the app, in the data folder (mode 0600).

    The previous one is revoked: only the user who can read the data folder can use it.
    """
    for token in list_api_tokens(session):
        if token.name == LOCAL_TOKEN_NAME:
            token.revoked_at = utcnow()
            session.add(token)
    _token, secret = create_api_token(session, LOCAL_TOKEN_NAME)
    path = get_settings().data_dir / LOCAL_TOKEN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secret)
    return secret
