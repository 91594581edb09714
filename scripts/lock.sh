#!/usr/bin/env bash
# Regenerate the lock files from pyproject.toml: exact versions of everything each install profile needs.
#
#   bash scripts/lock.sh                  # after any change to the dependencies in pyproject.toml
#   LOCK_OFFLINE=1 bash scripts/lock.sh   # without PyPI: only uv's cache and the machine's local indexes
#
# Order: edit pyproject.toml, run this, commit requirements/*.txt; scripts/setup.sh (and so start.sh and test.sh)
# installs from them. Offline works for versions that uv has resolved or pip has installed on this machine
# before, so lock once online after adding a package. uv resolves from the same sources that pip installs from
# (pip's configured extra indexes and find-links), and versions are compared across them as pip does.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
[ -x .venv/bin/python ] || bash scripts/setup.sh
[ -x .venv/bin/uv ] && .venv/bin/uv --version | grep -q " $UV_VERSION" || .venv/bin/python -m pip install -q "uv==$UV_VERSION"

pip_option() { .venv/bin/python -m pip config get "global.$1" 2>/dev/null || true; }
sources=(--index-strategy unsafe-best-match)
for url in ${PIP_EXTRA_INDEX_URL:-$(pip_option extra-index-url)}; do sources+=(--extra-index-url "$url"); done
for dir in ${PIP_FIND_LINKS:-$(pip_option find-links)}; do sources+=(--find-links "$dir"); done
[ -z "${LOCK_OFFLINE:-}" ] || sources+=(--offline)

lock() {  # lock PROFILE [--extra NAME ...]: requirements/PROFILE.txt
  local profile=$1
  shift
  # torch is left to pip (pinned in the `st` extra) so that each machine takes the build it has (CPU here).
  .venv/bin/uv pip compile pyproject.toml "$@" --python .venv/bin/python "${sources[@]}" --no-emit-package torch \
    --custom-compile-command "bash scripts/lock.sh" --quiet --output-file "requirements/$profile.txt"
}

mkdir -p requirements
# dev first, then app within dev's versions: switching between start.sh and test.sh never changes a version.
lock dev --extra dev --extra st --extra llm --extra bench  # scripts/test.sh
lock app -c requirements/dev.txt                            # scripts/start.sh
