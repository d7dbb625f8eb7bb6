"""diffusers, in-process: a local Stable Diffusion model (a diffusers folder or one ``.safetensors`` file).

``AZERA_IMAGE_MODEL`` names it (a hub id works only where the hub is reachable). It loads on first use in
the worker thread that draws (fp16 on CUDA, fp32 on the CPU) and is unloaded after
``AZERA_IMAGE_IDLE_MINUTES`` without a drawing (an SD-1.5-sized model holds about 6 GB in fp32).
img2img reuses the loaded components (``AutoPipelineForImage2Image.from_pipe``). Progress comes from
``callback_on_step_end``, which is also where a cancel stops the pipeline.
"""

from __future__ import annotations

import gc
import importlib.util
import logging
import threading
import time
from pathlib import Path

from PIL import Image

from azera.images.base import CancelledError, ImageError, ImageRequest, Progress, Step

log = logging.getLogger(__name__)
PREVIEW_EVERY = 1  # decode a small preview from the latents at every step (cheap: no VAE, a linear map)
LATENT_RGB = ((0.298, 0.207, 0.208), (0.187, 0.286, 0.173), (-0.158, 0.189, 0.264), (-0.184, -0.271, -0.473))


def installed() -> bool:
    """Torch and diffusers import here (the optional image extra)."""
    return importlib.util.find_spec("torch") is not None and importlib.util.find_spec("diffusers") is not None


def _preview(latents) -> Image.Image:
    """A rough colour picture of the latents (SD's approximate latent→RGB factors), for the live preview."""
    import torch

    factors = torch.tensor(LATENT_RGB, dtype=latents.dtype, device=latents.device)
    rgb = torch.einsum("chw,cr->hwr", latents[0][:4], factors[: latents.shape[1]])
    rgb = ((rgb + 1) / 2).clamp(0, 1).mul(255).byte().cpu().numpy()
    return Image.fromarray(rgb).resize((rgb.shape[1] * 4, rgb.shape[0] * 4))


def is_sdxl_checkpoint(path: Path) -> bool:
    """An SDXL single-file checkpoint has a second text encoder ("conditioner.embedders.1"); read from the header."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as checkpoint:
        return any(key.startswith("conditioner.embedders.1.") for key in checkpoint.keys())  # noqa: SIM118


class DiffusersBackend:
    """Stable Diffusion through diffusers, loaded lazily, unloaded when idle."""

    name, label = "diffusers", "diffusers (in-process)"

    def __init__(self, model: str, idle_minutes: float) -> None:
        self.model = model
        self.idle_seconds = idle_minutes * 60
        self._pipe = None
        self._used = 0.0
        self._lock = threading.Lock()

    def state(self) -> tuple[bool, str]:
        """(usable, what it is or what is missing)."""
        if not installed():
            return False, "torch and diffusers are not installed (bash scripts/setup.sh requirements-images.txt)"
        if not self.model:
            return False, "AZERA_IMAGE_MODEL does not name a model folder or .safetensors file"
        path = Path(self.model).expanduser()
        folder = path.is_dir() and (path / "model_index.json").is_file()
        if folder or (path.is_file() and path.suffix == ".safetensors"):
            return True, f"{path.name} ({'loaded' if self._pipe is not None else 'loads on first use'})"
        if "/" in self.model and not path.exists():
            return True, f"{self.model} (from the model hub, where reachable)"
        return False, f"AZERA_IMAGE_MODEL={self.model!r} is neither a diffusers folder nor a .safetensors file"

    def models(self) -> list[str]:
        """The configured model."""
        return [Path(self.model).name] if self.state()[0] else []

    def _device(self) -> tuple[str, object]:
        import torch

        return ("cuda", torch.float16) if torch.cuda.is_available() else ("cpu", torch.float32)

    def _load(self):
        from diffusers import AutoPipelineForText2Image, StableDiffusionPipeline, StableDiffusionXLPipeline

        device, dtype = self._device()
        path = Path(self.model).expanduser()
        try:
            if path.is_file():
                kind = StableDiffusionXLPipeline if is_sdxl_checkpoint(path) else StableDiffusionPipeline
                pipe = kind.from_single_file(str(path), dtype=dtype, local_files_only=True)
            else:
                local = path.is_dir()
                pipe = AutoPipelineForText2Image.from_pretrained(
                    str(path) if local else self.model, dtype=dtype, local_files_only=local
                )
        except MemoryError as error:
            raise ImageError("Not enough memory to load the image model (an SD 1.5 model needs about 6 GB)") from error
        except (OSError, ValueError, RuntimeError) as error:
            if "out of memory" in str(error).lower():
                raise ImageError("Not enough memory to load the image model") from error
            raise ImageError(f"The image model could not be loaded: {str(error)[:300]}") from error
        if getattr(pipe, "safety_checker", None) is not None:
            pipe.safety_checker = None  # a local tool for its owner, as Automatic1111 and ComfyUI ship
        pipe.set_progress_bar_config(disable=True)
        return pipe.to(device)

    def _pipeline(self, request: ImageRequest):
        if self._pipe is None:
            started = time.perf_counter()
            self._pipe = self._load()
            log.info("image model %s loaded in %.1f s", self.model, time.perf_counter() - started)
        if request.reference is None:
            return self._pipe
        from diffusers import AutoPipelineForImage2Image

        return AutoPipelineForImage2Image.from_pipe(self._pipe)

    def _prompt(self, pipe, text: str, progress: Progress, total: int) -> str:
        """The prompt cut to what the text encoder reads (77 tokens for CLIP), with a notice when cut."""
        tokenizer = getattr(pipe, "tokenizer", None)
        if tokenizer is None or not text:
            return text
        limit = tokenizer.model_max_length - 2
        ids = tokenizer(text, add_special_tokens=False).input_ids
        if len(ids) <= limit:
            return text
        clipped = tokenizer.decode(ids[:limit])
        notice = f"The prompt was clipped to the {limit} tokens the model reads (about {len(clipped)} characters)"
        progress(Step(0, total, notice=notice))
        return clipped

    def generate(self, request: ImageRequest, progress: Progress, cancel: threading.Event) -> list[Image.Image]:
        """Draw (blocking: a worker thread)."""
        usable, why = self.state()
        if not usable:
            raise ImageError(why)
        import torch

        with self._lock:
            pipe = self._pipeline(request)
            device, _ = self._device()
            steps = request.steps
            total = max(1, int(steps * request.strength)) if request.reference is not None else steps

            def on_step(pipeline, index: int, _timestep, values: dict) -> dict:
                if cancel.is_set():
                    pipeline._interrupt = True  # diffusers' own way out of the denoising loop
                preview = _preview(values["latents"]) if "latents" in values else None
                progress(Step(min(index + 1, total), total, preview))
                return values

            arguments = {
                "prompt": self._prompt(pipe, request.prompt, progress, total),
                "negative_prompt": self._prompt(pipe, request.negative_prompt, progress, total) or None,
                "num_inference_steps": steps,
                "guidance_scale": request.cfg,
                "num_images_per_prompt": request.batch,
                "generator": torch.Generator(device="cpu").manual_seed(request.seed),
                "callback_on_step_end": on_step,
                "callback_on_step_end_tensor_inputs": ["latents"],
            }
            if request.reference is not None:
                reference = request.reference.convert("RGB").resize((request.width, request.height))
                arguments.update(image=reference, strength=request.strength)
            else:
                arguments.update(width=request.width, height=request.height)
            try:
                images = pipe(**arguments).images
            except torch.OutOfMemoryError as error:
                raise ImageError("The image model ran out of memory: try a smaller size or batch") from error
            finally:
                self._used = time.monotonic()
                if device == "cuda":
                    torch.cuda.empty_cache()
            if cancel.is_set():
                raise CancelledError("Cancelled")
            return list(images)

    def unload_if_idle(self) -> bool:
        """Free the model when it has not drawn for the idle time; True when it was unloaded."""
        with self._lock:
            if self._pipe is None or time.monotonic() - self._used < self.idle_seconds:
                return False
            self._pipe = None
        gc.collect()
        log.info("image model unloaded after %.0f idle minutes", self.idle_seconds / 60)
        return True
