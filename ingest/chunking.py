"""Chunking for Finnish: whole sentences, within headings, 150–300 words with a small overlap.

A chunk never starts mid-sentence (so a quoted passage reads as the author wrote it), never spans two
sections (so its heading path is true), and carries enough context in ``embedding_text`` (title and
headings) to be found on its own.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from bot.finnish import split_sentences
from ingest.loaders import Block


@dataclass(frozen=True)
class Chunk:
    index: int
    text: str
    headings: tuple[str, ...]
    page: int | None
    # last headings of further sections merged into this chunk (short sections share a chunk)
    also_under: tuple[str, ...] = ()

    @property
    def heading_path(self) -> str:
        return " > ".join(self.headings)

    def chunk_id(self, doc_id: str) -> str:
        """Stable id: the same text at the same place gets the same id on every run."""
        digest = hashlib.sha1(self.text.encode("utf-8")).hexdigest()[:12]
        return f"{doc_id}#{self.index}-{digest}"


@dataclass(frozen=True)
class _Sentence:
    text: str
    headings: tuple[str, ...]
    page: int | None

    @property
    def words(self) -> int:
        return len(self.text.split())


def _sentences(blocks: list[Block], max_words: int) -> list[_Sentence]:
    """Sentences of all blocks; an over-long 'sentence' (a table row, a list) is cut at max_words."""
    out = []
    for block in blocks:
        for sentence in split_sentences(block.text):
            tokens = sentence.split()
            for start in range(0, len(tokens), max_words):
                out.append(_Sentence(" ".join(tokens[start : start + max_words]), block.headings, block.page))
    return out


def _sections(sentences: list[_Sentence]) -> list[list[_Sentence]]:
    groups: list[list[_Sentence]] = []
    for sentence in sentences:
        if groups and groups[-1][0].headings == sentence.headings:
            groups[-1].append(sentence)
        else:
            groups.append([sentence])
    return groups


def _merge_short_sections(sections: list[list[_Sentence]], min_words: int, max_words: int) -> list[list[_Sentence]]:
    """A section too short to stand alone joins the next one while both fit in one chunk."""
    merged: list[list[_Sentence]] = []
    for section in sections:
        previous = merged[-1] if merged else None
        size = sum(s.words for s in previous) if previous else 0
        if previous is not None and size < min_words and size + sum(s.words for s in section) <= max_words:
            previous.extend(section)
        else:
            merged.append(list(section))
    return merged


def _overlap(sentences: list[_Sentence], overlap_words: int) -> list[_Sentence]:
    """The last sentences of a chunk, up to overlap_words, to open the next one."""
    tail: list[_Sentence] = []
    for sentence in reversed(sentences):
        if sum(s.words for s in tail) + sentence.words > overlap_words:
            break
        tail.insert(0, sentence)
    return tail if len(tail) < len(sentences) else []


def chunk_blocks(blocks: list[Block], min_words: int = 150, max_words: int = 300, overlap_words: int = 40) -> list[Chunk]:
    """Pack sentences into chunks of min_words..max_words words, never across a section boundary."""
    target = (min_words + max_words) // 2
    chunks: list[Chunk] = []
    for section in _merge_short_sections(_sections(_sentences(blocks, max_words)), min_words, max_words):
        current: list[_Sentence] = []
        fresh = 0  # words in current that are not overlap from the previous chunk
        for sentence in section:
            size = sum(s.words for s in current)
            if fresh and size + sentence.words > max_words or (fresh and size >= target):
                chunks.append(_make_chunk(len(chunks), current))
                current = _overlap(current, overlap_words)
                fresh = 0
            current.append(sentence)
            fresh += sentence.words
        if fresh:
            chunks.append(_make_chunk(len(chunks), current))
    return chunks


def _make_chunk(index: int, sentences: list[_Sentence]) -> Chunk:
    first = sentences[0]
    page = next((s.page for s in sentences if s.page is not None), None)
    others = dict.fromkeys(s.headings[-1] for s in sentences if s.headings and s.headings != first.headings)
    return Chunk(index, " ".join(s.text for s in sentences), first.headings, page, tuple(others))


def embedding_text(title: str, chunk: Chunk) -> str:
    """What is embedded and indexed: the chunk with its document title and heading path as context."""
    context = " > ".join((title, *chunk.headings))
    if chunk.also_under:
        context += " | " + " | ".join(chunk.also_under)
    return f"{context}\n{chunk.text}"
