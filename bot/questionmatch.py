"""When are two questions the same question? Used to reuse reviewed answers and to group content gaps.

Two questions match when they name the same municipalities and the same numbers (years, amounts), share at
least one word stem, and their embeddings (the configured model, e5's symmetric ``query:`` side) are close.
The cheap checks come first, so an unrelated question is never embedded for the comparison. The embedding alone cannot tell
"Laukaan päästöt 2021" from "Joutsan päästöt 2022"; the named facts can. The threshold is calibrated on the
paraphrase pairs in tests/test_reviewed.py.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

import numpy as np
from langchain_core.embeddings import Embeddings

from bot.finnish import STOPWORDS, words
from bot.municipalities import find_municipalities

SAME_QUESTION = 0.905  # cosine of the query vectors (multilingual-e5-small); see tests/test_reviewed.py
CACHE_SIZE = 4096
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
STEM_LETTERS = 5  # "rahoitusta" and "rahoitus" share "rahoi"; Finnish endings rarely reach further in


def numbers(text: str) -> frozenset[str]:
    """The numbers a question names ("2021", "35", "1,5"); a different year makes a different question."""
    return frozenset(n.replace(",", ".") for n in _NUMBER.findall(text))


def stems(text: str) -> frozenset[str]:
    """The first letters of the question's longer words other than question words ("mistä", "miten")."""
    lowered = (w.lower() for w in words(text))
    return frozenset(w[:STEM_LETTERS] for w in lowered if len(w) >= STEM_LETTERS and w not in STOPWORDS)


def named_municipalities(text: str) -> frozenset[str]:
    return frozenset(find_municipalities(text))


class QuestionMatcher:
    """Compares questions by the cosine of their embeddings, caching the vectors of recent questions."""

    def __init__(self, embeddings: Embeddings, threshold: float = SAME_QUESTION):
        self.embeddings = embeddings
        self.threshold = threshold
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def vector(self, question: str) -> np.ndarray:
        """The unit-length embedding of a question (cached: a reviewed question is compared with every new one)."""
        key = " ".join(question.split())
        with self._lock:
            if key in self._vectors:
                self._vectors.move_to_end(key)
                return self._vectors[key]
        vector = np.asarray(self.embeddings.embed_query(key), dtype=np.float32)
        vector /= max(float(np.linalg.norm(vector)), 1e-12)
        with self._lock:
            self._vectors[key] = vector
            while len(self._vectors) > CACHE_SIZE:
                self._vectors.popitem(last=False)
        return vector

    def similarity(self, a: str, b: str) -> float:
        return float(self.vector(a) @ self.vector(b))

    def close(self, a: str, b: str) -> bool:
        """Same numbers, a shared word stem and embeddings close enough; who the question is about is the
        caller's to check."""
        return numbers(a) == numbers(b) and bool(stems(a) & stems(b)) and self.similarity(a, b) >= self.threshold

    def same_question(self, a: str, b: str) -> bool:
        """Close, and about the same municipalities (or none)."""
        return named_municipalities(a) == named_municipalities(b) and self.close(a, b)
