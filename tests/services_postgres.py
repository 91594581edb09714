"""A real PostgreSQL server for the tests: initdb and pg_ctl in a temporary folder on a free loopback port.

Needs Debian's ``postgresql`` package (``scripts/setup.sh --dev`` installs it). Without its binaries the
PostgreSQL tests are skipped, except in CI (``CI=true``), where that is a failure. PostgreSQL refuses to run
as root, so as root the server runs as the package's ``postgres`` user.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

SERVER_USER = "postgres"
_DATABASES = itertools.count(1)


def postgres_bin() -> Path | None:
    """The folder of pg_ctl and initdb: on PATH, or where Debian puts them."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(command: list[str]) -> None:
    as_user = ["runuser", "-u", SERVER_USER, "--"] if os.geteuid() == 0 else []
    subprocess.run(as_user + command, check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A running server; yields the SQLAlchemy URL prefix ``postgresql+psycopg://ilmasto@127.0.0.1:PORT/``."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        message = "PostgreSQL binaries not found (apt-get install postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    folder = Path(tempfile.mkdtemp(prefix="ilmasto-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, SERVER_USER)
    data, port = folder / "data", free_port()
    _run([str(bin_dir / "initdb"), "-D", str(data), "-U", "ilmasto", "--auth=trust", "-E", "UTF8", "--no-locale"])
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {folder} -c fsync=off"
    _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "server.log"), "-w", "start"])
    try:
        yield f"postgresql+psycopg://ilmasto@127.0.0.1:{port}/"
    finally:
        _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
        shutil.rmtree(folder, ignore_errors=True)


def new_database(server_url: str) -> str:
    """A fresh, empty database on the server, so every test starts from no schema at all."""
    name = f"test_{os.getpid()}_{next(_DATABASES)}"
    engine = create_engine(server_url + "postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return server_url + name


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database, once in SQLite (the default) and once in a real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'feedback.sqlite3'}"
    return new_database(request.getfixturevalue("postgres_server"))
