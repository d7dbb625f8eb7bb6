"""Azera's settings: every ``AZERA_*`` variable, read from the environment or ``.env``.

An empty server URL means "use the embedded default" for that layer
(see PRODUCT.md §2).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class Settings(BaseSettings):
    """Runtime configuration. Paths are resolved against the project root."""

    model_config = SettingsConfigDict(env_prefix="AZERA_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    data_dir: Path = Field(default=PROJECT_ROOT / "data", description="Folder for every file Azera writes.")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty = SQLite file in the data folder.")
    personas_dir: Path | None = Field(default=None, description="Live persona files; empty = <data>/personas.")
    models_dir: Path | None = Field(default=None, description="Folder scanned for .gguf files; empty = <data>/models.")
    chat_model: str = Field(
        default="", description="Default chat model; empty = the installed Qwen2.5-Coder-1.5B, else SmolLM2-135M."
    )
    llm_context: int = Field(default=4096, ge=512, le=131072, description="Context window (tokens) for chat models.")
    llm_parallel: int = Field(
        default=2, ge=1, le=8, description="Copies of a llama.cpp model loaded for side-by-side chats."
    )
    max_reply_tokens: int = Field(
        default=384, ge=16, le=8192, description="Longest reply, in tokens (a persona or chat may set its own)."
    )
    prompt_style: Literal["auto", "tiny", "compact", "full"] = Field(
        default="auto", description="Persona prompt: tiny/compact for small models, full for large; auto = by size."
    )
    memory_min_age_seconds: int = Field(default=60, ge=0, description="Memories younger than this are not recalled.")
    journal_hour: int = Field(default=21, ge=0, le=23, description="Local hour of the daily journal reflection.")
    backup_interval_minutes: int = Field(
        default=5, ge=0, le=10_080, description="Back up this often when something changed; 0 = no scheduled backups."
    )
    backup_keep: int = Field(default=24, ge=1, le=1000, description="Most recent backups kept.")
    backup_keep_days: int = Field(default=14, ge=0, le=3650, description="Besides those, one a day kept this long.")
    embedding_model: str = Field(default="all-MiniLM-L6-v2", description="Embedding model name.")
    qdrant_url: str = Field(default="", description="Qdrant server; empty = embedded engine.")
    meili_url: str = Field(default="", description="Meilisearch server; empty = SQLite FTS5.")
    meili_key: str = Field(default="", description="Meilisearch API key.")
    redis_url: str = Field(default="", description="Redis/DragonflyDB; empty = in-process TTL store.")
    ollama_host: str = Field(default="", description="Ollama server; empty = llama.cpp in-process.")
    xtts_url: str = Field(default="", description="XTTS API server for cloned voices; empty = no cloning server.")
    xtts_language: str = Field(default="en", pattern=r"^[a-z]{2}(-[a-z]{2})?$", description="Language sent to XTTS.")
    coqui_model_dir: Path | None = Field(default=None, description="XTTS model folder for Coqui in-process.")
    voices_dir: Path | None = Field(default=None, description="Extra Piper voices (.onnx); empty = <data>/voices.")
    stt_model: str = Field(default="tiny.en", description="Speech to text: tiny.en, base (if installed) or a folder.")
    image_model: str = Field(default="", max_length=500, description="Stable Diffusion folder or .safetensors file.")
    image_idle_minutes: float = Field(default=10, ge=0.5, le=1440, description="Unload the image model after this.")
    image_chat_size: int = Field(
        default=512, ge=64, le=2048, multiple_of=8, description="Side of pictures drawn in chat."
    )
    image_chat_steps: int = Field(default=20, ge=1, le=150, description="Steps of pictures drawn in chat.")
    comfyui_url: str = Field(default="", description="ComfyUI server for images; empty = none.")
    a1111_url: str = Field(default="", description="Automatic1111 / Forge server for images; empty = none.")
    host: str = Field(default="127.0.0.1", description="Address the app listens on.")
    allow_remote: bool = Field(default=False, description="Must be true to listen beyond localhost.")
    frontend_port: int = Field(default=3000, ge=1, le=65535)
    backend_port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = Field(default="INFO")
    auth: bool = Field(default=True, description="Owner login and API tokens; false only for a localhost-only app.")
    allowed_hosts: str = Field(default="", description="Extra Host names served, comma-separated.")
    allowed_origins: str = Field(default="", description="Extra browser origins allowed, comma-separated.")

    @field_validator("data_dir", "personas_dir", "models_dir", "voices_dir", "coqui_model_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        return value if value.is_absolute() else (PROJECT_ROOT / value).resolve()

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError(f"AZERA_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {value!r}")
        return level

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Settings:
        if self.host not in LOCAL_HOSTS and not self.allow_remote:
            raise ValueError(
                f"AZERA_HOST={self.host} would listen beyond this machine; "
                "set AZERA_ALLOW_REMOTE=true if that is what you want."
            )
        if not self.auth and self.host not in LOCAL_HOSTS:
            raise ValueError("AZERA_AUTH=false is only allowed while AZERA_HOST is 127.0.0.1, localhost or ::1")
        for origin in _split(self.allowed_origins):
            if not re.fullmatch(r"https?://[^/\s]+", origin):
                raise ValueError(f"AZERA_ALLOWED_ORIGINS: '{origin}' is not an origin such as https://azera.example")
        return self

    @property
    def hosts(self) -> set[str]:
        """Host names the app answers to (the Host header, without port): DNS rebinding gets nothing."""
        extra = {self.host} if self.host not in ("0.0.0.0", "::") else set()
        return {"localhost", "127.0.0.1", "[::1]", *extra, *(h.lower() for h in _split(self.allowed_hosts))}

    @property
    def origins(self) -> list[str]:
        """Browser origins allowed to talk to the app: its own pages on its ports, plus ``AZERA_ALLOWED_ORIGINS``."""
        ports = sorted({self.frontend_port, self.backend_port})
        own = [f"http://{host}:{port}" for host in sorted(self.hosts) for port in ports]
        return own + [origin.rstrip("/").lower() for origin in _split(self.allowed_origins)]

    @property
    def local_url(self) -> str:
        """Where this machine reaches the app (the loopback address when it listens on every interface)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.frontend_port}"

    @property
    def resolved_database_url(self) -> str:
        """The database URL in use: the configured one or the SQLite file."""
        return self.database_url or f"sqlite:///{self.data_dir / 'azera.db'}"

    @property
    def resolved_personas_dir(self) -> Path:
        """Folder holding the live persona markdown files."""
        return self.personas_dir or self.data_dir / "personas"

    @property
    def resolved_models_dir(self) -> Path:
        """Folder scanned for GGUF model files."""
        return self.models_dir or self.data_dir / "models"

    @property
    def resolved_voices_dir(self) -> Path:
        """Folder scanned for extra Piper voices."""
        return self.voices_dir or self.data_dir / "voices"

    @property
    def voice_samples_dir(self) -> Path:
        """Uploaded voice samples (16-bit mono WAV), the folder an XTTS server's speakers point at."""
        return self.data_dir / "media" / "voice-samples"

    def ensure_dirs(self) -> None:
        """Create the folders Azera writes into."""
        for folder in (self.data_dir, self.resolved_personas_dir, self.resolved_models_dir):
            folder.mkdir(parents=True, exist_ok=True)


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@functools.cache
def get_settings() -> Settings:
    """The settings, read once (``get_settings.cache_clear()`` reads the environment again)."""
    return Settings()


SEED_PERSONAS_DIR = PROJECT_ROOT / "personas"
