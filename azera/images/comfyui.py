"""ComfyUI server (``AZERA_COMFYUI_URL``): a workflow queued over HTTP, progress followed on its websocket.

``POST /prompt`` with ``{prompt: <workflow>, client_id}`` queues Azera's text-to-image workflow (checkpoint
→ CLIP text encodings → KSampler → VAE decode → SaveImage; img2img uploads the reference through
``/upload/image`` and starts from its latents). The websocket ``/ws?clientId=`` reports ``progress``
(value / max), binary preview frames, ``execution_error``, and ``executing`` with no node when done;
``/history/{id}`` then names the files and ``/view`` serves them. A cancel posts ``/interrupt``.
"""

from __future__ import annotations

import io
import json
import threading
import uuid
from urllib.parse import urlencode, urlsplit

import httpx
from PIL import Image, UnidentifiedImageError

from azera.images.base import CancelledError, ImageError, ImageRequest, Progress, Step

WAIT_SECONDS = 1800.0


def workflow(request: ImageRequest, checkpoint: str, reference: str | None) -> dict[str, dict]:
    """ComfyUI's API-format graph for one request (node id → class and inputs)."""
    graph: dict[str, dict] = {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": checkpoint}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": request.prompt, "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": request.negative_prompt, "clip": ["4", 1]}},
        "5": {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": request.width, "height": request.height, "batch_size": request.batch},
        },
        "3": {
            "class_type": "KSampler",
            "inputs": {
                "seed": request.seed,
                "steps": request.steps,
                "cfg": request.cfg,
                "sampler_name": "euler",
                "scheduler": "normal",
                "denoise": 1.0,
                "model": ["4", 0],
                "positive": ["6", 0],
                "negative": ["7", 0],
                "latent_image": ["5", 0],
            },
        },
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "azera", "images": ["8", 0]}},
    }
    if reference is not None:
        graph["10"] = {"class_type": "LoadImage", "inputs": {"image": reference}}
        graph["11"] = {"class_type": "VAEEncode", "inputs": {"pixels": ["10", 0], "vae": ["4", 2]}}
        graph["3"]["inputs"].update(latent_image=["11", 0], denoise=request.strength)
        del graph["5"]
    return graph


class ComfyUIBackend:
    """A running ComfyUI server."""

    name, label = "comfyui", "ComfyUI server"

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def _http(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            response = httpx.request(method, self.url + path, timeout=httpx.Timeout(30.0, connect=3.0), **kwargs)
        except httpx.HTTPError as error:
            raise ImageError(f"The ComfyUI server at {self.url} is not answering ({type(error).__name__})") from error
        if response.status_code >= 400:
            try:
                detail = response.json().get("error", {})
                detail = detail.get("message", detail) if isinstance(detail, dict) else detail
            except (ValueError, AttributeError):
                detail = response.text[:200]
            raise ImageError(f"The ComfyUI server refused: {response.status_code} {str(detail)[:300]}")
        return response

    def _json(self, method: str, path: str, **kwargs) -> object:
        response = self._http(method, path, **kwargs)  # its ImageError is a ValueError too: not caught below
        try:
            return response.json()
        except ValueError as error:
            raise ImageError("The ComfyUI server answered something that is not JSON") from error

    def state(self) -> tuple[bool, str]:
        """(usable, what it is or what is missing)."""
        try:
            return True, f"{self.url}: {len(self.models())} checkpoint(s)"
        except ImageError as error:
            return False, str(error)

    def models(self) -> list[str]:
        """The server's checkpoints (from the checkpoint loader's choices)."""
        info = self._json("GET", "/object_info/CheckpointLoaderSimple")
        try:
            names = info["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0]  # type: ignore[index]
        except (KeyError, TypeError, IndexError) as error:
            raise ImageError("The ComfyUI server answered something that is not a checkpoint list") from error
        return [str(name) for name in names]

    def _upload(self, image: Image.Image) -> str:
        out = io.BytesIO()
        image.convert("RGB").save(out, format="PNG")
        files = {"image": (f"azera-{uuid.uuid4().hex[:12]}.png", out.getvalue(), "image/png")}
        answer = self._json("POST", "/upload/image", files=files, data={"overwrite": "true"})
        if not isinstance(answer, dict) or not isinstance(answer.get("name"), str):
            raise ImageError("The ComfyUI server did not take the reference image")
        return answer["name"]

    def generate(self, request: ImageRequest, progress: Progress, cancel: threading.Event) -> list[Image.Image]:
        """Queue the workflow, follow it on the websocket, fetch the images."""
        import websocket  # websocket-client

        models = self.models()
        checkpoint = request.model or (models[0] if models else "")
        if not checkpoint:
            raise ImageError("The ComfyUI server has no checkpoint to draw with")
        reference = self._upload(request.reference) if request.reference is not None else None
        client = uuid.uuid4().hex
        parts = urlsplit(self.url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        try:
            socket = websocket.create_connection(
                f"{scheme}://{parts.netloc}{parts.path}/ws?clientId={client}", timeout=5
            )
        except (OSError, websocket.WebSocketException) as error:
            raise ImageError(f"The ComfyUI server's websocket is not answering ({type(error).__name__})") from error
        try:
            graph = workflow(request, checkpoint, reference)
            queued = self._json("POST", "/prompt", json={"prompt": graph, "client_id": client})
            prompt_id = queued.get("prompt_id") if isinstance(queued, dict) else None
            if not isinstance(prompt_id, str):
                raise ImageError("The ComfyUI server did not queue the workflow")
            self._follow(socket, prompt_id, request.steps, progress, cancel)
        finally:
            socket.close()
        if cancel.is_set():
            raise CancelledError("Cancelled")
        return self._results(prompt_id)

    def _follow(self, socket, prompt_id: str, steps: int, progress: Progress, cancel: threading.Event) -> None:
        import websocket

        socket.settimeout(1.0)
        waited, total, interrupted = 0.0, steps, False
        while waited < WAIT_SECONDS:
            if cancel.is_set() and not interrupted:
                interrupted = True
                self._http("POST", "/interrupt")
            try:
                frame = socket.recv()
            except websocket.WebSocketTimeoutException:
                waited += 1.0
                continue
            except (OSError, websocket.WebSocketException) as error:
                raise ImageError("The ComfyUI server closed the connection while drawing") from error
            if isinstance(frame, bytes):  # a preview: 4 bytes event type, 4 bytes format, then the image
                try:
                    preview = Image.open(io.BytesIO(frame[8:]))
                    preview.load()
                    progress(Step(0, total, preview))
                except (UnidentifiedImageError, OSError):
                    pass
                continue
            message = json.loads(frame)
            data = message.get("data") or {}
            if data.get("prompt_id") not in (None, prompt_id):
                continue
            kind = message.get("type")
            if kind == "progress":
                total = int(data.get("max") or total)
                progress(Step(int(data.get("value", 0)), total))
            elif kind == "execution_error":
                raise ImageError(f"ComfyUI failed: {str(data.get('exception_message', 'unknown error'))[:300]}")
            elif kind == "execution_interrupted" or (
                kind == "executing" and data.get("node") is None and data.get("prompt_id") == prompt_id
            ):
                return
        raise ImageError(f"ComfyUI did not finish within {WAIT_SECONDS / 60:.0f} minutes")

    def _results(self, prompt_id: str) -> list[Image.Image]:
        history = self._json("GET", f"/history/{prompt_id}")
        try:
            outputs = history[prompt_id]["outputs"]  # type: ignore[index]
        except (KeyError, TypeError) as error:
            raise ImageError("ComfyUI finished without a result") from error
        images = []
        for output in outputs.values():
            for item in output.get("images", []):
                query = urlencode({key: item.get(key, "") for key in ("filename", "subfolder", "type")})
                data = self._http("GET", f"/view?{query}").content
                try:
                    image = Image.open(io.BytesIO(data))
                    image.load()
                except (UnidentifiedImageError, OSError) as error:
                    raise ImageError("The ComfyUI server sent a file that is not an image") from error
                images.append(image)
        if not images:
            raise ImageError("ComfyUI finished without an image")
        return images
