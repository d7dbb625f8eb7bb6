"""The chat backend in use: Ollama when ``AZERA_OLLAMA_HOST`` is set, llama.cpp otherwise."""

from __future__ import annotations

from azera.config import Settings, get_settings
from azera.llm.base import ChatBackend
from azera.llm.catalogue import DEFAULT_MODEL, SMALL_MODEL, packaged_paths
from azera.llm.llamacpp import LlamaCppBackend
from azera.llm.ollama_backend import OllamaBackend


def build_backend(settings: Settings) -> ChatBackend:
    """The chat backend the settings ask for."""
    if settings.ollama_host:
        return OllamaBackend(settings.ollama_host, context=settings.llm_context)
    return LlamaCppBackend(settings.resolved_models_dir, context=settings.llm_context, parallel=settings.llm_parallel)


def default_model() -> str:
    """The model used when neither the chat nor the persona names one.

    ``AZERA_CHAT_MODEL`` when set; on llama.cpp the 1.5B Qwen the set-up installs, else the small SmolLM2.
    """
    settings = get_settings()
    if settings.chat_model:
        return settings.chat_model
    if settings.ollama_host:
        return ""
    return DEFAULT_MODEL if DEFAULT_MODEL in packaged_paths() else SMALL_MODEL
