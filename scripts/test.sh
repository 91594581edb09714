#!/usr/bin/env bash
# Set up everything the tests need and run the whole suite (slow, browser and server tests included).
# Extra arguments go to pytest, e.g. scripts/test.sh -m "not slow" for the quick ones.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
export GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 ANONYMIZED_TELEMETRY=False
STARTED_PID=""
if [ -z "${CHROMA_TEST_HOST:-}" ]; then
  read -r CHROMA_TEST_HOST CHROMA_TEST_PORT STARTED_PID < <(bash scripts/chroma_server.sh)
  export CHROMA_TEST_HOST CHROMA_TEST_PORT
  trap 'kill $STARTED_PID 2>/dev/null || true' EXIT
fi
.venv/bin/python -m pytest "$@"
