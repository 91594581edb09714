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
  # Chromium for the browser tests, redis-server for the test of two app processes behind one rate limit.
  if [ ! -x /usr/bin/chromium ] || ! command -v redis-server >/dev/null; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq chromium fonts-dejavu-core redis-server >/dev/null
  fi
else
  .venv/bin/python -m pip install -q -e .
fi
