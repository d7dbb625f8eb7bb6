"""What llama.cpp shares across every loaded model: its own log lines, and the CPU cores."""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

_native_log = logging.getLogger("azera.llama_cpp")
GGML_LOG_ERROR = 4  # ggml's levels: 1 debug, 2 info, 3 warn, 4 error, 5 continuation
_native_callback: Any = None  # kept referenced: llama.cpp calls it for as long as the process lives


def route_native_logs() -> None:
    """Send llama.cpp's own log lines to Python logging: errors as warnings, everything else at DEBUG.

    Model loading prints dozens, and a vocabulary-only load warns about a context of 0; left alone they
    are printed straight to the terminal whatever the log level.
    """
    global _native_callback
    if _native_callback is not None:
        return
    import ctypes

    import llama_cpp

    @llama_cpp.llama_log_callback
    def callback(level: int, text: bytes, _user_data: ctypes.c_void_p) -> None:
        line = text.decode("utf-8", "replace").rstrip()
        if line:
            _native_log.log(logging.WARNING if level == GGML_LOG_ERROR else logging.DEBUG, "%s", line)

    llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))
    _native_callback = callback


def available_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover  (not Linux)
        return os.cpu_count() or 1


class ThreadBudget:
    """Shares the cores between the model copies generating right now.

    One copy alone gets every core; with several generating at once each gets ``cores // n`` (at least one), so
    copies never fight over a core (measured: two copies with two threads each on two cores fall from 32 to
    10 tokens/s, one thread each hold 23). The count is changed between tokens, also on copies already running.
    """

    def __init__(self, cores: int | None = None) -> None:
        self.cores = cores or available_cores()
        self.active: list[Any] = []
        self._lock = threading.Lock()

    def threads(self) -> int:
        """Threads each generating copy gets now."""
        return max(1, self.cores // max(1, len(self.active)))

    def _apply(self) -> None:
        import llama_cpp

        count = self.threads()
        for llm in self.active:
            llama_cpp.llama_set_n_threads(llm.ctx, count, count)
            llm.n_threads = llm.n_threads_batch = count

    def start(self, llm: Any) -> None:
        """``llm`` begins generating."""
        with self._lock:
            self.active.append(llm)
            self._apply()

    def stop(self, llm: Any) -> None:
        """``llm`` is done; the others get its cores back."""
        with self._lock:
            if llm in self.active:
                self.active.remove(llm)
            self._apply()
