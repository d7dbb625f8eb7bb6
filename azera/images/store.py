"""Where pictures live: PNGs under ``<data>/media/images`` with their parameters, rows in the ``image`` table.

Each PNG carries a ``parameters`` text chunk in Automatic1111's format, so other tools read the settings
back; the row holds the same settings for the gallery and "use these settings again". Reference images for
img2img are uploads checked by Pillow (type by content, 20 MB, at most 40 megapixels: a decompression
bomb is refused before it is decoded).
"""

from __future__ import annotations

import io
import re
import uuid
import warnings
from pathlib import Path

from PIL import Image, PngImagePlugin, UnidentifiedImageError
from sqlmodel import Session, select

from azera.config import get_settings
from azera.db.models import GeneratedImage
from azera.errors import NotFoundError, ServiceError
from azera.images.base import ImageRequest, a1111_parameters

MAX_REFERENCE_BYTES = 20_000_000
MAX_REFERENCE_PIXELS = 40_000_000
NAME = re.compile(r"^[0-9a-f]{32}$")
REFERENCE_NAME = re.compile(r"^ref-[0-9a-f]{32}\.png$")


def images_dir() -> Path:
    """The generated pictures."""
    return get_settings().data_dir / "media" / "images"


def references_dir() -> Path:
    """Uploaded reference pictures for img2img."""
    return get_settings().data_dir / "media" / "image-references"


def image_url(image_id: str) -> str:
    """Where the browser fetches a picture."""
    return f"/api/images/{image_id}"


def save_images(
    session: Session,
    request: ImageRequest,
    images: list[Image.Image],
    *,
    backend: str,
    model: str,
    chat_id: str | None = None,
    message_id: str | None = None,
) -> list[GeneratedImage]:
    """Store each picture (PNG with its parameters) and its row; the batch's seeds count up from the seed."""
    folder = images_dir()
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for offset, image in enumerate(images):
        seed = request.seed + offset
        row = GeneratedImage(
            prompt=request.prompt,
            negative_prompt=request.negative_prompt,
            model=model[:200],
            width=image.width,
            height=image.height,
            steps=request.steps,
            cfg=request.cfg,
            seed=seed,
            chat_id=chat_id,
            message_id=message_id,
            backend=backend,
            strength=request.strength if request.reference is not None else None,
        )
        info = PngImagePlugin.PngInfo()
        info.add_text("parameters", a1111_parameters(request, backend, model, seed))
        path = folder / f"{row.id}.png"
        partial = path.with_suffix(".part")
        image.convert("RGB").save(partial, format="PNG", pnginfo=info)
        partial.replace(path)  # whole or absent
        row.path = f"images/{row.id}.png"
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def list_images(session: Session, *, limit: int = 200, offset: int = 0) -> list[GeneratedImage]:
    """The gallery, newest first."""
    query = select(GeneratedImage).order_by(GeneratedImage.created_at.desc()).offset(offset).limit(limit)  # type: ignore[attr-defined]
    return list(session.exec(query))


def get_image(session: Session, image_id: str) -> tuple[GeneratedImage, Path]:
    """A picture's row and file."""
    row = session.get(GeneratedImage, image_id) if NAME.match(image_id or "") else None
    path = images_dir() / f"{image_id}.png"
    if row is None or not path.is_file():
        raise NotFoundError(f"There is no picture {image_id!r}")
    return row, path


def delete_image(session: Session, image_id: str) -> None:
    """Remove a picture and its file."""
    row, path = get_image(session, image_id)
    session.delete(row)
    path.unlink(missing_ok=True)


def open_reference(data: bytes) -> Image.Image:
    """An uploaded picture, checked: a real image by content, not too large, not a decompression bomb."""
    if len(data) > MAX_REFERENCE_BYTES:
        raise ServiceError(f"A reference image is at most {MAX_REFERENCE_BYTES // 1_000_000} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_REFERENCE_PIXELS:
                raise ServiceError(f"The reference image is {image.width}×{image.height}: at most 40 megapixels")
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ServiceError("The reference image is a decompression bomb (far more pixels than its size)") from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise ServiceError("This is not an image Azera reads (PNG, JPEG, WebP, GIF …)") from error
    return image.convert("RGB")


def save_reference(data: bytes) -> str:
    """Keep an uploaded reference (as PNG) and give its name."""
    image = open_reference(data)
    folder = references_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"ref-{uuid.uuid4().hex}.png"
    image.save(folder / name, format="PNG")
    return name


def reference_path(name: str) -> Path:
    """A reference's file (the name is checked, so it never leaves the folder)."""
    path = references_dir() / name
    if not REFERENCE_NAME.match(name or "") or not path.is_file():
        raise NotFoundError(f"There is no reference image {name!r}")
    return path


def load_reference(name: str) -> Image.Image:
    """A stored reference, opened."""
    with Image.open(reference_path(name)) as image:
        return image.convert("RGB")
