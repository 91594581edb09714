"""The chunk store: Chroma for vectors (embedded on disk, or a ``chroma run`` server) and the chunk records.

A finished ingest writes a new *generation* marker last, so that every process reading the same data directory
(the app's workers, the admin page, the command line) can see cheaply that it should load the store again.

Chroma never embeds anything itself here: every write carries our vectors and every query our query vector,
so its default embedding function (which would try to download a model) is never used.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import chromadb
from chromadb.config import Settings as ChromaSettings

from bot.settings import Settings


@dataclass
class ChunkRecord:
    """One chunk as stored: its text, where it comes from, and its lemmas for lexical search."""

    id: str
    text: str
    doc_id: str
    title: str
    chunk_index: int
    page: int | None = None
    headings: str = ""
    municipality: str | None = None
    doc_type: str = "muu"
    date: str | None = None
    source_url: str | None = None
    file_hash: str = ""
    lemmas: list[str] = field(default_factory=list)
    embedding_text: str = ""
    checked: str | None = None  # when the document's facts were last checked (front matter or sources.toml)

    def chroma_metadata(self) -> dict[str, str | int]:
        """Chroma metadata holds scalars only: None becomes "" (or -1 for the page)."""
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "chunk_index": self.chunk_index,
            "page": -1 if self.page is None else self.page,
            "headings": self.headings,
            "municipality": self.municipality or "",
            "doc_type": self.doc_type,
            "date": self.date or "",
            "source_url": self.source_url or "",
            "file_hash": self.file_hash,
            "checked": self.checked or "",
        }


def chroma_client(settings: Settings) -> chromadb.ClientAPI:
    """An embedded client under the data directory, or an HTTP client when CHROMA_HOST is set."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
    path = settings.data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def chroma_collection(settings: Settings, client: chromadb.ClientAPI | None = None):
    return (client or chroma_client(settings)).get_or_create_collection(
        settings.collection_name, metadata={"hnsw:space": "cosine"}, embedding_function=None
    )


class RecordStore:
    """The chunk records of one data directory: the source of truth for the lexical index and for ingest.

    Saved as one JSON-lines file, replaced atomically, so a crash leaves either the old or the new state.
    """

    def __init__(self, data_dir: Path):
        self.path = data_dir / "index" / "chunks.jsonl"

    def load(self) -> list[ChunkRecord]:
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as fh:
            return [ChunkRecord(**json.loads(line)) for line in fh if line.strip()]

    def save(self, records: list[ChunkRecord]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            for record in records:
                fh.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(self.path)


def _generation_file(data_dir: Path) -> Path:
    return data_dir / "index" / "generation"


def bump_generation(data_dir: Path) -> None:
    """Tell every reader of this data directory that the store changed (written atomically, after the change)."""
    path = _generation_file(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(uuid.uuid4().hex, encoding="utf-8")
    tmp.replace(path)


def current_generation(data_dir: Path) -> str:
    """The marker of the last finished change; "" before the first one."""
    try:
        return _generation_file(data_dir).read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
