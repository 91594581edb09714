"""Load test of POST /api/ask against the real app (ui.py under uvicorn, a subprocess on loopback only).

    python scripts/load_test.py [--seconds 60] [--data-dir data/bench] [--out FILE.json]

Phases, each on a freshly started server (PHASES): one client alone (the baseline), 20 concurrent clients
with the rate limit lifted (every answer must succeed), then 100 concurrent clients with the default rate
limit (the server must degrade with queueing, 503 and 429, not fail): first each from its own loopback
address (127.0.x.y, so the per-address limit sees 100 users), then all from one address (an office behind
one NAT). Questions cycle through eval/dev.jsonl (benchmark.py's pool).
Each phase stops by itself: clients stop starting requests after --seconds and a request times out after
REQUEST_TIMEOUT_S. Prints a JSON summary with the core count and the server's peak memory (VmHWM).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

from benchmark import ROOT, ensure_ingested, free_port, percentile, question_pool  # scripts/ is on sys.path

from bot.settings import Settings, load_settings

REQUEST_TIMEOUT_S = 120.0
START_TIMEOUT_S = 180.0
NO_LIMIT = 1_000_000
# name -> (concurrent clients, rate limit per minute (None: the default), all from one address)
PHASES = {
    "one_client": (1, NO_LIMIT, False),
    "below_rate_limit": (20, NO_LIMIT, False),
    "overload_default_limit": (100, None, False),
    "overload_one_address": (100, None, True),
}


def client_address(i: int) -> str:
    """A distinct loopback source address per simulated client (the whole 127/8 is loopback on Linux)."""
    return f"127.0.{1 + i // 250}.{1 + i % 250}"


def peak_memory_mb(pid: int) -> float:
    """The process's peak resident memory, VmHWM in /proc (psutil is not a dependency)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmHWM")


def start_server(settings: Settings, port: int, rate_limit: int | None, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "ILMASTO_RATE_LIMIT_PER_MINUTE"}
    if rate_limit is not None:
        env["ILMASTO_RATE_LIMIT_PER_MINUTE"] = str(rate_limit)
    command = [sys.executable, str(ROOT / "ui.py"), "--host", "127.0.0.1", "--port", str(port),
               "--data-dir", str(settings.data_dir)]
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_until_up(server: subprocess.Popen, url: str, log: Path) -> None:
    """Health answers and one question has loaded the embedding model (from an address no client uses)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                httpx.post(f"{url}/api/ask", json={"question": "Mitä ilmastolaki vaatii kunnalta?"},
                           timeout=REQUEST_TIMEOUT_S).raise_for_status()
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the server did not start in time")


async def client(i: int, url: str, address: str, questions: list[str], until: float,
                 results: list[tuple[str, float]]) -> None:
    """One user asking back to back until the deadline; each outcome is (status or error name, seconds)."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    async with httpx.AsyncClient(transport=transport, timeout=REQUEST_TIMEOUT_S) as http:
        n = i
        while time.monotonic() < until:
            question = questions[n % len(questions)]
            n += 7  # clients walk the pool in different orders
            started = time.monotonic()
            wait = 0.0
            try:
                response = await http.post(f"{url}/api/ask", json={"question": question})
                outcome = str(response.status_code)
                if response.status_code in (429, 503):  # do as the widget's user would: wait as told
                    wait = min(float(response.headers.get("retry-after", 1)), until - time.monotonic(), 10)
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            results.append((outcome, time.monotonic() - started))
            await asyncio.sleep(wait)


def phase(settings: Settings, seconds: float, clients: int, rate_limit: int | None, one_address: bool) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        server = start_server(settings, port, rate_limit, log)
        try:
            wait_until_up(server, url, log)
            results: list[tuple[str, float]] = []
            questions = question_pool()
            started = time.monotonic()

            async def run() -> None:
                until = time.monotonic() + seconds
                await asyncio.gather(*(client(i, url, client_address(0 if one_address else i), questions, until, results)
                                       for i in range(clients)))

            asyncio.run(run())
            elapsed = time.monotonic() - started
            alive = server.poll() is None and httpx.get(f"{url}/api/health", timeout=10).status_code == 200
            memory = peak_memory_mb(server.pid)
        finally:
            server.terminate()
            server.wait(30)
    statuses = Counter(outcome for outcome, _ in results)
    ok = [s for outcome, s in results if outcome == "200"]
    everything = [s for _, s in results]
    return {
        "clients": clients,
        "client_addresses": 1 if one_address else clients,
        "rate_limit_per_minute": rate_limit if rate_limit is not None else Settings().rate_limit_per_minute,
        "seconds": round(elapsed, 1),
        "requests": len(results),
        "answers_per_s": round(len(ok) / elapsed, 2),
        "latency_ok_s": {"p50": round(percentile(ok, 50), 2), "p95": round(percentile(ok, 95), 2)} if ok else None,
        "latency_all_s": {"p50": round(percentile(everything, 50), 2), "p95": round(percentile(everything, 95), 2)},
        "statuses": dict(sorted(statuses.items())),
        "errors": sum(n for outcome, n in statuses.items() if outcome not in ("200", "429", "503")),
        "server_alive_after": alive,
        "server_peak_memory_mb": memory,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each phase (default 60)")
    parser.add_argument("--data-dir", default=str(ROOT / "data" / "bench"))
    parser.add_argument("--out", type=Path, help="also write the summary as JSON here")
    args = parser.parse_args()
    settings = load_settings(data_dir=Path(args.data_dir))
    ensure_ingested(settings)
    summary = {
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")},
        **{name: phase(settings, args.seconds, *setup) for name, setup in PHASES.items()},
    }
    text = json.dumps(summary, ensure_ascii=False, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
