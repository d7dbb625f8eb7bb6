"""Persona markdown files: YAML front matter plus a free-form body (the system prompt)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import frontmatter
import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from azera.errors import ServiceError
from azera.llm.sampling import clean_overrides

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_BODY_CHARS = 100_000


class PersonaFileError(ServiceError):
    """A persona document that cannot be used; the message names the file and field."""


class PersonaDocument(BaseModel):
    """The validated content of one persona file."""

    id: str = Field(max_length=64)
    name: str = Field(min_length=1, max_length=80)
    kind: Literal["ai", "user"] = "ai"
    emoji: str = Field(default="", max_length=16)
    color: str = Field(default="", max_length=32)
    model: str = Field(default="", max_length=200)
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    sampling: dict[str, Any] = Field(default_factory=dict)
    voice: str = Field(default="", max_length=200)
    image_style: str = Field(default="", max_length=500)  # put before the prompt of every picture it draws
    memory: bool = True
    body: str = Field(default="", max_length=MAX_BODY_CHARS)

    @field_validator("name")
    @classmethod
    def _strip_name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value

    @field_validator("sampling", mode="before")
    @classmethod
    def _valid_sampling(cls, value: Any) -> dict[str, Any]:
        if isinstance(value, dict) and "temperature" in value:
            raise ValueError("temperature is set at the top level, not under sampling")
        return clean_overrides(value)

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError("use lowercase letters, digits, '-' or '_' (at most 64)")
        return value


def slugify(name: str) -> str:
    """Turn a display name into a persona id."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:64] or "persona"


def parse_persona(text: str, *, source: str = "persona") -> PersonaDocument:
    """Parse and validate a persona document.

    Args:
        text: The markdown file's content.
        source: What to call the document in error messages (usually its file name).

    Raises:
        PersonaFileError: The YAML is malformed or a field is missing or invalid.

    """
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise PersonaFileError(f"{source}: the YAML front matter is malformed{where}") from error
    meta = {key: value for key, value in post.metadata.items() if value is not None}
    if "name" not in meta:
        raise PersonaFileError(f"{source}: field 'name' is missing from the front matter")
    meta["name"] = str(meta["name"])
    meta.setdefault("id", slugify(meta["name"]))
    meta["id"] = str(meta["id"])
    try:
        return PersonaDocument(**meta, body=post.content.strip())
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "document"
        raise PersonaFileError(f"{source}: field '{field}' {first['msg'].lower()}") from error


def render_persona(document: PersonaDocument) -> str:
    """Render a document back to markdown with front matter (stable key order)."""
    meta = document.model_dump(exclude={"body"})
    if not meta["sampling"]:
        del meta["sampling"]  # most personas keep their model family's defaults
    if not meta["image_style"]:
        del meta["image_style"]
    header = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True).strip()
    return f"---\n{header}\n---\n{document.body.strip()}\n"


def read_persona_file(path: Path) -> PersonaDocument:
    """Read and parse one persona file, naming the file in any error."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PersonaFileError(f"{path.name}: cannot be read ({error})") from error
    return parse_persona(text, source=path.name)
