"""The corpus as the admin page manages it: what is in it, adding and removing documents, and running ingest.

An upload is accepted only when its name is safe, its extension is one the loaders read, its bytes are what the
extension says, it is within ``max_file_mb``, and the loader can actually read text from it; so a file the
admin saves is a file the next ingest takes in. Its metadata goes into the Markdown front matter, or into
``corpus/sources.toml`` for every other type. Ingest runs in a background thread; its progress and its last
report are kept as JSON in the data directory, so that every app process (and a restarted one) can show them.
"""

from __future__ import annotations

import fcntl
import io
import json
import logging
import os
import re
import tempfile
import threading
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import tomlkit
import yaml

from bot.municipalities import normalize_municipality
from bot.service import BotService
from bot.settings import Settings
from bot.store import RecordStore
from ingest.loaders import DOC_TYPES, LOADERS, LoadError, decode_text, load_document, split_front_matter
from ingest.pipeline import dense_phase, discover, lexical_phase, sentence_phase

log = logging.getLogger(__name__)

REPORT_FILE = "ingest-report.json"
LOCK_FILE = "ingest.lock"
SIDECAR = "sources.toml"
MAX_NAME_CHARS = 80
_SAFE_NAME = re.compile(r"^[a-z0-9åäö][a-z0-9åäö_-]*$")
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_HTML_TAG = re.compile(rb"<\s*(!doctype|html|head|body|main|article|p|h[1-6]|div|section|ul|ol|table)\b", re.I)
_sidecar_lock = threading.Lock()


class UploadError(ValueError):
    """An upload that is refused; the message is Finnish, for the admin, and ``status`` the HTTP status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


# ---------------------------------------------------------------- names and metadata


def safe_name(raw: str) -> str:
    """A file or folder name reduced to lower-case letters, digits, '-' and '_' (Finnish letters kept), or ''."""
    name = unicodedata.normalize("NFC", raw).strip().lower()
    name = re.sub(r"[\s.]+", "-", name)
    name = re.sub(r"[^a-z0-9åäö_-]", "", name)
    name = re.sub(r"-{2,}", "-", name).strip("-_")
    return name[:MAX_NAME_CHARS] if _SAFE_NAME.match(name) else ""


def upload_path(settings: Settings, folder: str, filename: str) -> Path:
    """corpus/<folder>/<name>.<ext> for an uploaded file name, or UploadError."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, ext = base.rpartition(".")
    suffix = f".{ext.lower()}" if dot else ""
    if suffix not in LOADERS:
        raise UploadError("Tiedostotyyppiä ei tueta: lähetä PDF, DOCX, Markdown (.md), teksti (.txt) tai HTML.", 415)
    folder_name, stem_name = safe_name(folder), safe_name(stem)
    if not folder_name:
        raise UploadError("Kansion nimessä saa olla vain kirjaimia, numeroita, väliviivoja ja alaviivoja.")
    if not stem_name:
        raise UploadError("Tiedoston nimessä pitää olla kirjaimia tai numeroita.")
    path = settings.corpus_dir / folder_name / f"{stem_name}{suffix}"
    if not discover([path], settings)[0]:
        raise UploadError("Tähän kansioon tai tällä nimellä tallennettua tiedostoa ei lueta aineistoon.")
    return path


@dataclass
class DocumentMeta:
    """What the admin tells about a document; every field is optional except the document type."""

    title: str = ""
    municipality: str = ""
    doc_type: str = "muu"
    date: str = ""
    source_url: str = ""
    checked: str = ""  # when someone last checked that the document is current (ISO date)

    def validated(self) -> dict[str, str]:
        """The non-empty fields, normalised, or UploadError naming what is wrong."""
        values = {k: " ".join(str(v).split()) for k, v in self.__dict__.items()}
        if values["title"] and len(values["title"]) > 300:
            raise UploadError("Otsikko on liian pitkä (enintään 300 merkkiä).")
        if values["municipality"]:
            known = normalize_municipality(values["municipality"])
            if not known:
                raise UploadError("Tuntematon kunta: valitse Keski-Suomen kunta tai koko maakunta.")
            values["municipality"] = known
        if values["doc_type"] not in DOC_TYPES:
            raise UploadError("Tuntematon asiakirjatyyppi.")
        for name, label in (("date", "Päivämäärä"), ("checked", "Tarkistuspäivä")):
            if values[name] and not _DATE.match(values[name]):
                raise UploadError(f"{label} muodossa VVVV, VVVV-KK tai VVVV-KK-PP.")
        if values["source_url"] and not re.match(r"^https?://[^\s<>\"']+$", values["source_url"]):
            raise UploadError("Lähteen osoitteen pitää alkaa http:// tai https://.")
        return {k: v for k, v in values.items() if v}


# ---------------------------------------------------------------- content checks


def check_content(suffix: str, data: bytes) -> None:
    """UploadError unless the bytes are what the extension says (the name alone proves nothing)."""
    if suffix == ".pdf":
        ok = data.startswith(b"%PDF-")
    elif suffix == ".docx":
        ok = _is_docx(data)
    else:
        ok = b"\x00" not in data and not data.startswith((b"%PDF-", b"PK\x03\x04")) and _decodes(data)
        if ok and suffix in (".html", ".htm"):
            ok = bool(_HTML_TAG.search(data[:65536]))
    if not ok:
        raise UploadError(f"Tiedoston sisältö ei vastaa päätettä {suffix}.", 415)


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError):
        return False
    return {"[Content_Types].xml", "word/document.xml"} <= names


def _decodes(data: bytes) -> bool:
    try:
        decode_text(data)
    except LoadError:
        return False
    return True


def readable_text(path: Path, settings: Settings, data: bytes) -> None:
    """UploadError with the loader's reason unless the loader finds text in the file."""
    with tempfile.TemporaryDirectory() as tmp:
        trial = Path(tmp) / path.name
        trial.write_bytes(data)
        try:
            load_document(trial, Path(tmp), {}, int(settings.max_file_mb * 1_000_000))
        except LoadError as exc:
            raise UploadError(f"Tiedostosta ei saatu tekstiä: {exc}", 422) from exc


# ---------------------------------------------------------------- saving and removing


def with_front_matter(data: bytes, meta: dict[str, str]) -> bytes:
    """Markdown with the admin's metadata in its front matter (over what the file declared itself)."""
    text, _ = decode_text(data)
    try:
        declared, body = split_front_matter(text)
    except LoadError:
        declared, body = {}, text
    merged = {**declared, **meta}
    return ("---\n" + yaml.safe_dump(merged, allow_unicode=True, sort_keys=False) + "---\n" + body).encode("utf-8")


def save_upload(settings: Settings, folder: str, filename: str, data: bytes, meta: DocumentMeta,
                replace: bool = False) -> str:
    """Check and save one uploaded document with its metadata; returns its document id."""
    path = upload_path(settings, folder, filename)
    values = meta.validated()
    if len(data) > settings.max_file_mb * 1_000_000:
        raise UploadError(f"Tiedosto on liian suuri (enintään {settings.max_file_mb:g} Mt).", 413)
    if not data:
        raise UploadError("Tiedosto on tyhjä.")
    check_content(path.suffix, data)
    if path.exists() and not replace:
        raise UploadError("Samanniminen tiedosto on jo olemassa. Valitse ”Korvaa” tai anna toinen nimi.", 409)
    is_markdown = LOADERS[path.suffix] is LOADERS[".md"]
    content = with_front_matter(data, values) if is_markdown else data
    readable_text(path, settings, content)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, content)
    doc_id = path.relative_to(settings.corpus_dir).as_posix()
    update_sidecar(settings.corpus_dir, doc_id, None if is_markdown else values)
    return doc_id


def remove_document(settings: Settings, doc_id: str) -> None:
    """Delete a corpus file and its sources.toml entry (its chunks go with the next ingest)."""
    path = document_path(settings, doc_id)
    if path is None:
        raise UploadError("Asiakirjaa ei löydy.", 404)
    path.unlink(missing_ok=True)
    update_sidecar(settings.corpus_dir, doc_id, None)


def document_path(settings: Settings, doc_id: str) -> Path | None:
    """The corpus file of a listed document (a file or only chunks left in the store); anything else None."""
    if doc_id not in {d.doc_id for d in corpus_documents(settings)}:
        return None
    corpus = settings.corpus_dir.resolve()
    path = (corpus / doc_id).resolve()
    return path if corpus in path.parents else None


def update_sidecar(corpus_dir: Path, doc_id: str, values: dict[str, str] | None) -> None:
    """Set (or with None remove) a document's entry in sources.toml, keeping the file's comments."""
    sidecar = corpus_dir / SIDECAR
    with _sidecar_lock:
        document = tomlkit.parse(sidecar.read_text(encoding="utf-8")) if sidecar.exists() else tomlkit.document()
        if values is None and doc_id not in document:
            return
        if values is None:
            del document[doc_id]
        else:
            table = tomlkit.table()
            table.update(values)
            document[doc_id] = table
        _write_atomically(sidecar, tomlkit.dumps(document).encode("utf-8"))


def _write_atomically(path: Path, content: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(content)
    tmp.replace(path)


# ---------------------------------------------------------------- what the corpus holds


@dataclass
class CorpusDocument:
    doc_id: str
    title: str = ""
    municipality: str | None = None
    doc_type: str = ""
    chunks: int = 0
    on_disk: bool = False
    skipped: str | None = None  # the reason the last ingest gave


def corpus_documents(settings: Settings, report: dict | None = None) -> list[CorpusDocument]:
    """Every document that is on disk or in the store, with its chunk count and any reason it was skipped."""
    documents: dict[str, CorpusDocument] = {}
    counts = Counter()
    for record in RecordStore(settings.data_dir).load():
        counts[record.doc_id] += 1
        documents.setdefault(record.doc_id, CorpusDocument(record.doc_id, record.title, record.municipality,
                                                           record.doc_type))
    for source in discover([settings.corpus_dir], settings)[0]:
        documents.setdefault(source.doc_id, CorpusDocument(source.doc_id)).on_disk = True
    corpus = settings.corpus_dir.resolve()
    for skipped in (report or {}).get("skipped", []):
        doc_id = _relative(Path(skipped["path"]), corpus)
        if doc_id in documents:
            documents[doc_id].skipped = skipped["reason"]
    for doc_id, document in documents.items():
        document.chunks = counts[doc_id]
    return sorted(documents.values(), key=lambda d: d.doc_id)


def _relative(path: Path, corpus: Path) -> str:
    try:
        return path.resolve().relative_to(corpus).as_posix()
    except ValueError:
        return path.as_posix()


def corpus_folders(settings: Settings) -> list[str]:
    """Existing top-level folders that ingest reads, for the upload form."""
    if not settings.corpus_dir.is_dir():
        return []
    return sorted(p.name for p in settings.corpus_dir.iterdir()
                  if p.is_dir() and safe_name(p.name) == p.name and upload_candidate(settings, p.name))


def upload_candidate(settings: Settings, folder: str) -> bool:
    return bool(discover([settings.corpus_dir / folder / "x.md"], settings)[0])


# ---------------------------------------------------------------- ingest in the background


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class IngestState:
    """Progress of the running (or the last) ingest, as written to REPORT_FILE."""

    state: str = "idle"  # idle | running | done | failed
    phase: str = ""  # lexical | dense
    done: int = 0
    total: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None
    report: dict = field(default_factory=dict)


class IngestJob:
    """Runs one ingest at a time over the whole corpus and tells the service to pick up the result.

    A lock file in the data directory keeps two app processes from ingesting the same store at once.
    """

    def __init__(self, service: BotService):
        self.service = service
        self.settings = service.settings
        self._thread: threading.Thread | None = None
        self._lock_fd: int | None = None

    @property
    def path(self) -> Path:
        return self.settings.data_dir / REPORT_FILE

    def state(self) -> IngestState:
        """The last state written by any process; 'running' with nobody holding the lock means it died."""
        try:
            state = IngestState(**json.loads(self.path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return IngestState()
        if state.state == "running" and not self.running() and self._lock_is_free():
            state.state, state.error = "failed", "keskeytyi"
        return state

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> bool:
        """Start an ingest; False when one is already running here, in another process or at start-up."""
        if self.running() or self.service.preparing or not self._take_lock():
            return False
        state = IngestState(state="running", phase="lexical", started_at=_now())
        self._write(state)
        self._thread = threading.Thread(target=self._run, args=(state,), name="admin-ingest", daemon=True)
        self._thread.start()
        return True

    def _run(self, state: IngestState) -> None:
        try:
            report, records = lexical_phase(self.settings, [self.settings.corpus_dir], progress=False)
            state.phase, state.report = "dense", report.as_json()
            self._write(state)

            def progress(done: int, total: int) -> None:
                state.done, state.total = done, total
                self._write(state)

            report.embedded = dense_phase(self.settings, records, progress=False, on_progress=progress)
            report.sentences_embedded = sentence_phase(self.settings, records, progress=False)
            state.report = report.as_json()
            self._refresh_service()
            state.state = "done"
        except Exception as exc:  # the admin sees why on the page; the store keeps what it had
            log.exception("admin ingest failed")
            state.state, state.error = "failed", str(exc) or type(exc).__name__
        finally:
            state.finished_at = _now()
            self._write(state)
            self._release_lock()

    def _refresh_service(self) -> None:
        answerer = self.service.answerer
        answerer.reload()
        self.service.status.chunks = len(answerer.retriever.records)
        self.service.status.dense_ready = answerer.retriever.dense_ready()

    def _write(self, state: IngestState) -> None:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        _write_atomically(self.path, json.dumps(state.__dict__, ensure_ascii=False).encode("utf-8"))

    # ------------------------------------------------------------ the lock between processes

    def _take_lock(self) -> bool:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.settings.data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def _lock_is_free(self) -> bool:
        if not self._take_lock():
            return False
        self._release_lock()
        return True
