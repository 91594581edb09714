"""Shared fixtures: isolated data directories, small corpora, and one ingested copy of the starter corpus."""

from __future__ import annotations

import os
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
for var in ("CHROMA_HOST", "CHROMA_PORT", "ILMASTO_DATA_DIR", "ILMASTO_LLM_PROVIDER", "ILMASTO_SETTINGS_FILE"):
    os.environ.pop(var, None)

from bot.settings import PROJECT_ROOT, Settings, load_settings  # noqa: E402
from tests.services_chroma import chroma_server  # noqa: E402,F401  (session fixtures of the servers tests need)

CORPUS = PROJECT_ROOT / "corpus"
# Vectors are keyed by (model, text): reusing them between runs is safe and keeps re-runs fast.
EMBED_CACHE = PROJECT_ROOT / ".pytest_cache" / "ilmasto-embeddings.sqlite3"


def make_settings(data_dir: Path, corpus_dir: Path = CORPUS, **overrides) -> Settings:
    return load_settings(env={}, data_dir=data_dir, corpus_dir=corpus_dir, **overrides)


def seed_cache(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    if EMBED_CACHE.exists():
        shutil.copy(EMBED_CACHE, data_dir / "embeddings.sqlite3")


def keep_cache(data_dir: Path) -> None:
    """Save the session's vectors for the next run: through SQLite's backup, because a copy of the file alone
    misses the rows still in its write-ahead log (and the next session would embed everything again)."""
    source = data_dir / "embeddings.sqlite3"
    if source.exists():
        EMBED_CACHE.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(EMBED_CACHE)) as kept:
            live.backup(kept)


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    """Three short Markdown documents: two municipalities and one region-wide."""
    corpus = tmp_path / "corpus"
    (corpus / "kunnat").mkdir(parents=True)
    (corpus / "kunnat" / "laukaa.md").write_text(
        "---\ntitle: Laukaa – tiivistelmä\ndoc_type: kuntatiivistelmä\nmunicipality: Laukaa\ndate: '2023'\n"
        "source_url: https://www.laukaa.fi/\n---\n# Laukaa\n\n## Päästöt\n\n"
        "Laukaan suurimmat päästölähteet ovat tieliikenne ja maatalous. Tieliikenteen osuus oli 35 % vuonna 2021.\n",
        encoding="utf-8",
    )
    (corpus / "kunnat" / "joutsa.md").write_text(
        "---\ntitle: Joutsa – tiivistelmä\ndoc_type: kuntatiivistelmä\nmunicipality: Joutsa\ndate: '2023'\n---\n"
        "# Joutsa\n\n## Verkostot\n\nJoutsa päätti vuonna 2021 olla liittymättä Hinku-verkostoon.\n",
        encoding="utf-8",
    )
    (corpus / "rahoitus.md").write_text(
        "---\ntitle: Rahoitus\ndoc_type: materiaali\ndate: '2023'\n---\n# Rahoitus\n\n## Ympäristöministeriö\n\n"
        "Ympäristöministeriö myöntää avustuksia kuntien ilmastotyöhön. Haku on yleensä avoinna keväällä.\n",
        encoding="utf-8",
    )
    return corpus


@pytest.fixture
def small_settings(tmp_path: Path, small_corpus: Path) -> Settings:
    data_dir = tmp_path / "data"
    seed_cache(data_dir)
    return make_settings(data_dir, small_corpus)


@pytest.fixture(scope="session")
def starter_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The starter corpus ingested once per test session (embedding it is the slow part)."""
    from ingest.pipeline import ingest

    data_dir = tmp_path_factory.mktemp("starter-data")
    seed_cache(data_dir)
    settings = make_settings(data_dir)
    report = ingest(settings, progress=False)
    assert not report.skipped, report.skipped
    keep_cache(data_dir)
    return settings


@pytest.fixture(scope="session")
def answerer(starter_settings: Settings):
    from bot.answer import Answerer

    return Answerer(starter_settings)


@pytest.fixture(scope="session")
def live_app(starter_settings):
    """The real app (FastAPI + Gradio) served by uvicorn on a free loopback port; yields its base URL."""
    yield from serve_app(starter_settings)


def serve_app(settings: Settings):
    """The app over an opened store, served on a free loopback port (tests/browser.py serve)."""
    from bot.service import BotService
    from tests.browser import serve
    from web.app import create_app

    yield from serve(create_app(BotService(settings, ingest_on_start=False)))
