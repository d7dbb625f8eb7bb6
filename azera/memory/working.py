"""Working memory: short-lived keys with a TTL, in-process or in Redis / DragonflyDB."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Protocol

log = logging.getLogger(__name__)
SESSION_TTL = 24 * 3600
EMBEDDING_TTL = 7 * 24 * 3600


class WorkingMemory(Protocol):
    """Bytes under string keys, each with a time to live."""

    name: str

    def get(self, key: str) -> bytes | None:
        """The value, or None if missing, expired or the store is unreachable."""
        ...

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        """Store a value (silently skipped if the store is unreachable)."""
        ...

    def delete(self, key: str) -> None:
        """Forget a key."""
        ...


class LocalTTLStore:
    """In this process: a bounded LRU dict whose entries expire."""

    name = "in-process TTL store"

    def __init__(self, max_entries: int = 100_000, clock=time.monotonic) -> None:
        self._data: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        """See WorkingMemory."""
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            expires, value = item
            if expires <= self._clock():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        """See WorkingMemory."""
        with self._lock:
            self._data[key] = (self._clock() + ttl_seconds, value)
            self._data.move_to_end(key)
            while len(self._data) > self._max:
                self._data.popitem(last=False)

    def delete(self, key: str) -> None:
        """See WorkingMemory."""
        with self._lock:
            self._data.pop(key, None)


class RedisStore:
    """Redis or DragonflyDB. When the server is down, reads miss and writes are skipped (logged once a minute)."""

    name = "Redis"

    def __init__(self, url: str, prefix: str = "azera:") -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._errors = (redis.RedisError, OSError)
        self._prefix = prefix
        self._last_warning = 0.0
        self.url = url

    def _warn(self, error: Exception) -> None:
        if time.monotonic() - self._last_warning > 60:
            self._last_warning = time.monotonic()
            log.warning("working memory (Redis at %s) unavailable, continuing without it: %s", self.url, error)

    def get(self, key: str) -> bytes | None:
        """See WorkingMemory."""
        try:
            return self._redis.get(self._prefix + key)  # type: ignore[return-value]
        except self._errors as error:
            self._warn(error)
            return None

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        """See WorkingMemory."""
        try:
            self._redis.set(self._prefix + key, value, ex=ttl_seconds)
        except self._errors as error:
            self._warn(error)

    def delete(self, key: str) -> None:
        """See WorkingMemory."""
        try:
            self._redis.delete(self._prefix + key)
        except self._errors as error:
            self._warn(error)
