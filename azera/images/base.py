"""What every image backend shares: the request (checked), progress reports, cancelling, and the interface.

A backend draws in-process (diffusers) or asks a server (ComfyUI, Automatic1111/Forge). It gets a checked
:class:`ImageRequest`, reports each step through ``progress`` and stops when ``cancel`` is set; it returns
PIL images. Errors are :class:`ImageError` with a sentence for the user.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from collections.abc import Callable
from typing import Protocol

from PIL import Image

from azera.errors import ServiceError

MAX_PROMPT_CHARS = 20_000  # longer ones are refused; the model itself reads fewer (clipped, with a notice)
MAX_SIDE = 2048
MIN_SIDE = 64
MAX_STEPS = 150
MAX_BATCH = 4
ASPECTS = {  # preset → (width, height) at SD 1.5's 512 base; SDXL-class models double them
    "1:1": (512, 512),
    "4:3": (576, 432),
    "3:4": (432, 576),
    "16:9": (640, 360),
    "9:16": (360, 640),
}


class ImageError(ServiceError):
    """A generation that cannot run or failed: the message says why, for the user."""


class CancelledError(ImageError):
    """The user cancelled the generation."""


@dataclasses.dataclass(frozen=True)
class ImageRequest:
    """One generation, checked (see :func:`checked_request`)."""

    prompt: str
    negative_prompt: str = ""
    width: int = 512
    height: int = 512
    steps: int = 20
    cfg: float = 7.0
    seed: int = 0
    batch: int = 1
    reference: Image.Image | None = None  # img2img: the picture to start from
    strength: float = 0.6  # img2img: how far from the reference (0 = unchanged, 1 = ignore it)
    model: str = ""

    @property
    def mode(self) -> str:
        """'img2img' with a reference, else 'txt2img'."""
        return "img2img" if self.reference is not None else "txt2img"


@dataclasses.dataclass
class Step:
    """A progress report: step ``step`` of ``total``, with a small preview when the backend gives one."""

    step: int
    total: int
    preview: Image.Image | None = None
    notice: str = ""  # something the user should know (a prompt clipped to the model's tokens)


Progress = Callable[[Step], None]


class Backend(Protocol):
    """An image backend."""

    name: str
    label: str

    def state(self) -> tuple[bool, str]:
        """(usable, what it is or what is missing)."""
        ...

    def models(self) -> list[str]:
        """The models it can draw with."""
        ...

    def generate(self, request: ImageRequest, progress: Progress, cancel: threading.Event) -> list[Image.Image]:
        """Draw (blocking: a worker thread); one image per ``batch``."""
        ...


def _number(value: object, low: float, high: float, what: str, *, whole: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ImageError(f"{what} must be a number")
    if whole and int(value) != value:
        raise ImageError(f"{what} must be a whole number")
    if not low <= value <= high:
        raise ImageError(f"{what} must be between {low:g} and {high:g}, not {value:g}")
    return value


def checked_request(
    *,
    prompt: object,
    negative_prompt: object = "",
    width: object = 512,
    height: object = 512,
    steps: object = 20,
    cfg: object = 7.0,
    seed: object = None,
    batch: object = 1,
    reference: Image.Image | None = None,
    strength: object = 0.6,
    model: object = "",
) -> ImageRequest:
    """A request from a client, every value checked; a random seed when none is given."""
    if not isinstance(prompt, str) or not prompt.strip():
        raise ImageError("Describe the picture: the prompt is empty")
    if not isinstance(negative_prompt, str):
        raise ImageError("The negative prompt must be text")
    if len(prompt) > MAX_PROMPT_CHARS or len(negative_prompt) > MAX_PROMPT_CHARS:
        raise ImageError(f"A prompt is at most {MAX_PROMPT_CHARS:,} characters")
    for side, what in ((width, "The width"), (height, "The height")):
        _number(side, MIN_SIDE, MAX_SIDE, what, whole=True)
        if int(side) % 8:  # type: ignore[call-overload]
            raise ImageError(f"{what} must be a multiple of 8 (the model works on 8×8 blocks), not {side}")
    if seed is None or seed == "":
        seed = random.randrange(2**32)
    if not isinstance(model, str) or len(model) > 300:
        raise ImageError("The model name must be text")
    return ImageRequest(
        prompt=prompt.strip(),
        negative_prompt=negative_prompt.strip(),
        width=int(width),  # type: ignore[call-overload]
        height=int(height),  # type: ignore[call-overload]
        steps=int(_number(steps, 1, MAX_STEPS, "Steps", whole=True)),
        cfg=float(_number(cfg, 0, 30, "CFG")),
        seed=int(_number(seed, 0, 2**32 - 1, "The seed", whole=True)),
        batch=int(_number(batch, 1, MAX_BATCH, "The batch", whole=True)),
        reference=reference,
        strength=float(_number(strength, 0.05, 1.0, "The strength")),
        model=model,
    )


def a1111_parameters(request: ImageRequest, backend: str, model: str, seed: int) -> str:
    """The ``parameters`` text Automatic1111 writes into its PNGs (other tools read it back)."""
    lines = [request.prompt]
    if request.negative_prompt:
        lines.append(f"Negative prompt: {request.negative_prompt}")
    fields = [
        f"Steps: {request.steps}",
        "Sampler: Euler",
        f"CFG scale: {request.cfg:g}",
        f"Seed: {seed}",
        f"Size: {request.width}x{request.height}",
        f"Model: {model or 'unknown'}",
    ]
    if request.reference is not None:
        fields.append(f"Denoising strength: {request.strength:g}")
    fields.append(f"Version: Azera ({backend})")
    lines.append(", ".join(fields))
    return "\n".join(lines)
