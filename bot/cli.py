"""``ilmasto ingest|search|ask|serve|report``: the installed command, one word for each documented entry point.

Each word hands the rest of the command line to the module behind it, so ``ilmasto ask "kysymys" --json``
behaves exactly like ``python -m bot ask "kysymys" --json`` and ``ilmasto serve`` like ``python ui.py``. The
modules are imported only when chosen: ``ilmasto ask`` does not load the web app.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from bot import __version__

# word -> (module whose main(argv) runs it, arguments put before the user's)
COMMANDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "ingest": ("ingest.__main__", ()),
    "search": ("bot.__main__", ("search",)),
    "ask": ("bot.__main__", ("ask",)),
    "report": ("bot.__main__", ("report",)),
    "serve": ("ui", ()),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ilmasto", description="Keski-Suomen kuntien ilmastobotti.")
    parser.add_argument("--version", action="version", version=f"ilmasto {__version__}")
    parser.add_argument("command", choices=COMMANDS, help="ingest = python -m ingest, search/ask/report = "
                        "python -m bot search/ask/report, serve = python ui.py")
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help="passed on (see `ilmasto COMMAND --help`)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module, leading = COMMANDS[args.command]
    return importlib.import_module(module).main([*leading, *args.arguments])


if __name__ == "__main__":
    sys.exit(main())
