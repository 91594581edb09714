"""The starter corpus is complete: metadata, sources, every municipality, the numbers table, the dev set."""

from __future__ import annotations

import csv
import json
import re

import pytest

from bot.municipalities import MUNICIPALITIES
from bot.settings import PROJECT_ROOT
from ingest.loaders import read_sidecar, split_front_matter
from ingest.pipeline import discover, lexical_phase
from tests.conftest import CORPUS, make_settings

URL = re.compile(r"https?://\S+")
MARKDOWN = sorted(p for p in CORPUS.rglob("*.md") if p.name != "README.md")
PDFS = sorted(CORPUS.rglob("*.pdf"))


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: p.relative_to(CORPUS).as_posix())
def test_markdown_document_has_title_sources_date_and_notice(path):
    front, body = split_front_matter(path.read_text(encoding="utf-8"))
    assert front.get("title") and front.get("date") and front.get("doc_type")
    assert URL.match(str(front.get("source_url", "")))
    assert front.get("sources") and all(URL.match(s["url"]) for s in front["sources"])
    assert "## Lähteet" in body and len(URL.findall(body.split("## Lähteet")[1])) >= 1
    opening = body.split("##")[0].lower()
    assert "tiivistelmä" in opening or "kooste" in opening  # says it is this project's summary


@pytest.mark.parametrize("path", PDFS, ids=lambda p: p.name)
def test_info_package_pdf_has_metadata_and_is_a_real_multi_page_report(path):
    from pypdf import PdfReader

    meta = read_sidecar(CORPUS)[path.relative_to(CORPUS).as_posix()]
    assert meta["title"].startswith("Keski-Suomen kuntien ilmastotietopaketti – Osa")
    assert meta["date"] and URL.match(meta["source_url"])
    reader = PdfReader(path)
    assert len(reader.pages) >= 8
    words = sum(len((page.extract_text() or "").split()) for page in reader.pages)
    assert words >= 2500
    texts = [page.extract_text() for page in reader.pages]
    assert any(re.search(r"^Lähteet$", t, re.M) for t in texts)  # the report names its sources
    assert all(re.search(r"Sivu \d+$", t.strip()) for t in texts[1:])  # running footer with page numbers


def test_three_info_package_parts():
    assert [p.name for p in PDFS] == [
        "osa-1-paastot-ja-tavoitteet.pdf",
        "osa-2-kunnan-rooli-ilmastojohtaminen-ja-verkostot.pdf",
        "osa-3-tyokaluja-kunnan-ilmastotyohon.pdf",
    ]


def test_every_municipality_has_a_summary_of_the_right_size():
    found = {}
    for path in (CORPUS / "kunnat").glob("*.md"):
        front, body = split_front_matter(path.read_text(encoding="utf-8"))
        assert front["doc_type"] == "kuntatiivistelmä"
        words = len(body.split("## Lähteet")[0].split())
        assert 250 <= words <= 800, (path.name, words)
        found[front["municipality"]] = path
    assert set(found) == set(MUNICIPALITIES)


def test_at_least_six_materials_and_a_regional_overview():
    assert len(list((CORPUS / "materiaalit").glob("*.md"))) >= 6
    assert (CORPUS / "alue" / "keski-suomen-ilmastotyo.md").exists()


def test_every_csv_row_has_a_source_and_a_known_municipality():
    rows = list(csv.DictReader((CORPUS / "data" / "kuntien-luvut.csv").open(encoding="utf-8")))
    assert rows
    for row in rows:
        assert row["municipality"] in MUNICIPALITIES
        assert URL.match(row["source_url"]) and row["source_title"]
        float(row["value"])
        assert re.fullmatch(r"\d{4}(–\d{4})?", row["year"]), row


def test_whole_corpus_loads_with_nothing_skipped(tmp_path):
    report, records = lexical_phase(make_settings(tmp_path / "data"), [CORPUS], progress=False)
    assert report.skipped == []
    assert report.files == len(MARKDOWN) + len(PDFS)
    assert {r.doc_id for r in records} == {s.doc_id for s in discover([CORPUS], make_settings(tmp_path))[0]}


def test_dev_set_covers_the_parts_municipalities_and_materials():
    items = [json.loads(line) for line in (PROJECT_ROOT / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(items) >= 40 and len({i["id"] for i in items}) == len(items)
    docs = {d for i in items for d in i["doc_ids"]}
    assert {p.relative_to(CORPUS).as_posix() for p in PDFS} <= docs
    assert len({d for d in docs if d.startswith("kunnat/")}) >= 10
    assert any(d.startswith("materiaalit/") for d in docs)
    assert sum(i["expect"] == "refuse" for i in items) >= 10
    for item in items:
        assert set(item) == {"id", "question", "doc_ids", "must_include", "expect"}
        assert all((CORPUS / d).exists() for d in item["doc_ids"])
