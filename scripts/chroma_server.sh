#!/usr/bin/env bash
# Start a Chroma server on loopback for the store tests: prints "HOST PORT PID" once it answers.
# The port is a free one unless given.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${1:-$(.venv/bin/python -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")}
DIR=$(mktemp -d /tmp/chroma-test-XXXXXX)
ANONYMIZED_TELEMETRY=False .venv/bin/chroma run --path "$DIR" --host 127.0.0.1 --port "$PORT" >"$DIR.log" 2>&1 &
PID=$!
for _ in $(seq 1 60); do
  if ! kill -0 "$PID" 2>/dev/null; then
    break  # it died (port taken?): do not mistake another server for ours
  fi
  if .venv/bin/python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/api/v2/heartbeat', timeout=1)" 2>/dev/null; then
    echo "127.0.0.1 $PORT $PID"
    exit 0
  fi
  sleep 1
done
echo "Chroma server did not start; log:" >&2
cat "$DIR.log" >&2
kill "$PID" 2>/dev/null || true
exit 1
