#!/usr/bin/env bash
# Set up (first time) and run the chat app: ingests corpus/ when the store is empty or stale, then serves
# http://127.0.0.1:7860/. Arguments go to ui.py (e.g. --port 8080 --data-dir /srv/ilmasto).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 ANONYMIZED_TELEMETRY=False
exec .venv/bin/python ui.py "$@"
