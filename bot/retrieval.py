"""Hybrid retrieval: dense (Chroma) and BM25-on-lemmas rankings fused by reciprocal rank, municipality-aware.

Until the dense index is complete (a fresh machine embeds the corpus in the background) retrieval is lexical
only, so the first answers never wait for the embeddings.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from bot.embeddings import base_embeddings
from bot.lexical import LexicalIndex, lexical_dir
from bot.municipalities import find_municipality, normalize_municipality
from bot.settings import Settings
from bot.store import ChunkRecord, RecordStore, chroma_collection

MODES = ("hybrid", "dense", "lexical")


@dataclass
class Hit:
    """One retrieved chunk with the evidence for its rank."""

    record: ChunkRecord
    score: float
    dense: float | None = None  # cosine similarity to the question
    lexical: float = 0.0  # BM25 score
    ranks: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict:
        r = self.record
        return {"doc_id": r.doc_id, "title": r.title, "page": r.page, "municipality": r.municipality,
                "score": round(self.score, 5), "text": r.text}


class Retriever:
    """Loads the chunk records and BM25 index of a data directory once, then answers searches."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self.reload()

    def reload(self) -> None:
        """Pick up a finished ingest: new records, a new BM25 index, a possibly complete dense index."""
        records = RecordStore(self.settings.data_dir).load()
        directory = lexical_dir(self.settings)
        lexical = LexicalIndex.load(directory) if directory.exists() else LexicalIndex.build(records, self.settings.split_compounds)
        by_id = {r.id: r for r in records}
        with self._lock:
            self.records = [by_id[i] for i in lexical.ids if i in by_id]
            self.by_id = by_id
            self.lexical = lexical
            self._municipality_of = np.array([r.municipality or "" for r in self.records])
            self._dense_checked = 0.0
            self._dense_ready = False
        self.dense_ready()

    @property
    def collection(self):
        if not hasattr(self, "_collection"):
            self._collection = chroma_collection(self.settings)
        return self._collection

    def dense_ready(self) -> bool:
        """True once Chroma holds every chunk; re-checked at most every few seconds while it does not."""
        if self._dense_ready or not self.records:
            return self._dense_ready
        now = time.monotonic()
        if now - self._dense_checked > 3.0:
            self._dense_checked = now
            self._dense_ready = self.collection.count() >= len(self.records)
        return self._dense_ready

    # ------------------------------------------------------------ rankings

    def lexical_ranking(self, question: str, municipality: str | None, n: int) -> list[tuple[str, float]]:
        scores = self.lexical.scores(question)
        if not len(scores):
            return []
        if municipality:
            scores = np.where(self._municipality_of == municipality, scores, 0.0)
        order = np.argsort(-scores)[:n]
        return [(self.lexical.ids[i], float(scores[i])) for i in order if scores[i] > 0]

    def dense_ranking(self, query_vector: list[float], municipality: str | None, n: int) -> list[tuple[str, float]]:
        where = {"municipality": municipality} if municipality else None
        result = self.collection.query(query_embeddings=[query_vector], n_results=n, where=where, include=["distances"])
        return [(i, 1.0 - float(d)) for i, d in zip(result["ids"][0], result["distances"][0]) if i in self.by_id]

    # ------------------------------------------------------------ search

    def query_vector(self, question: str) -> list[float] | None:
        """The question's embedding, or None while the dense index is not complete (nothing to compare it to)."""
        return base_embeddings(self.settings).embed_query(question) if self.dense_ready() else None

    def search(self, question: str, k: int | None = None, municipality: str | None = None, mode: str = "hybrid",
               vector: list[float] | None = None) -> list[Hit]:
        """The k best chunks for the question; a municipality named in it (or given) is preferred.

        ``vector`` is the question's embedding when the caller has it already (it is computed otherwise).
        """
        k = k or self.settings.top_k
        n = max(self.settings.candidates, k)
        municipality = normalize_municipality(municipality) or find_municipality(question)
        rankings: dict[str, list[tuple[str, float]]] = {}
        if mode in ("hybrid", "lexical"):
            rankings["lexical"] = self.lexical_ranking(question, None, n)
            if municipality:
                rankings["lexical_local"] = self.lexical_ranking(question, municipality, k)
        if mode == "dense" or (mode == "hybrid" and self.dense_ready()):
            vector = vector or base_embeddings(self.settings).embed_query(question)
            rankings["dense"] = self.dense_ranking(vector, None, n)
            if municipality:
                rankings["dense_local"] = self.dense_ranking(vector, municipality, k)
        return self._fuse(rankings, municipality, k)

    def _fuse(self, rankings: dict[str, list[tuple[str, float]]], municipality: str | None, k: int) -> list[Hit]:
        """Reciprocal rank fusion, then a boost for the named municipality's chunks."""
        hits: dict[str, Hit] = {}
        for name, ranking in rankings.items():
            for rank, (chunk_id, value) in enumerate(ranking):
                hit = hits.setdefault(chunk_id, Hit(self.by_id[chunk_id], 0.0))
                if name.endswith("_local") and name.split("_")[0] in hit.ranks:
                    continue  # already counted in the full ranking: the local one only adds recall
                hit.score += 1.0 / (self.settings.rrf_k + rank + 1)
                hit.ranks[name] = rank + 1
                if name.startswith("dense"):
                    hit.dense = value
                else:
                    hit.lexical = max(hit.lexical, value)
        if municipality:
            for hit in hits.values():
                if hit.record.municipality == municipality:
                    hit.score *= self.settings.municipality_boost
        return sorted(hits.values(), key=lambda h: h.score, reverse=True)[:k]
