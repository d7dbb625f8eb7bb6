"""Settings page: API tokens (create, shown once; revoke)."""

from __future__ import annotations

from typing import TypedDict

import reflex as rx

from azera.api.guard import credentials
from azera.db.engine import in_db
from azera.errors import ServiceError
from azera.services import auth
from azera.state import inputs


class TokenRow(TypedDict):
    """One active API token (its secret is never shown again)."""

    id: str
    name: str
    prefix: str
    created: str
    last_used: str


class TokensState(rx.State):
    """The token list, the name being typed and the secret just created."""

    tokens: list[TokenRow] = []
    new_name: str = ""
    created_secret: str = ""

    async def _refresh(self) -> None:
        rows = await in_db(auth.list_api_tokens)
        self.tokens = [
            TokenRow(
                id=t.id,
                name=t.name,
                prefix=t.prefix + "…",
                created=f"{t.created_at:%Y-%m-%d %H:%M}",
                last_used=f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never",
            )
            for t in rows
        ]

    @rx.event
    async def load(self):
        """Page load (a secret shown earlier is not shown again)."""
        self.created_secret = ""
        await self._refresh()

    @rx.event
    def set_new_name(self, value: str):
        """Track the name being typed."""
        try:
            self.new_name = inputs.text(value, limit=auth.MAX_TOKEN_NAME, what="The token name")
        except ServiceError as error:
            return rx.toast.error(str(error))
        return None

    @rx.event
    async def create(self):
        """Create a token named after what will use it; its secret is shown once."""
        name = self.new_name
        try:
            _token, secret = await in_db(lambda session: auth.create_api_token(session, name))
        except ServiceError as error:
            return rx.toast.error(str(error))
        self.created_secret, self.new_name = secret, ""
        await self._refresh()
        return rx.toast.success("Token created: copy it now, it is not shown again")

    @rx.event
    async def revoke(self, token_id: str):
        """Revoke a token: it stops working at once."""
        try:
            token_id = inputs.choice(token_id, [row["id"] for row in self.tokens], what="That token")
            await in_db(lambda session: auth.revoke_api_token(session, token_id))
        except ServiceError as error:
            return rx.toast.error(str(error))
        credentials.clear()
        await self._refresh()
        return rx.toast.success("Token revoked")
