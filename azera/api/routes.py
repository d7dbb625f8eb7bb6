"""REST API: health now; the rest of the surface grows with each feature."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from azera.doctor import check_records


def build_api() -> FastAPI:
    """The FastAPI app mounted under the Reflex backend."""
    api = FastAPI(title="Azera API", docs_url="/api/docs", openapi_url="/api/openapi.json")

    @api.get("/health")
    async def health() -> dict[str, object]:
        """Liveness plus the records layer's status."""
        records = await asyncio.to_thread(check_records)
        return {"status": "ok" if records.ok else "degraded", "records": records.detail}

    return api
