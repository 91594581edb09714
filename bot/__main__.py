"""``python -m bot search|ask ...``: retrieval and answers from the command line.

    python -m bot search "kysymys" [--k 8] [--json]
    python -m bot ask "kysymys" [--municipality NAME] [--json]
    python -m bot ask --batch FILE.jsonl
    python -m bot report [--json] [--days 30]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bot.conversation import history_pairs
from bot.report import DEFAULT_DAYS, gap_report
from bot.settings import settings_or_exit

STORE_EMPTY = "Aineisto on vielä tyhjä: aja ensin `python -m ingest`, joka lukee corpus/-kansion aineiston."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Search the store or ask a question.")
    parser.add_argument("--data-dir", help="store, indexes and logs (default data/, or ILMASTO_DATA_DIR)")
    commands = parser.add_subparsers(dest="command", required=True)
    search = commands.add_parser("search", help="ranked chunks for a question")
    search.add_argument("question")
    search.add_argument("--k", type=int, default=None, help="how many chunks (default 8)")
    search.add_argument("--mode", choices=("hybrid", "dense", "lexical"), default="hybrid")
    search.add_argument("--municipality", help="prefer this municipality's documents")
    search.add_argument("--json", action="store_true")
    ask = commands.add_parser("ask", help="a cited answer in Finnish")
    ask.add_argument("question", nargs="?")
    ask.add_argument("--municipality", help="prefer this municipality's documents")
    ask.add_argument("--batch", type=Path, help="JSON-lines file with a 'question' per line")
    ask.add_argument("--json", action="store_true")
    report = commands.add_parser("report", help="content gaps: the most frequent questions answered badly or not at all")
    report.add_argument("--days", type=int, default=DEFAULT_DAYS, help=f"how many days back (default {DEFAULT_DAYS})")
    report.add_argument("--json", action="store_true")
    for sub in (search, ask, report):
        sub.add_argument("--data-dir", dest="sub_data_dir", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = settings_or_exit(data_dir=args.sub_data_dir or args.data_dir)
    if args.command == "search":
        return run_search(settings, args)
    if args.command == "report":
        if args.days < 1:
            parser.error("--days must be at least 1")
        return run_report(settings, args)
    if args.batch is None and not args.question:
        parser.error("ask needs a question or --batch FILE")
    if args.batch is not None and not args.batch.exists():
        parser.error(f"no such file: {args.batch}")
    return run_ask(settings, args)


def run_search(settings, args) -> int:
    from bot.retrieval import Retriever

    retriever = Retriever(settings)
    if not retriever.records:
        print(STORE_EMPTY, file=sys.stderr)
        return 1
    hits = retriever.search(args.question, k=args.k, municipality=args.municipality, mode=args.mode)
    if args.json:
        print(json.dumps([h.as_json() for h in hits], ensure_ascii=False))
        return 0
    for n, hit in enumerate(hits, 1):
        r = hit.record
        where = f", s. {r.page}" if r.page else ""
        print(f"{n}. [{hit.score:.4f}] {r.title}{where} ({r.doc_id})")
        print(f"   {r.text[:240]}{'…' if len(r.text) > 240 else ''}")
    return 0


def run_report(settings, args) -> int:
    report = gap_report(settings, days=args.days)
    print(json.dumps(report.as_json(), ensure_ascii=False) if args.json else report.as_text())
    return 0


def run_ask(settings, args) -> int:
    from bot.answer import Answerer

    answerer = Answerer(settings)
    if args.batch is not None:
        with args.batch.open(encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                item = json.loads(line)
                history = history_pairs(item.get("history") or [])
                item["result"] = answerer.answer(item["question"], item.get("municipality"), history).as_json()
                print(json.dumps(item, ensure_ascii=False), flush=True)
        return 0
    started = time.perf_counter()
    answer = answerer.answer(args.question, municipality=args.municipality)
    if args.json:
        print(json.dumps(answer.as_json(), ensure_ascii=False))
    else:
        print(answer.answer)
        for c in answer.citations:
            page = f", s. {c.page}" if c.page else ""
            print(f"[{c.n}] {c.title}{page} – {c.source_url or c.doc_id}")
        print(f"({time.perf_counter() - started:.2f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
