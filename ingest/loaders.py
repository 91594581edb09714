"""Loaders: one corpus file in, a list of text blocks with metadata out.

Each loader yields ``Block``s (a paragraph or list item, its heading path and, for PDFs, its page), and
``load_document`` wraps them with the document's metadata. Anything that cannot be read raises ``LoadError``
with a reason a person can act on; the pipeline reports it and goes on with the other files.
"""

from __future__ import annotations

import codecs
import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit

import yaml

from bot.municipalities import normalize_municipality

DOC_TYPES = ("tietopaketti", "materiaali", "kuntatiivistelmä", "muu")


class LoadError(Exception):
    """A file that cannot be ingested; the message is the reason shown to the operator."""


@dataclass
class Block:
    text: str
    headings: tuple[str, ...] = ()
    page: int | None = None


@dataclass
class LoadedDocument:
    doc_id: str
    metadata: dict[str, str | None]
    blocks: list[Block]
    pages: int = 0
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- metadata


def located(path: Path) -> Path:
    """The absolute path with its folders resolved but not the file itself: a link keeps its own name and place."""
    path = path.absolute()
    return path.parent.resolve() / path.name


def doc_id_for(path: Path, corpus_root: Path) -> str:
    """Stable id: the path relative to the corpus root, with forward slashes."""
    try:
        return located(path).relative_to(corpus_root.resolve()).as_posix()
    except ValueError:
        return path.name


def public_url(value: object) -> str | None:
    """An http(s) address, or None: ``javascript:``, ``file:`` and the like never become links."""
    text = str(value).strip() if value else ""
    parts = urlsplit(text)
    return text if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def read_sidecar(corpus_root: Path) -> dict[str, dict]:
    """Metadata for files without front matter, from ``corpus/sources.toml`` (path -> fields)."""
    sidecar = corpus_root / "sources.toml"
    if not sidecar.exists():
        return {}
    with sidecar.open("rb") as fh:
        return tomllib.load(fh)


def title_from_filename(path: Path) -> str:
    words = re.sub(r"[-_]+", " ", path.stem).strip()
    return words[:1].upper() + words[1:] if words else path.name


def build_metadata(path: Path, doc_id: str, declared: dict) -> dict[str, str | None]:
    """The metadata every chunk carries; declared values win, the file name is the last resort."""
    doc_type = str(declared.get("doc_type") or "muu").strip().lower().replace("kuntatiivistelma", "kuntatiivistelmä")
    municipality = declared.get("municipality")
    return {
        "doc_id": doc_id,
        "title": str(declared.get("title") or title_from_filename(path)),
        "source_url": public_url(declared.get("source_url")),
        "municipality": normalize_municipality(str(municipality)) if municipality else None,
        "doc_type": doc_type if doc_type in DOC_TYPES else "muu",
        "date": str(declared["date"]) if declared.get("date") else None,
        "checked": str(declared["checked"]) if declared.get("checked") else None,
    }


# ---------------------------------------------------------------- text decoding


# Byte-order marks of the Unicode encodings other than UTF-8 (UTF-32 first: its LE mark starts like UTF-16's).
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_text(data: bytes) -> tuple[str, list[str]]:
    """UTF-16/32 when the text starts with their byte-order mark (Windows "Unicode" exports), UTF-8, or cp1252
    (old Windows exports) with a note; raises LoadError when none fits."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), []
            except UnicodeDecodeError as exc:
                raise LoadError(f"text starts with a {codec.upper()} byte-order mark but is not {codec.upper()} "
                                f"(byte {exc.start})") from exc
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), ["not UTF-8: read as cp1252"]
    except UnicodeDecodeError as exc:
        raise LoadError(f"text is neither UTF-8 nor cp1252 (byte {exc.start})") from exc


# ---------------------------------------------------------------- Markdown

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.S)
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")


def split_front_matter(text: str) -> tuple[dict, str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        data = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise LoadError(f"front matter is not valid YAML: {exc.problem if hasattr(exc, 'problem') else exc}") from exc
    if not isinstance(data, dict):
        raise LoadError("front matter is not a key: value block")
    return data, text[match.end() :]


def _plain_inline(text: str) -> str:
    return _MD_EMPHASIS.sub("", _MD_LINK.sub(r"\1", text)).strip()


def markdown_blocks(body: str) -> Iterator[Block | tuple[int, str]]:
    """Paragraphs and list items as Blocks; headings as (level, title) markers."""
    paragraph: list[str] = []

    def flush() -> Iterator[Block]:
        if paragraph:
            yield Block(_plain_inline(" ".join(paragraph)))
            paragraph.clear()

    for line in body.splitlines():
        heading = _MD_HEADING.match(line)
        if heading:
            yield from flush()
            yield len(heading.group(1)), _plain_inline(heading.group(2))
        elif not line.strip():
            yield from flush()
        elif _MD_LIST.match(line):
            yield from flush()
            paragraph.append(_MD_LIST.sub("", line))
        else:
            paragraph.append(line.strip())
    yield from flush()


def with_heading_paths(items: Iterator[Block | tuple[int, str]], skip_level_one: bool) -> tuple[list[Block], str | None]:
    """Attach to each block the headings above it; returns the blocks and the first level-1 heading."""
    stack: list[tuple[int, str]] = []
    blocks: list[Block] = []
    first_title = None
    for item in items:
        if isinstance(item, tuple):
            level, title = item
            if level == 1 and first_title is None:
                first_title = title
                if skip_level_one:
                    continue
            stack = [(lvl, t) for lvl, t in stack if lvl < level] + [(level, title)]
        elif item.text:
            item.headings = tuple(t for _, t in stack)
            blocks.append(item)
    return blocks, first_title


def load_markdown(path: Path, data: bytes) -> tuple[list[Block], dict, int, list[str]]:
    text, notes = decode_text(data)
    front, body = split_front_matter(text)
    blocks, h1 = with_heading_paths(markdown_blocks(body), skip_level_one=True)
    if h1 and "title" not in front:
        front["title"] = h1
    return blocks, front, 0, notes


# ---------------------------------------------------------------- plain text


def load_text(path: Path, data: bytes) -> tuple[list[Block], dict, int, list[str]]:
    text, notes = decode_text(data)
    paragraphs = [re.sub(r"\s+", " ", p).strip() for p in re.split(r"\n\s*\n", text)]
    return [Block(p) for p in paragraphs if p], {}, 0, notes


# ---------------------------------------------------------------- HTML

_HTML_NOISE = ("script", "style", "nav", "header", "footer", "aside", "form", "noscript", "template", "svg")
_HTML_TEXT = ("h1", "h2", "h3", "h4", "p", "li", "blockquote", "pre", "td", "dd", "figcaption")


def load_html(path: Path, data: bytes) -> tuple[list[Block], dict, int, list[str]]:
    """Main text only: navigation, headers, footers and scripts are dropped."""
    from bs4 import BeautifulSoup

    text, notes = decode_text(data)
    soup = BeautifulSoup(text, "html.parser")
    declared = {}
    if soup.title and soup.title.string:
        declared["title"] = soup.title.string.strip()
    for tag in soup(_HTML_NOISE):
        tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup

    def items() -> Iterator[Block | tuple[int, str]]:
        for element in root.find_all(_HTML_TEXT):
            if element.find_parent(_HTML_TEXT[4:]):
                continue  # nested inside another text element: its text is already taken
            content = re.sub(r"\s+", " ", element.get_text(" ")).strip()
            if not content:
                continue
            yield (int(element.name[1]), content) if element.name in _HTML_TEXT[:4] else Block(content)

    blocks, h1 = with_heading_paths(items(), skip_level_one=True)
    if h1:
        declared["title"] = h1
    return blocks, declared, 0, notes


# ---------------------------------------------------------------- DOCX


def load_docx(path: Path, data: bytes) -> tuple[list[Block], dict, int, list[str]]:
    import io
    import zipfile
    import zlib

    import docx
    from docx.exceptions import PythonDocxError
    from docx.opc.exceptions import OpcError
    from lxml.etree import LxmlError

    # python-docx parses parts lazily, so damage can surface anywhere while reading, as any of these.
    damaged = (zipfile.BadZipFile, zlib.error, KeyError, ValueError, AttributeError, LxmlError, OpcError, PythonDocxError)
    try:
        document = docx.Document(io.BytesIO(data))
        blocks, h1 = with_heading_paths(docx_items(document), skip_level_one=True)
        title = document.core_properties.title or h1
    except damaged as exc:
        raise LoadError(f"corrupt DOCX: {type(exc).__name__}: {exc}") from exc
    return blocks, {"title": title} if title else {}, 0, []


def docx_items(document) -> Iterator[Block | tuple[int, str]]:
    """Paragraphs (headings by their style) and then table rows of a python-docx Document."""
    for paragraph in document.paragraphs:
        content = paragraph.text.strip()
        style = (paragraph.style.name or "").lower() if paragraph.style is not None else ""
        level = re.search(r"(?:heading|otsikko)\s*(\d)", style)
        if not content:
            continue
        if style == "title":
            yield 1, content
        elif level:
            yield int(level.group(1)) + 1, content
        else:
            yield Block(content)
    for table in document.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells if c.text.strip()]
            if cells:
                yield Block(" | ".join(cells))


# ---------------------------------------------------------------- PDF

_PAGE_NUMBER = re.compile(r"^\s*(?:[-–—]\s*)?(?:sivu\s+|s\.\s*|page\s+)?\d{1,4}(?:\s*(?:/|\(|of|-)\s*\d{1,4}\)?)?(?:\s*[-–—])?\s*$", re.I)
_PDF_HEADING = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*\.?|[IVX]{1,4}\.)\s+[A-ZÅÄÖ].*[^.!?:;,]$")
# Unnumbered headings that reports use at the top level.
_PDF_PLAIN_HEADINGS = frozenset({"johdanto", "lähteet", "tiivistelmä", "esipuhe", "liitteet", "sisällys", "lopuksi"})
_HYPHEN_BREAK = re.compile(r"(?<=[a-zåäö])-\n(?=[a-zåäö])")


def _normalise_running_line(line: str) -> str:
    return re.sub(r"\d+", "#", line.strip().lower())


def running_lines(pages: list[list[str]]) -> set[str]:
    """Lines repeated at the top or bottom of most pages: running headers and footers."""
    if len(pages) < 3:
        return set()
    counts: Counter[str] = Counter()
    for lines in pages:
        edges = {_normalise_running_line(l) for l in lines[:2] + lines[-2:] if l.strip()}
        counts.update(edges)
    return {line for line, n in counts.items() if n >= max(3, len(pages) // 2)}


def pdf_page_blocks(page_text: str, page: int, repeated: set[str], headings: list[str]) -> list[Block]:
    """Clean one page: drop running lines and page numbers, rejoin hyphenated words, find headings."""
    text = _HYPHEN_BREAK.sub("", page_text)
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block(" ".join(paragraph), tuple(headings), page))
            paragraph.clear()

    previous_was_heading = False
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if not line or _PAGE_NUMBER.match(line) or _normalise_running_line(line) in repeated:
            flush()
            continue
        if previous_was_heading and line[0].islower() and not line.endswith((".", ",", ":", ";")):
            headings[-1] = f"{headings[-1]} {line}"  # a long heading wrapped onto a second line
            continue
        plain_heading = line.lower() in _PDF_PLAIN_HEADINGS
        previous_was_heading = plain_heading or (bool(_PDF_HEADING.match(line)) and len(line.split()) <= 12)
        if previous_was_heading:
            flush()
            depth = 1 if plain_heading else line.split()[0].rstrip(".").count(".") + 1
            del headings[depth - 1 :]
            headings.append(line)
            continue
        if line.startswith(("•", "- ", "– ")):
            flush()
            line = line.lstrip("•-– ").strip()
        paragraph.append(line)
    flush()
    return blocks


def load_pdf(path: Path, data: bytes) -> tuple[list[Block], dict, int, list[str]]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError("encrypted PDF: needs a password")
        raw_pages = [page.extract_text() or "" for page in reader.pages]
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise LoadError(f"corrupt or truncated PDF: {exc}") from exc
    except Exception as exc:  # pypdf raises many internal types on damaged files; none may stop the run
        if "crypt" in str(exc).lower():
            raise LoadError(f"encrypted PDF: {exc}") from exc
        raise LoadError(f"corrupt or truncated PDF: {type(exc).__name__}: {exc}") from exc
    if not raw_pages:
        raise LoadError("corrupt or truncated PDF: no pages")
    if sum(len(t.strip()) for t in raw_pages) < 20:
        raise LoadError("no text layer: needs OCR")
    repeated = running_lines([t.splitlines() for t in raw_pages])
    headings: list[str] = []
    blocks = [b for number, text in enumerate(raw_pages, 1) for b in pdf_page_blocks(text, number, repeated, headings)]
    try:  # pypdf parses the info dictionary only now; damage there costs the title, not the text
        title = reader.metadata.title if reader.metadata else None
    except Exception as exc:  # the same internal error types as above
        return blocks, {}, len(raw_pages), [f"PDF metadata unreadable ({type(exc).__name__}): title from the file name"]
    return blocks, {"title": str(title)} if title else {}, len(raw_pages), []


# ---------------------------------------------------------------- entry point

# Source lists are kept in the files for readers but not indexed: they would match every question.
REFERENCE_SECTIONS = frozenset({"lähteet", "lähdeluettelo", "sisällys", "sisällysluettelo"})


def _in_reference_list(block: Block) -> bool:
    return any(h.strip().lower() in REFERENCE_SECTIONS for h in block.headings)


LOADERS: dict[str, Callable[[Path, bytes], tuple[list[Block], dict, int, list[str]]]] = {
    ".pdf": load_pdf,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".html": load_html,
    ".htm": load_html,
    ".txt": load_text,
    ".docx": load_docx,
}


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.1f} kB"


def load_document(path: Path, corpus_root: Path, sidecar: dict[str, dict], max_bytes: int) -> LoadedDocument:
    """Read one file into blocks with metadata, or raise LoadError saying why it cannot be used."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise LoadError(f"unsupported file type '{path.suffix or path.name}'")
    size = path.stat().st_size
    if size == 0:
        raise LoadError("empty file")
    if size > max_bytes:
        raise LoadError(f"file too large: {_size(size)} (limit {_size(max_bytes)})")
    doc_id = doc_id_for(path, corpus_root)
    blocks, declared, pages, notes = loader(path, path.read_bytes())
    blocks = [b for b in blocks if not _in_reference_list(b)]
    if not any(b.text.strip() for b in blocks):
        raise LoadError("no text found")
    side = sidecar.get(doc_id, {})
    # Front matter is the document's own word; for other files the sidecar beats embedded titles.
    merged = {**side, **declared} if loader is load_markdown else {**declared, **side}
    metadata = build_metadata(path, doc_id, merged)
    if merged.get("source_url") and metadata["source_url"] is None:
        notes = [*notes, "source_url left out: only http(s) addresses are linked"]
    return LoadedDocument(doc_id, metadata, blocks, pages, notes)
