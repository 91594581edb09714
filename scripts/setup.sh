#!/usr/bin/env bash
# Create .venv and install the app (default) or the app with everything the tests need (--dev).
# Idempotent: a second run only checks that everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi
if [ "${1:-}" = "--dev" ]; then
  # torch in the same command as sentence-transformers, pinned, so pip takes the CPU build and not a CUDA one.
  .venv/bin/python -m pip install -q "torch==2.13.0" -e ".[dev,st,llm]"
  if [ ! -x /usr/bin/chromium ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
  fi
else
  .venv/bin/python -m pip install -q -e .
fi
# Voikko (Finnish lemmas and compound parts from morphology) where the machine lets us install it: as root or
# with password-less sudo, through apt. Without it the app lemmatises with simplemma (ILMASTO_LEMMATIZER=auto).
if ! dpkg -s libvoikko1 voikko-fi >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  { command -v apt-get >/dev/null && $SUDO apt-get update -qq && $SUDO apt-get install -y -qq libvoikko1 voikko-fi >/dev/null; } \
    || echo "setup: Voikko not installed (needs apt and root); lemmatising with simplemma" >&2
fi
