"""Automatic1111 / Forge server (``AZERA_A1111_URL``): ``/sdapi/v1/txt2img`` and ``img2img``.

The drawing request blocks until the images are done, so it runs in a thread of its own while this one
polls ``/sdapi/v1/progress`` (the step, and the current image as a live preview); a cancel posts
``/sdapi/v1/interrupt``. Images come back base64-encoded PNGs.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import threading

import httpx
from PIL import Image, UnidentifiedImageError

from azera.images.base import CancelledError, ImageError, ImageRequest, Progress, Step

POLL_SECONDS = 0.5
TIMEOUT = httpx.Timeout(1800.0, connect=5.0)


def _png_base64(image: Image.Image) -> str:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def _image(data: object, what: str) -> Image.Image:
    if not isinstance(data, str):
        raise ImageError(f"The Automatic1111 server sent {what} that is not an image")
    try:
        image = Image.open(io.BytesIO(base64.b64decode(data.split(",", 1)[-1], validate=False)))
        image.load()
    except (binascii.Error, UnidentifiedImageError, OSError, ValueError) as error:
        raise ImageError(f"The Automatic1111 server sent {what} that is not an image") from error
    return image


class A1111Backend:
    """A running Automatic1111 or Forge web UI started with ``--api``."""

    name, label = "a1111", "Automatic1111 / Forge server"

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def _down(self, error: object) -> str:
        return f"The Automatic1111 server at {self.url} is not answering ({type(error).__name__})"

    def _get(self, path: str, timeout: float = 5.0) -> object:
        try:
            response = httpx.get(self.url + path, timeout=httpx.Timeout(timeout, connect=3.0))
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise ImageError(self._down(error)) from error

    def state(self) -> tuple[bool, str]:
        """(usable, what it is or what is missing)."""
        try:
            return True, f"{self.url}: {len(self.models())} model(s)"
        except ImageError as error:
            return False, str(error)

    def models(self) -> list[str]:
        """The server's checkpoints."""
        listed = self._get("/sdapi/v1/sd-models")
        if not isinstance(listed, list):
            raise ImageError("The Automatic1111 server answered something that is not a model list")
        return [str(item.get("title") or item.get("model_name")) for item in listed if isinstance(item, dict)]

    def generate(self, request: ImageRequest, progress: Progress, cancel: threading.Event) -> list[Image.Image]:
        """Draw on the server, following its progress."""
        body: dict[str, object] = {
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt,
            "steps": request.steps,
            "cfg_scale": request.cfg,
            "width": request.width,
            "height": request.height,
            "seed": request.seed,
            "batch_size": request.batch,
            "n_iter": 1,
            "sampler_name": "Euler",
            "send_images": True,
            "save_images": False,
        }
        if request.model:
            body["override_settings"] = {"sd_model_checkpoint": request.model}
        route = "/sdapi/v1/txt2img"
        if request.reference is not None:
            route = "/sdapi/v1/img2img"
            body.update(init_images=[_png_base64(request.reference)], denoising_strength=request.strength)
        answer: dict[str, object] = {}

        def draw() -> None:
            try:
                answer["response"] = httpx.post(self.url + route, json=body, timeout=TIMEOUT)
            except httpx.HTTPError as error:
                answer["error"] = error

        worker = threading.Thread(target=draw, name="a1111-draw", daemon=True)
        worker.start()
        interrupted = False
        while worker.is_alive():
            worker.join(POLL_SECONDS)
            if cancel.is_set() and not interrupted:
                interrupted = True
                with contextlib.suppress(httpx.HTTPError):
                    httpx.post(self.url + "/sdapi/v1/interrupt", timeout=5.0)
            if worker.is_alive():
                self._report(progress, request.steps)
        return self._images(answer, cancel)

    def _report(self, progress: Progress, steps: int) -> None:
        try:
            now = self._get("/sdapi/v1/progress?skip_current_image=false")
        except ImageError:
            return  # a missed poll is not an error; the drawing itself decides
        if not isinstance(now, dict) or not isinstance(now.get("state"), dict):
            return
        step, total = now["state"].get("sampling_step"), now["state"].get("sampling_steps") or steps
        if isinstance(step, int) and isinstance(total, int) and total > 0:
            preview = None
            if now.get("current_image"):
                try:
                    preview = _image(now["current_image"], "a preview")
                except ImageError:
                    preview = None
            progress(Step(min(step, total), total, preview))

    def _images(self, answer: dict[str, object], cancel: threading.Event) -> list[Image.Image]:
        if "error" in answer:
            raise ImageError(self._down(answer["error"]))
        response = answer["response"]
        assert isinstance(response, httpx.Response)
        if response.status_code != 200:
            try:
                detail = response.json().get("detail") or response.json().get("error")
            except ValueError:
                detail = response.text[:200]
            raise ImageError(f"The Automatic1111 server refused: {response.status_code} {str(detail)[:300]}")
        try:
            images = response.json().get("images")
        except ValueError as error:
            raise ImageError("The Automatic1111 server answered something that is not JSON") from error
        if cancel.is_set():
            raise CancelledError("Cancelled")
        if not isinstance(images, list) or not images:
            raise ImageError("The Automatic1111 server answered without an image")
        return [_image(data, "an image") for data in images]
