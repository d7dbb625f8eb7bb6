"""Memories that are in SQL but not (yet) in the indexes get indexed without anyone asking.

A crash between saving a memory and indexing it, an index that was down, an import cut short: each
leaves rows with ``indexed_at`` empty, which recall would never find. A tick-loop stage picks them
up in batches, in a worker thread, and backs off while indexing keeps failing (the reason is shown
on the Memories page).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from azera.memory.service import MemoryService

log = logging.getLogger(__name__)
CHECK_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 30 * 60
# The reply pipeline indexes its own memories within a second or two; leave those to it.
GRACE_SECONDS = 30.0
BATCH = 256


class PendingIndexer:
    """The tick-loop stage: every 30 s, index a batch of waiting memories; after a failure wait 30 s, 1, 2 … 30 min."""

    def __init__(self, memory: Callable[[], MemoryService | None]) -> None:
        self.memory = memory
        self.problem = ""  # why indexing failed last ('' when it works)
        self.indexed = 0
        self._next = float("-inf")
        self._backoff = CHECK_SECONDS
        self._task: asyncio.Task | None = None

    async def stage(self, now: float) -> None:
        """Start a batch when it is time and none is running."""
        if (self._task is not None and not self._task.done()) or now < self._next:
            return
        self._task = asyncio.create_task(self._run(now))

    async def _run(self, now: float) -> None:
        service = await asyncio.to_thread(self.memory)
        if service is None:
            self._fail(now, "memory is unavailable (see the log)")
            return
        done = await asyncio.to_thread(service.index_pending, BATCH, GRACE_SECONDS)
        if service.last_index_error and not done:
            self._fail(now, service.last_index_error)
            return
        self.indexed += done
        self.problem, self._backoff = "", CHECK_SECONDS
        # A full batch means more are waiting: go on at the next tick instead of in 30 s.
        self._next = now if done >= BATCH else now + CHECK_SECONDS
        if done:
            log.info("indexed %d memories that were waiting", done)

    def _fail(self, now: float, reason: str) -> None:
        self.problem = reason
        self._next = now + self._backoff
        log.warning("memories wait to be indexed (retrying in %.0f s): %s", self._backoff, reason)
        self._backoff = min(self._backoff * 2, MAX_BACKOFF_SECONDS)

    async def wait(self) -> None:
        """Let a running batch finish (tests)."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
