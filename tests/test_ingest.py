"""Incremental, idempotent ingest against both store modes: embedded Chroma and a real `chroma run` server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from bot.retrieval import Retriever
from bot.settings import PROJECT_ROOT
from bot.store import RecordStore, chroma_collection
from ingest.pipeline import dense_is_current, ingest
from tests.pdfs import scanned_pdf


@pytest.fixture(params=["embedded", "server"])
def settings(request, small_settings):
    """The small corpus's settings in each store mode; the server is the one .ci/run starts."""
    if request.param == "embedded":
        return small_settings
    host, port = os.environ.get("CHROMA_TEST_HOST"), os.environ.get("CHROMA_TEST_PORT")
    if not host:
        if os.environ.get("CI"):
            pytest.fail("CI must start a Chroma server and set CHROMA_TEST_HOST/CHROMA_TEST_PORT")
        pytest.skip("no Chroma server (set CHROMA_TEST_HOST/CHROMA_TEST_PORT; .ci/run does)")
    return replace(small_settings, chroma_host=host, chroma_port=int(port or 8000), collection=f"test-{uuid.uuid4().hex[:12]}")


def stored(settings):
    """(doc_id -> number of chunks) in Chroma, and all chunk ids."""
    got = chroma_collection(settings).get(include=["metadatas"])
    counts: dict[str, int] = {}
    for meta in got["metadatas"]:
        counts[meta["doc_id"]] = counts.get(meta["doc_id"], 0) + 1
    return counts, got["ids"]


def test_first_run_adds_everything_and_search_finds_it(settings):
    report = ingest(settings, progress=False)
    assert (report.added, report.updated, report.removed, report.unchanged, report.skipped) == (3, 0, 0, 0, [])
    counts, ids = stored(settings)
    assert set(counts) == {"kunnat/laukaa.md", "kunnat/joutsa.md", "rahoitus.md"}
    assert len(ids) == len(set(ids)) == report.total_chunks
    hits = Retriever(settings).search("Mitkä ovat Laukaan suurimmat päästölähteet?", k=3)
    assert hits[0].record.doc_id == "kunnat/laukaa.md"
    assert hits[0].dense is not None  # the dense ranking took part


def test_second_run_changes_nothing(settings):
    ingest(settings, progress=False)
    before = stored(settings)
    report = ingest(settings, progress=False)
    assert (report.added, report.updated, report.removed, report.unchanged, report.embedded) == (0, 0, 0, 3, 0)
    assert stored(settings) == before


def test_changed_file_replaces_its_chunks_and_removed_file_loses_them(settings, small_corpus):
    ingest(settings, progress=False)
    laukaa = small_corpus / "kunnat" / "laukaa.md"
    laukaa.write_text(laukaa.read_text(encoding="utf-8").replace("35 %", "41 %"), encoding="utf-8")
    (small_corpus / "kunnat" / "joutsa.md").unlink()
    report = ingest(settings, progress=False)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 1, 1)
    counts, ids = stored(settings)
    assert set(counts) == {"kunnat/laukaa.md", "rahoitus.md"}
    texts = chroma_collection(settings).get(where={"doc_id": "kunnat/laukaa.md"})["documents"]
    assert any("41 %" in t for t in texts) and not any("35 %" in t for t in texts)
    assert {r.id for r in RecordStore(settings.data_dir).load()} == set(ids)


def test_crash_mid_ingest_leaves_no_half_document_and_next_run_repairs(settings, small_corpus, monkeypatch):
    from chromadb.api.models.Collection import Collection

    real_upsert = Collection.upsert
    calls = {"n": 0}

    def crashing_upsert(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("power cut")
        return real_upsert(self, *args, **kwargs)

    monkeypatch.setattr(Collection, "upsert", crashing_upsert)
    with pytest.raises(KeyboardInterrupt):
        ingest(settings, progress=False)
    monkeypatch.setattr(Collection, "upsert", real_upsert)
    counts, _ = stored(settings)
    records = RecordStore(settings.data_dir).load()
    for doc_id, n in counts.items():  # whatever made it in is whole
        assert n == sum(1 for r in records if r.doc_id == doc_id)
    assert not dense_is_current(settings)
    report = ingest(settings, progress=False)
    assert report.unchanged == 3 and report.embedded > 0
    assert dense_is_current(settings)
    counts, ids = stored(settings)
    assert len(counts) == 3 and len(ids) == len(set(ids))


def test_rebuild_starts_over(settings):
    ingest(settings, progress=False)
    report = ingest(settings, rebuild=True, progress=False)
    assert report.added == 3 and report.unchanged == 0
    counts, ids = stored(settings)
    assert len(counts) == 3 and len(ids) == len(set(ids))


def test_bad_file_is_skipped_and_keeps_what_was_there(settings, small_corpus):
    ingest(settings, progress=False)
    laukaa = small_corpus / "kunnat" / "laukaa.md"
    laukaa.write_bytes(b"")  # the file breaks...
    scanned_pdf(small_corpus / "skannattu.pdf")
    report = ingest(settings, progress=False)
    reasons = {Path(s["path"]).name: s["reason"] for s in report.skipped}
    assert reasons == {"laukaa.md": "empty file", "skannattu.pdf": "no text layer: needs OCR"}
    counts, _ = stored(settings)
    assert "kunnat/laukaa.md" in counts  # ...but its earlier chunks are not lost


def run_cli(*args: str, cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_cli_json_summary_and_exit_codes(small_settings, small_corpus):
    data = str(small_settings.data_dir)
    done = run_cli("-m", "ingest", str(small_corpus), "--json", "--data-dir", data)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert set(summary) == {"files", "pages", "chunks", "added", "updated", "removed", "unchanged", "skipped", "seconds"}
    assert summary["added"] == 3 and summary["skipped"] == []
    (small_corpus / "taulukko.xlsx").write_bytes(b"PK")
    partial = run_cli("-m", "ingest", str(small_corpus), "--json", "--data-dir", data)
    assert partial.returncode == 1
    assert json.loads(partial.stdout)["skipped"] == [
        {"path": str((small_corpus / "taulukko.xlsx").resolve()), "reason": "unsupported file type '.xlsx'"}
    ]
    assert run_cli("-m", "ingest", "/no/such/folder", "--data-dir", data).returncode == 2
    assert run_cli("-m", "ingest", "--no-such-flag").returncode == 2


def test_cli_search_json_contract(small_settings, small_corpus):
    data = str(small_settings.data_dir)
    assert run_cli("-m", "ingest", str(small_corpus), "--data-dir", data).returncode == 0
    done = run_cli("-m", "bot", "search", "Mistä kunta saa avustusta ilmastotyöhön?", "--k", "2", "--json", "--data-dir", data)
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)
    assert len(hits) == 2
    assert set(hits[0]) == {"doc_id", "title", "page", "municipality", "score", "text"}
    assert hits[0]["doc_id"] == "rahoitus.md"
    assert "avustuksia" in hits[0]["text"]


def test_two_data_dirs_never_mix(tmp_path, small_corpus, small_settings):
    other = replace(small_settings, data_dir=tmp_path / "other")
    ingest(small_settings, progress=False)
    assert Retriever(other).records == []
