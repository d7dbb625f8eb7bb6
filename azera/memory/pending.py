"""Memories that are in SQL but not (yet) in the indexes get indexed without anyone asking.

A crash between saving a memory and indexing it, an index that was down, an import cut short: each
leaves rows with ``indexed_at`` empty, which recall would never find. A tick-loop stage picks them
up in batches, in a worker thread, and backs off while indexing keeps failing (the reason is shown
on the Memories page).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from azera.memory.service import MemoryService

log = logging.getLogger(__name__)
CHECK_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 30 * 60
# The reply pipeline indexes its own memories within a second or two; leave those to it (but not the ones
# made before this app started: nothing is about to index them).
GRACE_SECONDS = 30.0
BATCH = 256
RUN_SECONDS = 5.0  # a run goes on batch after batch this long (a rebuild of 100k runs at the embedder's speed)


class PendingIndexer:
    """The tick-loop stage: every 30 s, index the waiting memories; after a failure wait 30 s, 1, 2 … 30 min."""

    def __init__(self, memory: Callable[[], MemoryService | None]) -> None:
        self.memory = memory
        self.problem = ""  # why indexing failed last ('' when it works)
        self.indexed = 0
        self.started = time.time()
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
        done = await asyncio.to_thread(self._drain, service)
        self.indexed += done
        if service.last_index_error:
            self._fail(now, service.last_index_error)
            return
        self.problem, self._backoff = "", CHECK_SECONDS
        # A full batch means more are waiting: go on at the next tick instead of in 30 s.
        self._next = now if done >= BATCH else now + CHECK_SECONDS
        if done:
            log.info("indexed %d memories that were waiting", done)

    def wake(self) -> None:
        """Run at the next tick (after a re-index was asked for), whatever the wait or back-off."""
        self._next, self._backoff = float("-inf"), CHECK_SECONDS

    def _drain(self, service: MemoryService) -> int:
        """Batches back to back for up to RUN_SECONDS (worker thread).

        Once none waits, the vector graph is built if enough new vectors need it (so a re-index builds it
        once, at its end).
        """
        deadline, total = time.monotonic() + RUN_SECONDS, 0
        while True:
            done = service.index_pending(BATCH, GRACE_SECONDS, since=self.started)
            total += done
            if done < BATCH and not service.last_index_error:
                service.optimize()
            if done < BATCH or time.monotonic() >= deadline:
                return total

    def _fail(self, now: float, reason: str) -> None:
        self.problem = reason
        self._next = now + self._backoff
        log.warning("memories wait to be indexed (retrying in %.0f s): %s", self._backoff, reason)
        self._backoff = min(self._backoff * 2, MAX_BACKOFF_SECONDS)

    async def wait(self) -> None:
        """Let a running batch finish (tests)."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
