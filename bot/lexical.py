"""BM25 over Finnish lemmas (bm25s), persisted beside the vector store and rebuilt with every ingest."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import bm25s
import numpy as np

from bot.finnish import CompoundSplitter, lemma_table, lemmas, use_lemma_table
from bot.settings import Settings
from bot.store import ChunkRecord


def lexical_dir(settings: Settings) -> Path:
    """Where the BM25 index of a data directory lives, beside the chunk records."""
    return settings.data_dir / "index" / "bm25"


class LexicalIndex:
    """BM25 over chunk lemmas; compounds optionally expanded with their known parts."""

    def __init__(self, retriever: bm25s.BM25, ids: list[str], vocabulary: list[str], split_compounds: bool,
                 lemmas_of_words: dict[str, str] | None = None):
        self.retriever = retriever
        self.ids = ids
        self.splitter = CompoundSplitter(vocabulary) if split_compounds else None
        self.lemmas_of_words = lemmas_of_words or {}
        use_lemma_table(self.lemmas_of_words)

    @classmethod
    def build(cls, records: list[ChunkRecord], split_compounds: bool) -> "LexicalIndex":
        vocabulary = compound_vocabulary(records) if split_compounds else []
        splitter = CompoundSplitter(vocabulary) if split_compounds else None
        corpus = [splitter.expand(r.lemmas) if splitter else r.lemmas for r in records]
        retriever = bm25s.BM25()
        if records:
            retriever.index([tokens or ["∅"] for tokens in corpus], show_progress=False)
        table = lemma_table(r.embedding_text for r in records)
        return cls(retriever, [r.id for r in records], vocabulary, split_compounds, table)

    def save(self, directory: Path) -> None:
        tmp = directory.with_name(directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self.ids:
            self.retriever.save(str(tmp), show_progress=False)
        meta = {"ids": self.ids, "vocabulary": sorted(self.splitter.vocabulary) if self.splitter else [],
                "split_compounds": self.splitter is not None, "lemmas": self.lemmas_of_words}
        (tmp / "lexical.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        shutil.rmtree(directory, ignore_errors=True)
        tmp.replace(directory)

    @classmethod
    def load(cls, directory: Path) -> "LexicalIndex":
        meta = json.loads((directory / "lexical.json").read_text(encoding="utf-8"))
        retriever = bm25s.BM25.load(str(directory), show_progress=False) if meta["ids"] else bm25s.BM25()
        return cls(retriever, meta["ids"], meta["vocabulary"], meta["split_compounds"], meta.get("lemmas"))

    def query_tokens(self, text: str) -> list[str]:
        return self.expand(lemmas(text))

    def expand(self, tokens: list[str]) -> list[str]:
        """Lemmas with the known parts of their compounds, as the index holds them."""
        return self.splitter.expand(tokens) if self.splitter else tokens

    def scores(self, text: str) -> np.ndarray:
        """BM25 score of every chunk (in ``self.ids`` order) for the question."""
        if not self.ids:
            return np.zeros(0)
        vocab = self.retriever.vocab_dict
        tokens = [t for t in self.query_tokens(text) if t in vocab]
        if not tokens:
            return np.zeros(len(self.ids))
        return np.asarray(self.retriever.get_scores(tokens), dtype=np.float32)


def load_matching(settings: Settings, records: list[ChunkRecord]) -> LexicalIndex | None:
    """The saved index if it was built from exactly these records and settings; None if it is missing or stale.

    The records and the index are two files: a crash between writing them leaves them apart, and this is how
    both the next ingest and every reader notice it.
    """
    try:
        index = LexicalIndex.load(lexical_dir(settings))
    except (OSError, ValueError, KeyError):  # missing, half-written or from an older layout
        return None
    same_records = index.ids == [r.id for r in records]
    return index if same_records and (index.splitter is not None) == settings.split_compounds else None


def compound_vocabulary(records: list[ChunkRecord], min_count: int = 2) -> list[str]:
    """Lemmas that stand on their own in the material at least ``min_count`` times: candidate compound parts."""
    counts = Counter(token for r in records for token in r.lemmas)
    return [w for w, n in counts.items() if n >= min_count and len(w) >= CompoundSplitter.MIN_PART]
