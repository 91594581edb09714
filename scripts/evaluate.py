"""Score the answer engine on eval/questions.jsonl, split into `tune` (fit on it) and `test` (report only).

    python scripts/evaluate.py [--split tune|test|all] [--data-dir D] [--json] [--out FILE]
    python scripts/evaluate.py --from-batch answers.jsonl      # score `python -m bot ask --batch` output

Measures, per split: every fact found (answerable questions answered with every must_include string), the
share of facts found, refusal accuracy for off-topic and for on-topic unanswerable questions, false refusals,
citation validity (each quote verbatim in the chunk it cites; for answered questions a cited chunk holding a
fact), words per answer, latency and a table per question kind. --json and --out add the list of failures.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from benchmark import ensure_ingested, percentile

from bot.settings import load_settings
from ingest.loaders import load_document, read_sidecar
from ingest.pipeline import discover

ROOT = Path(__file__).resolve().parent.parent

QUESTIONS = ROOT / "eval" / "questions.jsonl"
SPLITS = ("tune", "test", "all")
SHOWN_CHARS = 200


# ---------------------------------------------------------------- questions


def load_questions(path: Path = QUESTIONS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def in_split(items: list[dict], split: str) -> list[dict]:
    return items if split == "all" else [i for i in items if i.get("split") == split]


# ---------------------------------------------------------------- scoring (pure)


def _one_line(text: str) -> str:
    """Runs of whitespace as one space, so text matches across line breaks."""
    return re.sub(r"\s+", " ", text or "").strip()


def _plain(text: str) -> str:
    """One line in lower case: facts are matched case-insensitively."""
    return _one_line(text).lower()


def facts_present(text: str, facts: list[str]) -> list[bool]:
    plain = _plain(text)
    return [_plain(f) in plain for f in facts]


def quote_is_verbatim(citation: dict) -> bool:
    """The quote, character for character (line breaks aside), is in the chunk it cites."""
    quote = _one_line(citation.get("quote", ""))
    return bool(quote) and quote in _one_line(citation.get("chunk_text", ""))


@dataclass(frozen=True)
class Score:
    """One question's outcome; `ok` means answered with every fact, or refused when it should be."""

    id: str
    question: str
    kind: str
    expect: str
    refuse_kind: str | None
    refused: bool
    facts: int
    facts_found: int
    ok: bool
    words: int
    seconds: float
    citations: int
    citations_verbatim: int
    cited_fact: bool | None  # answered answerable question: does a cited chunk hold a fact?
    missing: tuple[str, ...]
    answer: str


def score(item: dict, result: dict) -> Score:
    """Score one result: `answer`, `refused`, `seconds`, `citations` (each `quote` and its `chunk_text`)."""
    refused = bool(result.get("refused"))
    answer = result.get("answer") or ""
    facts = item.get("must_include") or []
    present = facts_present(answer, facts) if not refused else [False] * len(facts)
    citations = result.get("citations") or []
    verbatim = sum(quote_is_verbatim(c) for c in citations)
    answerable = item["expect"] == "answer"
    cited_fact = None
    if answerable and not refused:
        cited_fact = any(any(facts_present(c.get("chunk_text", ""), facts)) for c in citations)
    ok = (not refused and all(present)) if answerable else refused
    return Score(
        id=item["id"], question=item["question"], kind=item.get("kind", "?"), expect=item["expect"],
        refuse_kind=item.get("refuse_kind"), refused=refused, facts=len(facts), facts_found=sum(present), ok=ok,
        words=len(answer.split()), seconds=float(result.get("seconds") or 0.0), citations=len(citations),
        citations_verbatim=verbatim, cited_fact=cited_fact,
        missing=tuple(f for f, hit in zip(facts, present) if not hit), answer=answer,
    )


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 3) if total else None


def summarize(scores: list[Score]) -> dict:
    """The figures for one split."""
    answerable = [s for s in scores if s.expect == "answer"]
    refuse = [s for s in scores if s.expect == "refuse"]
    off_topic = [s for s in refuse if s.refuse_kind == "off_topic"]
    unanswerable = [s for s in refuse if s.refuse_kind == "unanswerable"]
    answered = [s for s in scores if not s.refused]
    answered_answerable = [s for s in answerable if not s.refused]
    citations = sum(s.citations for s in answered)
    words = [s.words for s in answered]
    seconds = [s.seconds for s in scores]
    return {
        "questions": len(scores),
        "answerable": len(answerable),
        "every_fact_found": _rate(sum(s.ok for s in answerable), len(answerable)),
        "fact_share": _rate(sum(s.facts_found for s in answerable), sum(s.facts for s in answerable)),
        "refusal_accuracy": _rate(sum(s.refused for s in refuse), len(refuse)),
        "refusal_accuracy_off_topic": _rate(sum(s.refused for s in off_topic), len(off_topic)),
        "refusal_accuracy_unanswerable": _rate(sum(s.refused for s in unanswerable), len(unanswerable)),
        "refuse_questions": {"off_topic": len(off_topic), "unanswerable": len(unanswerable)},
        "false_refusals": sum(s.refused for s in answerable),
        "false_refusal_rate": _rate(sum(s.refused for s in answerable), len(answerable)),
        "citation_validity": _rate(sum(s.citations_verbatim for s in answered), citations),
        "citations": citations,
        "answers_cited": _rate(sum(s.citations > 0 for s in answered), len(answered)),
        "cited_chunk_holds_fact": _rate(sum(bool(s.cited_fact) for s in answered_answerable), len(answered_answerable)),
        "words_median": statistics.median(words) if words else None,
        "words_max": max(words) if words else None,
        "latency_ms_p50": round(percentile(seconds, 50) * 1000, 1) if seconds else None,
        "latency_ms_p95": round(percentile(seconds, 95) * 1000, 1) if seconds else None,
        "by_kind": by_kind(scores),
    }


def by_kind(scores: list[Score]) -> dict[str, dict]:
    """Per question kind: how many, and the share handled right (all facts found, or refused when due)."""
    groups: dict[str, list[Score]] = defaultdict(list)
    for s in scores:
        groups[s.kind].append(s)
    return {kind: {"n": len(group), "ok": _rate(sum(s.ok for s in group), len(group))}
            for kind, group in sorted(groups.items())}


def failures(scores: list[Score]) -> list[dict]:
    """What went wrong, question by question: the expected facts (or a refusal) and the start of the answer."""
    out = []
    for s in scores:
        if s.ok:
            continue
        expected = "refuse" if s.expect == "refuse" else list(s.missing) or "answer"
        got = "[refused] " if s.refused else ""
        out.append({"id": s.id, "kind": s.kind, "question": s.question, "expected": expected,
                    "got": (got + s.answer)[:SHOWN_CHARS]})
    return out


# ---------------------------------------------------------------- results: engine or batch file


def engine_results(items: list[dict], data_dir: Path) -> list[dict]:
    """Answer every question through the Answerer (municipality and history included), timing each call."""
    from bot.answer import Answerer  # the engine loads its models only when questions are answered

    settings = load_settings(data_dir=data_dir)
    ensure_ingested(settings)
    answerer = Answerer(settings)
    answerer.answer("Mitä ilmastolaki vaatii kunnalta?")  # load the models before timing
    results = []
    for n, item in enumerate(items, 1):
        if n % 50 == 0:
            print(f"{n}/{len(items)} questions answered", file=sys.stderr, flush=True)
        history = [tuple(pair) for pair in item.get("history") or []]
        started = time.perf_counter()
        answer = answerer.answer(item["question"], municipality=item.get("municipality"), history=history)
        seconds = time.perf_counter() - started
        results.append({
            "answer": answer.answer, "refused": answer.refused, "seconds": seconds,
            "citations": [{"quote": c.quote, "chunk_text": c.chunk_text} for c in answer.citations],
        })
    return results


def batch_results(path: Path, questions: list[dict], corpus_dir: Path) -> tuple[list[dict], list[dict]]:
    """Items and results from `python -m bot ask --batch` output (each line: the input item plus `result`).

    Its citations carry no chunk text, so each quote is checked against the whole cited document instead.
    """
    known = {q["id"]: q for q in questions}
    documents = corpus_documents(corpus_dir)
    items, results = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        result = dict(row.pop("result"))
        items.append({**known.get(row.get("id"), {}), **row})
        cited = result.get("citations") or []
        result["citations"] = [{**c, "chunk_text": documents.get(c.get("doc_id"), "")} for c in cited]
        results.append(result)
    return items, results


def corpus_documents(corpus_dir: Path) -> dict[str, str]:
    """Each document's indexed text by doc id with its headings (what the store holds, Lähteet left out)."""
    settings = load_settings(corpus_dir=corpus_dir)
    sidecar = read_sidecar(settings.corpus_dir)
    texts = {}
    for source in discover([settings.corpus_dir], settings)[0]:
        loaded = load_document(source.path, settings.corpus_dir, sidecar, 50_000_000)
        texts[source.doc_id] = "\n".join("\n".join((*b.headings, b.text)) for b in loaded.blocks)
    return texts


# ---------------------------------------------------------------- report


def report(items: list[dict], results: list[dict], splits: list[str]) -> dict:
    scores = [score(i, r) for i, r in zip(items, results)]
    out = {}
    for split in splits:
        chosen = [s for s, i in zip(scores, items) if split == "all" or i.get("split") == split]
        out[split] = {**summarize(chosen), "failures": failures(chosen)}
    return out


HEADLINE = ("questions", "every_fact_found", "fact_share", "refusal_accuracy", "refusal_accuracy_off_topic",
            "refusal_accuracy_unanswerable", "false_refusals", "citation_validity", "answers_cited",
            "cited_chunk_holds_fact", "words_median", "words_max", "latency_ms_p50", "latency_ms_p95")


def as_table(results: dict) -> str:
    """Splits side by side, then the per-kind table."""
    splits = list(results)
    lines = [f"{'metric':32}" + "".join(f"{s:>12}" for s in splits)]
    for key in HEADLINE:
        lines.append(f"{key:32}" + "".join(f"{_cell(results[s][key]):>12}" for s in splits))
    kinds = sorted({k for s in splits for k in results[s]["by_kind"]})
    lines += ["", f"{'kind (n, ok)':32}" + "".join(f"{s:>12}" for s in splits)]
    for kind in kinds:
        cells = []
        for s in splits:
            row = results[s]["by_kind"].get(kind)
            cells.append(f"{row['n']:>4} {_cell(row['ok']):>6}" if row else "")
        lines.append(f"{kind:32}" + "".join(f"{c:>12}" for c in cells))
    return "\n".join(lines)


def _cell(value) -> str:
    return "–" if value is None else str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=SPLITS, default="tune", help="which questions (default tune)")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data" / "bench", help="store to answer from")
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--from-batch", type=Path, help="score this `python -m bot ask --batch` output instead")
    parser.add_argument("--json", action="store_true", help="print the results (with failures) as JSON")
    parser.add_argument("--out", type=Path, help="also write the results (with failures) as JSON here")
    args = parser.parse_args(argv)
    questions = load_questions(args.questions)
    if args.from_batch:
        items, results = batch_results(args.from_batch, questions, ROOT / "corpus")
        items_results = [(i, r) for i, r in zip(items, results) if args.split == "all" or i.get("split") == args.split]
        items, results = [i for i, _ in items_results], [r for _, r in items_results]
    else:
        items = in_split(questions, args.split)
        results = engine_results(items, args.data_dir)
    splits = ["tune", "test", "all"] if args.split == "all" else [args.split]
    figures = report(items, results, splits)
    if args.out:
        args.out.write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
    else:
        print(as_table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
