"""Incremental, idempotent ingest against both store modes: embedded Chroma and a real `chroma run` server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from bot.retrieval import Retriever
from bot.settings import PROJECT_ROOT
from bot.store import RecordStore, chroma_collection
from bot.lexical import load_matching
from ingest.pipeline import dense_is_current, ingest, lexical_phase
from tests.pdfs import scanned_pdf


@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.server)])
def settings(request, small_settings):
    """The small corpus's settings in each store mode; the server is the session's `chroma run`."""
    if request.param == "embedded":
        return small_settings
    host, port = request.getfixturevalue("chroma_server")
    return small_settings.replace(chroma_host=host, chroma_port=port, collection=f"test-{uuid.uuid4().hex[:12]}")


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


def _crash_on_call(monkeypatch, owner, name: str, call: int) -> None:
    """Make ``owner.name`` die like a killed process (not an Exception: nothing may catch it) on its nth call."""
    real = getattr(owner, name)
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == call:
            raise KeyboardInterrupt("power cut")
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, dying)


def _kill_points():
    from chromadb.api.models.Collection import Collection

    from bot.lexical import LexicalIndex

    return {"between the chunk records and the BM25 index": (LexicalIndex, "save"),
            "at the first dense upsert": (Collection, "upsert")}


@pytest.mark.parametrize("kill_point", list(_kill_points()))
def test_crash_while_updating_is_survived_by_readers_and_repaired_by_the_next_run(settings, small_corpus, monkeypatch,
                                                                                  kill_point):
    ingest(settings, progress=False)
    laukaa = small_corpus / "kunnat" / "laukaa.md"
    laukaa.write_text(laukaa.read_text(encoding="utf-8").replace("35 %", "41 %"), encoding="utf-8")
    with monkeypatch.context() as patch:
        _crash_on_call(patch, *_kill_points()[kill_point], call=1)
        with pytest.raises(KeyboardInterrupt):
            ingest(settings, progress=False)
    question = "Mikä oli tieliikenteen osuus Laukaan päästöistä?"
    records = {r.id: r for r in RecordStore(settings.data_dir).load()}
    for mode in ("lexical", "hybrid"):  # a reader of the half-updated store: only chunks it knows, the new text
        hits = Retriever(settings).search(question, k=3, mode=mode)
        assert hits and all(h.record.id in records for h in hits)
        assert "41 %" in hits[0].record.text
    report = ingest(settings, progress=False)
    assert report.unchanged == 3 and report.skipped == []
    assert load_matching(settings, list(records.values())) is not None
    assert dense_is_current(settings)
    assert "41 %" in Retriever(settings).search(question, k=1, mode="dense")[0].record.text


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


def run_cli(*args: str, cwd: Path = PROJECT_ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **(env or {})}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_cli_json_summary_and_exit_codes(small_settings, small_corpus):
    data = str(small_settings.data_dir)
    done = run_cli("-m", "ingest", str(small_corpus), "--json", "--data-dir", data)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert set(summary) == {"files", "pages", "chunks", "embedded", "added", "updated", "removed", "unchanged",
                            "skipped", "seconds"}
    assert summary["added"] == 3 and summary["skipped"] == [] and summary["embedded"] == summary["chunks"] > 0
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
    installed = run_cli("-m", "bot.cli", "search", "Mistä kunta saa avustusta ilmastotyöhön?", "--k", "2", "--json",
                        "--data-dir", data)  # what the `ilmasto search` console command runs
    assert json.loads(installed.stdout) == hits


def test_two_data_dirs_never_mix(tmp_path, small_corpus, small_settings):
    other = small_settings.replace(data_dir=tmp_path / "other")
    ingest(small_settings, progress=False)
    assert Retriever(other).records == []


def test_a_resumed_run_reports_the_chunks_it_embedded(small_settings, small_corpus):
    lexical_phase(small_settings, [small_corpus], progress=False)  # as if the dense phase had been killed
    done = run_cli("-m", "ingest", str(small_corpus), "--json", "--data-dir", str(small_settings.data_dir))
    summary = json.loads(done.stdout)
    assert (summary["chunks"], summary["unchanged"]) == (0, 3)
    assert summary["embedded"] == len(RecordStore(small_settings.data_dir).load()) > 0


def test_links_out_of_the_corpus_are_skipped_and_reported(small_settings, small_corpus, tmp_path):
    secret = tmp_path / "salaisuus" / "passwd.txt"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0:salasanaloki zyxwvu\n", encoding="utf-8")
    (small_corpus / "linkki.txt").symlink_to(secret)
    (small_corpus / "kansio").symlink_to(secret.parent, target_is_directory=True)  # not even walked into
    (small_corpus / "sisainen.md").symlink_to(small_corpus / "rahoitus.md")  # inside the corpus: fine
    report = ingest(small_settings, progress=False)
    assert [(Path(s["path"]).name, "outside" in s["reason"]) for s in report.skipped] == [("linkki.txt", True)]
    assert report.added == 4
    given = ingest(small_settings, [small_corpus / "linkki.txt"], progress=False)  # named on the command line
    assert [Path(s["path"]).name for s in given.skipped] == ["linkki.txt"] and given.added == 0
    records = RecordStore(small_settings.data_dir).load()
    assert not any("zyxwvu" in r.text for r in records)
    assert {r.doc_id for r in records} == {"kunnat/laukaa.md", "kunnat/joutsa.md", "rahoitus.md", "sisainen.md"}


def test_a_reload_during_a_search_does_not_mix_two_stores(small_settings, small_corpus, monkeypatch):
    ingest(small_settings, progress=False)
    retriever = Retriever(small_settings)
    (small_corpus / "kunnat" / "joutsa.md").unlink()  # every later chunk moves up one place in the new index
    lexical_phase(small_settings, [small_corpus], progress=False)
    old_lexical = retriever.lexical
    real_scores = type(old_lexical).scores

    def scores_then_reload(index, text):  # another thread picks up the ingest while this search is under way
        result = real_scores(index, text)
        if index is old_lexical:
            retriever.reload()
        return result

    monkeypatch.setattr(type(old_lexical), "scores", scores_then_reload)
    hits = retriever.search("Ovatko tieliikenne ja maatalous suurimmat päästölähteet?", k=3, mode="lexical")
    assert [h.record.doc_id for h in hits] == ["kunnat/laukaa.md"]  # the scores and the ids of one and the same index
    assert {r.doc_id for r in retriever.records} == {"kunnat/laukaa.md", "rahoitus.md"}  # the next search: new store


def test_an_ingest_by_another_process_reaches_the_running_service(small_settings, small_corpus, monkeypatch):
    from bot import service as service_module
    from bot.service import BotService

    ingest(small_settings, progress=False)
    service = BotService(small_settings, ingest_on_start=False)
    monkeypatch.setattr(service_module, "GENERATION_CHECK_S", 0.0)
    assert not service.follow_ingest()  # nothing changed yet
    (small_corpus / "kunnat" / "multia.md").write_text(
        "---\ntitle: Multia – tiivistelmä\nmunicipality: Multia\n---\n# Multia\n\n## Päästöt\n\n"
        "Multian suurin päästölähde on maatalous, ja metsät sitovat hiiltä enemmän kuin kunta päästää.\n",
        encoding="utf-8")
    chunks_before = service.status.chunks
    done = run_cli("-m", "ingest", "--data-dir", str(small_settings.data_dir),
                   env={"ILMASTO_CORPUS_DIR": str(small_corpus)})
    assert done.returncode == 0, done.stderr
    answer = service.answer("Mikä on Multian suurin päästölähde?")
    assert any(c.doc_id == "kunnat/multia.md" for c in answer.citations), answer.answer
    assert service.status.chunks > chunks_before and service.status.dense_ready
