"""The chat backend in use: Ollama when ``AZERA_OLLAMA_HOST`` is set, llama.cpp otherwise."""

from __future__ import annotations

from azera.config import Settings, get_settings
from azera.llm.base import ChatBackend
from azera.llm.llamacpp import SHIPPED_MODEL, LlamaCppBackend
from azera.llm.ollama_backend import OllamaBackend


def build_backend(settings: Settings) -> ChatBackend:
    """The chat backend the settings ask for."""
    if settings.ollama_host:
        return OllamaBackend(settings.ollama_host, context=settings.llm_context)
    return LlamaCppBackend(settings.resolved_models_dir, context=settings.llm_context, parallel=settings.llm_parallel)


def default_model() -> str:
    """The model used when neither the chat nor the persona names one."""
    settings = get_settings()
    if settings.chat_model:
        return settings.chat_model
    return "" if settings.ollama_host else SHIPPED_MODEL
