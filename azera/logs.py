"""The app's recent log lines, kept in a bounded ring in memory for ``GET /api/logs`` (never read from a file)."""

from __future__ import annotations

import collections
import dataclasses
import logging
import threading

RING_SIZE = 2_000
MAX_LINE = 2_000


@dataclasses.dataclass(frozen=True)
class LogLine:
    """One log record as text."""

    time: float
    level: str
    logger: str
    message: str


class LogRing(logging.Handler):
    """Keeps the newest ``RING_SIZE`` records; older ones fall off."""

    def __init__(self, size: int = RING_SIZE) -> None:
        super().__init__(level=logging.DEBUG)
        self._lines: collections.deque[tuple[int, LogLine]] = collections.deque(maxlen=size)
        self._lock_lines = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        """Keep one record (its message formatted, with the traceback when there is one)."""
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
        except Exception:  # a record that cannot be formatted is kept as its template
            message = str(record.msg)
        line = LogLine(record.created, record.levelname, record.name, message[:MAX_LINE])
        with self._lock_lines:
            self._lines.append((record.levelno, line))

    def recent(self, level: int = logging.DEBUG, limit: int = 200) -> list[LogLine]:
        """The newest ``limit`` lines at ``level`` or above, oldest first."""
        with self._lock_lines:
            kept = [line for number, line in self._lines if number >= level]
        return kept[-limit:] if limit else []


_ring: LogRing | None = None


def ring() -> LogRing:
    """The process's ring, attached to the root logger on first use."""
    global _ring
    if _ring is None:
        _ring = LogRing()
        logging.getLogger().addHandler(_ring)
    return _ring
