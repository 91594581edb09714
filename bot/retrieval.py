"""Hybrid retrieval: dense (Chroma) and BM25-on-lemmas rankings fused by reciprocal rank, municipality-aware.

Until the dense index is complete (a fresh machine embeds the corpus in the background) retrieval is lexical
only, so the first answers never wait for the embeddings.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.errors import ChromaError

from bot.embeddings import base_embeddings
from bot.lexical import LexicalIndex, load_matching
from bot.municipalities import find_municipality, normalize_municipality
from bot.settings import Settings
from bot.store import ChunkRecord, RecordStore, chroma_collection, current_generation

log = logging.getLogger(__name__)
DENSE_CHECK_S = 3.0  # how often an incomplete dense index is asked whether it is complete now


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


@dataclass
class DenseCheck:
    """Whether Chroma holds every chunk of a snapshot, and when that was last asked."""

    ready: bool = False
    checked: float = 0.0


@dataclass(frozen=True)
class Snapshot:
    """One consistent view of the store: replaced as a whole by ``reload``, so a search never mixes two."""

    records: list[ChunkRecord]  # in the lexical index's order
    by_id: dict[str, ChunkRecord]
    lexical: LexicalIndex
    municipality_of: np.ndarray  # aligned with ``records``
    generation: str  # the store's generation marker when this view was read
    dense: DenseCheck = field(default_factory=DenseCheck)


class Retriever:
    """Loads the chunk records and BM25 index of a data directory, then answers searches from that snapshot."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.reload()

    def reload(self) -> None:
        """Pick up a finished ingest: new records, a new BM25 index, a possibly complete dense index."""
        generation = current_generation(self.settings.data_dir)  # before reading: a later ingest is seen next time
        records = RecordStore(self.settings.data_dir).load()
        lexical = load_matching(self.settings, records)
        if lexical is None:  # missing, left apart from the records by a crash, or built with other settings
            if records:
                log.warning("the saved BM25 index does not fit the %d chunk records and the settings: "
                            "building it in memory", len(records))
            lexical = LexicalIndex.build(records, self.settings.split_compounds)
        if hasattr(self, "_snapshot") and generation != self._snapshot.generation:
            self._reopen_chroma()
        self._snapshot = Snapshot(records, {r.id: r for r in records}, lexical,
                                  np.array([r.municipality or "" for r in records]), generation)
        self.dense_ready()

    def _reopen_chroma(self) -> None:
        """Embedded Chroma keeps its index in memory per process: after another process's ingest it must be
        opened anew to see the new vectors (a server needs nothing)."""
        if not self.settings.chroma_host:
            SharedSystemClient.clear_system_cache()
        self.__dict__.pop("_collection", None)

    def is_stale(self) -> bool:
        """True when an ingest (in any process) finished after this snapshot was read."""
        return current_generation(self.settings.data_dir) != self._snapshot.generation

    @property
    def records(self) -> list[ChunkRecord]:
        return self._snapshot.records

    @property
    def by_id(self) -> dict[str, ChunkRecord]:
        return self._snapshot.by_id

    @property
    def lexical(self) -> LexicalIndex:
        return self._snapshot.lexical

    @property
    def collection(self):
        if not hasattr(self, "_collection"):
            self._collection = chroma_collection(self.settings)
        return self._collection

    def dense_ready(self, snapshot: Snapshot | None = None) -> bool:
        """True once Chroma holds every chunk; re-checked at most every few seconds while it does not."""
        snapshot = snapshot or self._snapshot
        check = snapshot.dense
        if check.ready or not snapshot.records:
            return check.ready
        now = time.monotonic()
        if now - check.checked > DENSE_CHECK_S:
            check.checked = now
            check.ready = self.collection.count() >= len(snapshot.records)
        return check.ready

    # ------------------------------------------------------------ rankings

    @staticmethod
    def lexical_ranking(snapshot: Snapshot, question: str, municipality: str | None, n: int) -> list[tuple[str, float]]:
        scores = snapshot.lexical.scores(question)
        if not len(scores):
            return []
        if municipality:
            scores = np.where(snapshot.municipality_of == municipality, scores, 0.0)
        order = np.argsort(-scores)[:n]
        return [(snapshot.lexical.ids[i], float(scores[i])) for i in order if scores[i] > 0]

    def dense_ranking(self, snapshot: Snapshot, query_vector: list[float], municipality: str | None,
                      n: int) -> list[tuple[str, float]]:
        """Chroma's nearest chunks; ids the snapshot does not know (a newer or older ingest) are left out.

        Embedded Chroma in one process does not see what another process (an ingest from the command line)
        wrote until it reopens: its query may then fail, and the question is answered lexically meanwhile.
        """
        where = {"municipality": municipality} if municipality else None
        try:
            result = self.collection.query(query_embeddings=[query_vector], n_results=n, where=where,
                                           include=["distances"])
        except ChromaError:
            log.warning("dense query failed (the store changed under this process); lexical ranking only")
            return []
        return [(i, 1.0 - float(d)) for i, d in zip(result["ids"][0], result["distances"][0]) if i in snapshot.by_id]

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
        snapshot = self._snapshot  # read once: a reload during this search does not change what it sees
        rankings: dict[str, list[tuple[str, float]]] = {}
        if mode in ("hybrid", "lexical"):
            rankings["lexical"] = self.lexical_ranking(snapshot, question, None, n)
            if municipality:
                rankings["lexical_local"] = self.lexical_ranking(snapshot, question, municipality, k)
        if mode == "dense" or (mode == "hybrid" and self.dense_ready(snapshot)):
            vector = vector or base_embeddings(self.settings).embed_query(question)
            rankings["dense"] = self.dense_ranking(snapshot, vector, None, n)
            if municipality:
                rankings["dense_local"] = self.dense_ranking(snapshot, vector, municipality, k)
        return self._fuse(snapshot, rankings, municipality, k)

    def _fuse(self, snapshot: Snapshot, rankings: dict[str, list[tuple[str, float]]], municipality: str | None,
              k: int) -> list[Hit]:
        """Reciprocal rank fusion, then a boost for the named municipality's chunks."""
        hits: dict[str, Hit] = {}
        for name, ranking in rankings.items():
            for rank, (chunk_id, value) in enumerate(ranking):
                hit = hits.setdefault(chunk_id, Hit(snapshot.by_id[chunk_id], 0.0))
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
