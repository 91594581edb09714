"""``python -m ingest [PATH ...] [--rebuild] [--json] [--data-dir DIR]``

Exit codes: 0 everything ingested, 1 some files skipped (the rest ingested), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.settings import settings_or_exit
from ingest.pipeline import ingest


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ingest", description="Ingest corpus files into the store.")
    parser.add_argument("paths", nargs="*", type=Path, help="files or folders (default: the corpus folder)")
    parser.add_argument("--rebuild", action="store_true", help="forget the store and ingest everything again")
    parser.add_argument("--json", action="store_true", help="print one JSON object with the summary")
    parser.add_argument("--data-dir", help="store, indexes and logs (default data/, or ILMASTO_DATA_DIR)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = settings_or_exit(data_dir=args.data_dir)
    paths = args.paths or [settings.corpus_dir]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        parser.error(f"no such file or folder: {', '.join(missing)}")
    report = ingest(settings, paths, rebuild=args.rebuild)
    if args.json:
        print(json.dumps({k: v for k, v in report.as_json().items() if k in JSON_FIELDS}, ensure_ascii=False))
    else:
        print_summary(report)
    return 1 if report.skipped else 0


JSON_FIELDS = ("files", "pages", "chunks", "embedded", "added", "updated", "removed", "unchanged", "skipped", "seconds")


def print_summary(report) -> None:
    print(
        f"{report.files} files: {report.added} added, {report.updated} updated, {report.removed} removed, "
        f"{report.unchanged} unchanged, {len(report.skipped)} skipped; {report.chunks} new chunks "
        f"({report.total_chunks} in the store), {report.embedded} embedded, {report.seconds:.1f} s"
    )
    for note in report.notes:
        print(f"  note: {note['path']}: {note['note']}")
    for skipped in report.skipped:
        print(f"  skipped: {skipped['path']}: {skipped['reason']}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
