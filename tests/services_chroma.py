"""A real Chroma server (`chroma run`) on a free loopback port, once per test session.

Tests that need it ask for the ``chroma_server`` fixture and get ``(host, port)``. An outside server can be
named with CHROMA_TEST_HOST/CHROMA_TEST_PORT instead. When the server cannot start the tests that need it are
skipped, except in CI (``CI=true``), where that is a failure: CI must never pass without them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

START_TIMEOUT_S = 60.0


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> None:
    """Skip, or in CI fail: a service the suite needs is missing."""
    if in_ci():
        pytest.fail(f"CI needs this service: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def chroma_server():
    """(host, port) of a Chroma server for the session: the one named in CHROMA_TEST_HOST, or our own."""
    if os.environ.get("CHROMA_TEST_HOST"):
        yield os.environ["CHROMA_TEST_HOST"], int(os.environ.get("CHROMA_TEST_PORT") or 8000)
        return
    command = Path(sys.executable).with_name("chroma")
    if not command.exists():
        unavailable(f"no `chroma` command beside {sys.executable}")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="chroma-test-") as path, open(Path(path) / "server.log", "wb") as log:
        process = subprocess.Popen([str(command), "run", "--path", path, "--host", "127.0.0.1", "--port", str(port)],
                                   stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            # Ours must be the one answering: a server that died (port taken?) is never mistaken for another.
            while process.poll() is None and not answers(f"http://127.0.0.1:{port}/api/v2/heartbeat"):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            if process.poll() is not None or not answers(f"http://127.0.0.1:{port}/api/v2/heartbeat"):
                unavailable("the Chroma server did not start: " + (Path(path) / "server.log").read_text(errors="replace")[-2000:])
            yield "127.0.0.1", port
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
