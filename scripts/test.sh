#!/usr/bin/env bash
# Set up everything the tests need and run the whole suite (slow, browser and server tests included).
# Extra arguments go to pytest, e.g. scripts/test.sh -m "not slow" for the quick ones. The servers the tests
# need (a real `chroma run`) are started by pytest session fixtures (tests/services_*.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev  # a no-op when the installed versions are already the lock's
export GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 ANONYMIZED_TELEMETRY=False
exec .venv/bin/python -m pytest "$@"
