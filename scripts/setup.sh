#!/usr/bin/env bash
# Create .venv and install the app (default) or the app with everything the tests need (--dev), at the exact
# versions of the lock (requirements/app.txt, requirements/dev.txt; regenerate them with scripts/lock.sh).
# Idempotent: when the lock and pyproject.toml are what the last run installed, it only checks the browser.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ "${1:-}" = "--dev" ]; then
  PROFILE=dev EXTRAS="[dev,st,llm,bench]"  # the extras requirements/dev.txt was locked with
else
  PROFILE=app EXTRAS=""
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi
STAMP=".venv/.ilmasto-$PROFILE.sha256"
WANT=$(cat "requirements/$PROFILE.txt" pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  # The lock pins every version; torch (pinned in the `st` extra) is left to pip, which takes the CPU build here.
  .venv/bin/python -m pip install -q -r "requirements/$PROFILE.txt" -e ".$EXTRAS"
  echo "$WANT" >"$STAMP"
fi
if [ "$PROFILE" = dev ] && { [ ! -x /usr/bin/chromium ] || ! command -v redis-server >/dev/null; }; then
  # Chromium for the browser tests, redis-server for the test of two app processes behind one rate limit.
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq chromium fonts-dejavu-core redis-server >/dev/null
fi
if [ "$PROFILE" = dev ] && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then  # tests/services_postgres.py
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq postgresql >/dev/null
fi
# Voikko (Finnish lemmas and compound parts from morphology) where the machine lets us install it: as root or
# with password-less sudo, through apt. Without it the app lemmatises with simplemma (ILMASTO_LEMMATIZER=auto).
if ! dpkg -s libvoikko1 voikko-fi >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  { command -v apt-get >/dev/null && $SUDO apt-get update -qq && $SUDO apt-get install -y -qq libvoikko1 voikko-fi >/dev/null; } \
    || echo "setup: Voikko not installed (needs apt and root); lemmatising with simplemma" >&2
fi
