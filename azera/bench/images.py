"""``bench images``: time per step of the in-process backend, and whether the event loop stays responsive.

The model is ``AZERA_IMAGE_MODEL`` when set, else the tiny random-weight pipeline (built in a scratch
folder): real diffusers code at a toy size. Each size is drawn ``runs`` times through the image queue's
worker thread, as the Canvas page does; the figure is the median time per step. Meanwhile an asyncio loop
in this process (the stand-in for Reflex's event loop, which serves every other session) sleeps 10 ms
again and again: its lateness while a picture is drawn, against idle, says whether other sessions wait.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from azera.bench import rss_mb, scratch_settings

SIZES = (64, 256)


async def _lateness(stop: threading.Event) -> list[float]:
    late = []
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(0.01)
        late.append(time.perf_counter() - started - 0.01)
    return late


def _quantiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples) or [0.0]
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p95_ms": round(p95 * 1000, 2)}


def _measure_loop(work) -> tuple[object, dict[str, float]]:
    stop = threading.Event()
    result: dict[str, object] = {}

    def run() -> None:
        try:
            result["value"] = work()
        finally:
            stop.set()

    worker = threading.Thread(target=run)
    worker.start()
    late = asyncio.run(_lateness(stop))
    worker.join()
    return result.get("value"), _quantiles(late)


def bench_images(runs: int = 3, steps: int = 8) -> dict[str, object]:
    """Seconds per step per size, and the event loop's lateness idle and while drawing."""
    model = os.environ.get("AZERA_IMAGE_MODEL", "")
    scratch_settings("azera-bench-images-")
    if not model:
        from azera.bench.tiny_pipeline import build_tiny_pipeline

        model = str(build_tiny_pipeline(Path(tempfile.mkdtemp(prefix="azera-tiny-sd-"))))
    os.environ["AZERA_IMAGE_MODEL"] = model
    from azera.config import get_settings
    from azera.images import jobs
    from azera.images.base import checked_request
    from azera.services.startup import prepare

    get_settings.cache_clear()
    prepare()  # a database for the pictures
    queue = jobs.image_queue()

    def draw(size: int) -> float:
        request = checked_request(prompt="a lighthouse at dusk", width=size, height=size, steps=steps, seed=1)
        job = queue.submit(jobs.Job(request=request, backend=""))
        started = time.perf_counter()
        while not job.finished:
            time.sleep(0.005)
        if job.state != "done":
            raise RuntimeError(job.error)
        return (time.perf_counter() - started) / steps

    load_started = time.perf_counter()
    draw(SIZES[0])  # loads the model
    loaded = round(time.perf_counter() - load_started, 2)
    result: dict[str, object] = {"model": Path(model).name, "steps": steps, "first_draw_with_load_s": loaded}
    _, idle = _measure_loop(lambda: time.sleep(2.0))
    result["loop_idle"] = idle
    for size in SIZES:
        per_step, loop = _measure_loop(lambda size=size: statistics.median(draw(size) for _ in range(runs)))
        result[f"{size}px_s_per_step"] = round(per_step, 4)  # type: ignore[arg-type]
        result[f"loop_while_drawing_{size}px"] = loop
    result["rss_mb"] = round(rss_mb(), 1)
    return result
