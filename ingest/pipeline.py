"""Incremental, idempotent ingest in two phases.

1. Lexical phase (seconds): find the files, hash them, load and chunk the new and changed ones, lemmatise, save
   the chunk records and rebuild BM25. Search works from here on.
2. Dense phase (minutes on a fresh machine): make the Chroma collection hold exactly the chunk records, embedding
   only what is missing (and what the cache has not seen). Each document's chunks are written in one upsert when
   all of them are ready; a crash leaves the records ahead of Chroma, and the next run finishes the job.
"""

from __future__ import annotations

import fnmatch
import hashlib
import shutil
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from bot.embeddings import get_embeddings
from bot.evidence import sentence_texts
from bot.finnish import lemmas
from bot.lexical import LexicalIndex, lexical_dir, load_matching
from bot.settings import Settings
from bot.store import ChunkRecord, RecordStore, bump_generation, chroma_client, chroma_collection
from ingest.chunking import chunk_blocks, embedding_text
from ingest.loaders import LoadError, doc_id_for, load_document, located, read_sidecar

EMBED_BATCH = 16
SENTENCE_BATCH = 64


@dataclass
class IngestReport:
    files: int = 0
    pages: int = 0
    chunks: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    total_chunks: int = 0
    embedded: int = 0
    sentences_embedded: int = 0
    notes: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class SourceFile:
    path: Path
    doc_id: str


def discover(paths: list[Path], settings: Settings) -> tuple[list[SourceFile], list[Path], list[dict[str, str]]]:
    """Files to ingest under ``paths`` (ids relative to the corpus root), the directories scanned, and the files
    refused because they are links to somewhere outside the folder being ingested (e.g. ``/etc/passwd``)."""
    corpus_root = settings.corpus_dir.resolve()
    found: dict[str, SourceFile] = {}
    scanned: list[Path] = []
    outside: list[dict[str, str]] = []
    for given in paths:
        given = located(given)  # a link keeps its own place: where it points is checked per file below
        root = corpus_root if _under(given, [corpus_root]) else (given if given.is_dir() else given.parent)
        if given.is_dir():
            scanned.append(given)
            candidates = sorted(p for p in given.rglob("*") if p.is_file())
        else:
            candidates = [given]
        for path in candidates:
            doc_id = doc_id_for(path, root)
            if _excluded(doc_id, settings.ingest_exclude) or any(part.startswith(".") for part in Path(doc_id).parts):
                continue
            if not _under(path.resolve(), [root.resolve()]):
                outside.append({"path": str(path), "reason": f"link to a file outside {root}: not ingested"})
                continue
            found[doc_id] = SourceFile(path, doc_id)
    return list(found.values()), scanned, outside


def _excluded(doc_id: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(doc_id, pattern) for pattern in patterns)


def file_hash(path: Path, settings: Settings) -> str:
    """Content hash, salted with the chunking settings so that changing them re-chunks everything."""
    digest = hashlib.sha256(
        f"{settings.chunk_min_words}/{settings.chunk_max_words}/{settings.chunk_overlap_words}/v1".encode()
    )
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def chunk_records(source: SourceFile, digest: str, settings: Settings, sidecar: dict) -> tuple[list[ChunkRecord], int, list[str]]:
    """Load and chunk one file into records (raises LoadError)."""
    document = load_document(source.path, settings.corpus_dir, sidecar, int(settings.max_file_mb * 1_000_000))
    document.metadata["doc_id"] = source.doc_id
    chunks = chunk_blocks(document.blocks, settings.chunk_min_words, settings.chunk_max_words, settings.chunk_overlap_words)
    title = document.metadata["title"] or source.doc_id
    records = []
    for chunk in chunks:
        context_text = embedding_text(title, chunk)
        records.append(
            ChunkRecord(
                id=chunk.chunk_id(source.doc_id),
                text=chunk.text,
                doc_id=source.doc_id,
                title=title,
                chunk_index=chunk.index,
                page=chunk.page,
                headings=chunk.heading_path,
                municipality=document.metadata["municipality"],
                doc_type=document.metadata["doc_type"] or "muu",
                date=document.metadata["date"],
                source_url=document.metadata["source_url"],
                checked=document.metadata["checked"],
                file_hash=digest,
                lemmas=lemmas(context_text, exact=True),
                embedding_text=context_text,
            )
        )
    return records, document.pages, document.notes


def _under(path: Path, directories: list[Path]) -> bool:
    return any(path == d or d in path.parents for d in directories)


def lexical_phase(settings: Settings, paths: list[Path], rebuild: bool = False, progress: bool | None = None) -> tuple[IngestReport, list[ChunkRecord]]:
    """Bring the chunk records and the BM25 index in step with the files; returns the report and the records."""
    started = time.perf_counter()
    report = IngestReport()
    store = RecordStore(settings.data_dir)
    if rebuild:
        reset_store(settings)
    old = store.load()
    old_by_doc: dict[str, list[ChunkRecord]] = defaultdict(list)
    for record in old:
        old_by_doc[record.doc_id].append(record)
    sources, scanned, outside = discover(paths, settings)
    report.files = len(sources)
    report.skipped.extend(outside)
    sidecar = read_sidecar(settings.corpus_dir)
    new_by_doc: dict[str, list[ChunkRecord]] = {}
    for source in tqdm(sources, desc="Tiedostot", unit=" tiedosto", disable=_quiet(progress), file=sys.stderr):
        try:
            digest = file_hash(source.path, settings)
            previous = old_by_doc.get(source.doc_id)
            if previous and previous[0].file_hash == digest:
                report.unchanged += 1
                new_by_doc[source.doc_id] = previous
                continue
            records, pages, notes = chunk_records(source, digest, settings, sidecar)
        except (LoadError, OSError) as exc:
            report.skipped.append({"path": str(source.path), "reason": str(exc)})
            if source.doc_id in old_by_doc:  # keep what was there: nothing already in the store is lost
                new_by_doc[source.doc_id] = old_by_doc[source.doc_id]
            continue
        report.notes.extend({"path": str(source.path), "note": n} for n in notes)
        report.pages += pages
        report.chunks += len(records)
        if source.doc_id in old_by_doc:
            report.updated += 1
        else:
            report.added += 1
        new_by_doc[source.doc_id] = records
    corpus_root = settings.corpus_dir.resolve()
    for doc_id, records in old_by_doc.items():
        if doc_id in new_by_doc:
            continue
        if _under(corpus_root / doc_id, scanned) or not (corpus_root / doc_id).exists():
            report.removed += 1
        else:
            new_by_doc[doc_id] = records  # outside the paths of this run: left as it is
    records = [r for doc in sorted(new_by_doc) for r in new_by_doc[doc]]
    # A crash between writing the records and the BM25 index leaves them apart: load_matching notices it.
    if report.added or report.updated or report.removed or rebuild or load_matching(settings, records) is None:
        store.save(records)
        LexicalIndex.build(records, settings.split_compounds).save(lexical_dir(settings))
        bump_generation(settings.data_dir)
    report.total_chunks = len(records)
    report.seconds = round(time.perf_counter() - started, 3)
    return report, records


def dense_phase(
    settings: Settings,
    records: list[ChunkRecord],
    progress: bool | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> int:
    """Make the Chroma collection hold exactly ``records``; returns the number of chunks written."""
    collection = chroma_collection(settings)
    existing = collection.get(include=["metadatas"])
    have_ids = set(existing["ids"])
    have_by_doc: dict[str, set[str]] = defaultdict(set)
    for chunk_id, meta in zip(existing["ids"], existing["metadatas"]):
        have_by_doc[str(meta.get("doc_id"))].add(chunk_id)
    want_by_doc: dict[str, list[ChunkRecord]] = defaultdict(list)
    for record in records:
        want_by_doc[record.doc_id].append(record)
    todo = {doc: rs for doc, rs in want_by_doc.items() if {r.id for r in rs} != have_by_doc.get(doc, set())}
    total = sum(sum(1 for r in rs if r.id not in have_ids) for rs in todo.values())
    done = 0
    embeddings = get_embeddings(settings) if total else None
    with tqdm(total=total, desc="Upotukset", unit=" kpl", disable=_quiet(progress), file=sys.stderr) as bar:
        for doc_id, doc_records in todo.items():
            missing = [r for r in doc_records if r.id not in have_ids]
            vectors: list[list[float]] = []
            for start in range(0, len(missing), EMBED_BATCH):
                batch = missing[start : start + EMBED_BATCH]
                vectors.extend(embeddings.embed_documents([r.embedding_text for r in batch]))
                bar.update(len(batch))
                done += len(batch)
                if on_progress:
                    on_progress(done, total)
            if missing:  # the whole document at once, only when every vector is ready
                collection.upsert(
                    ids=[r.id for r in missing],
                    embeddings=vectors,
                    documents=[r.text for r in missing],
                    metadatas=[r.chroma_metadata() for r in missing],
                )
            stale = have_by_doc.get(doc_id, set()) - {r.id for r in doc_records}
            if stale:
                collection.delete(ids=sorted(stale))
    gone = [i for doc, ids in have_by_doc.items() if doc not in want_by_doc for i in ids]
    if gone:
        collection.delete(ids=gone)
    if todo or gone:
        bump_generation(settings.data_dir)
    return done


def sentence_phase(settings: Settings, records: list[ChunkRecord], progress: bool | None = None) -> int:
    """Embed every quotable sentence of the records that the cache lacks (the answer's semantic evidence reads
    them from the cache); returns how many were embedded."""
    embeddings = get_embeddings(settings)
    texts = list(dict.fromkeys(t for r in records for t in sentence_texts(r.text)))
    have = embeddings.cached(texts)
    missing = [t for t in texts if t not in have]
    with tqdm(total=len(missing), desc="Lauseiden upotukset", unit=" lause", disable=_quiet(progress),
              file=sys.stderr) as bar:
        for start in range(0, len(missing), SENTENCE_BATCH):
            batch = missing[start : start + SENTENCE_BATCH]
            embeddings.embed_documents(batch)
            bar.update(len(batch))
    return len(missing)


def dense_is_current(settings: Settings, records: list[ChunkRecord] | None = None) -> bool:
    """True when Chroma holds exactly the chunk records (cheap check on ids)."""
    records = RecordStore(settings.data_dir).load() if records is None else records
    ids = set(chroma_collection(settings).get(include=[])["ids"])
    return ids == {r.id for r in records}


def reset_store(settings: Settings) -> None:
    """Forget everything this data directory holds for the corpus (the embedding cache stays)."""
    client = chroma_client(settings)
    if settings.collection_name in [c.name if hasattr(c, "name") else c for c in client.list_collections()]:
        client.delete_collection(settings.collection_name)
    shutil.rmtree(settings.data_dir / "index", ignore_errors=True)


def ingest(settings: Settings, paths: list[Path] | None = None, rebuild: bool = False, progress: bool | None = None) -> IngestReport:
    """Both phases, one after the other: the command-line ingest."""
    started = time.perf_counter()
    report, records = lexical_phase(settings, paths or [settings.corpus_dir], rebuild, progress)
    report.embedded = dense_phase(settings, records, progress)
    report.sentences_embedded = sentence_phase(settings, records, progress)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _quiet(progress: bool | None) -> bool | None:
    """tqdm's ``disable``: None shows a bar only on a terminal."""
    return None if progress is None else not progress
