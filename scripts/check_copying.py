"""Flag sentences copied from the source texts a corpus writer worked from.

The corpus may carry facts from public pages but not their sentences. This check finds every run of
``--min-words`` (default 10) identical words, ignoring case and punctuation, shared by a corpus document and
any text file in a folder of saved source texts (keep that folder out of git: the copies are not ours):

    python scripts/check_copying.py source-texts/                 # corpus/ and scripts/tietopaketti/
    python scripts/check_copying.py source-texts/ corpus/kunnat/keuruu.md

Front matter and the "Lähteet" list are skipped, since source titles are quoted there on purpose. The exit
status is 1 when a run is found, so the check can gate a commit.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from ingest.loaders import split_front_matter  # one front-matter parser for the whole project

DEFAULT_DOCUMENTS = [ROOT / "corpus", ROOT / "scripts" / "tietopaketti"]
SOURCE_SUFFIXES = {".txt", ".md", ".html", ".htm"}
_WORD = re.compile(r"[^\W_]+")
_SOURCE_LIST = re.compile(r"^##\s+Lähteet\s*$", re.M)


@dataclass(frozen=True)
class SharedRun:
    """A run of identical words: where it is in the document, which source holds it, and its words."""

    document: Path
    source: Path
    words: tuple[str, ...]


def normalised_words(text: str) -> list[str]:
    """Lower-case words without punctuation, so that a changed comma or capital does not hide a copy."""
    return [w.lower() for w in _WORD.findall(text)]


def prose(path: Path) -> str:
    """The document's own sentences: front matter and the source list left out."""
    _, body = split_front_matter(path.read_text(encoding="utf-8"))
    return _SOURCE_LIST.split(body, maxsplit=1)[0]


def source_index(sources: list[Path], n: int) -> dict[tuple[str, ...], Path]:
    """Every n-word window of every source text, pointing at the first source that has it."""
    index: dict[tuple[str, ...], Path] = {}
    for source in sources:
        words = normalised_words(source.read_text(encoding="utf-8", errors="replace"))
        for start in range(len(words) - n + 1):
            index.setdefault(tuple(words[start : start + n]), source)
    return index


def shared_runs(document: Path, index: dict[tuple[str, ...], Path], n: int) -> list[SharedRun]:
    """Maximal runs of at least n words that the document shares with one source (overlapping windows merged)."""
    words = normalised_words(prose(document))
    runs: list[SharedRun] = []
    start = 0
    while start <= len(words) - n:
        source = index.get(tuple(words[start : start + n]))
        if source is None:
            start += 1
            continue
        end = start + n
        while end < len(words) and index.get(tuple(words[end - n + 1 : end + 1])) == source:
            end += 1
        runs.append(SharedRun(document, source, tuple(words[start:end])))
        start = end
    return runs


def files_under(paths: list[Path], suffixes: set[str]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        candidates = [path] if path.is_file() else sorted(path.rglob("*"))
        found += [p for p in candidates if p.is_file() and p.suffix.lower() in suffixes and p.name != "README.md"]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", type=Path, help="folder of the source texts the documents were written from")
    parser.add_argument("documents", type=Path, nargs="*", help="documents or folders to check (default: the corpus)")
    parser.add_argument("--min-words", type=int, default=10, help="shortest run that counts as copied")
    args = parser.parse_args(argv)
    index = source_index(files_under([args.sources], SOURCE_SUFFIXES), args.min_words)
    runs = [run for doc in files_under(args.documents or DEFAULT_DOCUMENTS, {".md"}) for run in shared_runs(doc, index, args.min_words)]
    for run in runs:
        print(f"{run.document}: {len(run.words)} words shared with {run.source.name}: {' '.join(run.words)}")
    print(f"{len(runs)} copied run(s) of {args.min_words}+ words")
    return 1 if runs else 0


if __name__ == "__main__":
    sys.exit(main())
