"""A local server that speaks Automatic1111's web UI API (``--api``), for the adapter's tests.

No Stable Diffusion weights install on the build machines. This follows the API's routes and shapes:
``/sdapi/v1/sd-models``, ``txt2img`` and ``img2img`` (JSON in, base64 PNGs out, blocking until done),
``/sdapi/v1/progress`` (``state.sampling_step``/``sampling_steps``, ``current_image``) served while a
drawing runs, and ``/sdapi/v1/interrupt``. A "drawing" takes 0.05 s per step; txt2img paints the seed's
colour, img2img blends the init image toward it by the denoising strength (so the result depends on it).
"""

from __future__ import annotations

import base64
import io
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image

from tests.local_server import JsonHandler, serve

STEP_SECONDS = 0.05


def _b64(image: Image.Image) -> str:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def seed_colour(seed: int) -> tuple[int, int, int]:
    """The colour a seed paints."""
    return (seed * 37 % 256, seed * 91 % 256, seed * 53 % 256)


class A1111State:
    """What the server is doing and was asked."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict]] = []
        self.step = 0
        self.steps = 0
        self.interrupted = threading.Event()
        self.garbage = False


class A1111Handler(JsonHandler):
    """The API routes Azera uses."""

    state: A1111State

    def do_GET(self) -> None:  # noqa: N802 (http.server names)
        if self.path == "/sdapi/v1/sd-models":
            self.send_json(200, [{"title": "tiny.safetensors [0000]", "model_name": "tiny", "hash": "0000"}])
        elif self.path.startswith("/sdapi/v1/progress"):
            busy = self.state.steps > 0
            current = _b64(Image.new("RGB", (8, 8), (9, 9, 9))) if busy and self.state.step else None
            self.send_json(200, {
                "progress": self.state.step / self.state.steps if busy else 0.0,
                "eta_relative": 0.0,
                "state": {"sampling_step": self.state.step, "sampling_steps": self.state.steps, "interrupted": False},
                "current_image": current,
                "textinfo": None,
            })  # fmt: skip
        else:
            self.send_json(404, {"detail": "Not Found"})

    def do_POST(self) -> None:  # noqa: N802 (http.server names)
        if self.path == "/sdapi/v1/interrupt":
            self.read_json({})
            self.state.interrupted.set()
            self.send_json(200, {})
            return
        if self.path not in ("/sdapi/v1/txt2img", "/sdapi/v1/img2img"):
            self.send_json(404, {"detail": "Not Found"})
            return
        body = self.read_json({})
        self.state.requests.append((self.path, body))
        if not isinstance(body.get("prompt"), str) or not isinstance(body.get("steps"), int):
            self.send_json(422, {"detail": [{"loc": ["body", "prompt"], "msg": "field required"}]})
            return
        if body["width"] % 8 or body["height"] % 8:
            self.send_json(500, {"error": "RuntimeError", "detail": "", "body": "", "errors": "size must be /8"})
            return
        self.state.interrupted.clear()
        self.state.steps, self.state.step = body["steps"], 0
        for step in range(1, body["steps"] + 1):
            if self.state.interrupted.is_set():
                break
            time.sleep(STEP_SECONDS)
            self.state.step = step
        self.state.steps = 0
        if self.state.garbage:
            self.send_json(200, {"images": ["bm90IGFuIGltYWdl"], "parameters": {}, "info": "{}"})
            return
        images = []
        for index in range(body.get("batch_size", 1)):
            paint = Image.new("RGB", (body["width"], body["height"]), seed_colour(body["seed"] + index))
            if self.path.endswith("img2img"):
                init = Image.open(io.BytesIO(base64.b64decode(body["init_images"][0]))).convert("RGB")
                paint = Image.blend(init.resize(paint.size), paint, body["denoising_strength"])
            images.append(_b64(paint))
        self.send_json(200, {"images": images, "parameters": body, "info": "{}"})


@contextmanager
def a1111_server() -> Iterator[tuple[str, A1111State]]:
    """Run the server on a free loopback port."""
    state = A1111State()
    with serve(A1111Handler, state) as url:
        yield url, state
