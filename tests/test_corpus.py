"""The starter corpus is complete: metadata, sources, every municipality, the numbers table, the dev set."""

from __future__ import annotations

import csv
import datetime
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
    assert all(r.checked for r in records)  # every chunk can tell the answer when its facts were checked
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


# ------------------------------------------------- the corpus holds together (issue 10: facts checked and aligned)

SOURCE_MARKDOWN = sorted((PROJECT_ROOT / "scripts" / "tietopaketti").glob("*.md"))  # the PDFs' own text
CHECKED_DOCUMENTS = MARKDOWN + SOURCE_MARKDOWN
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÅÄÖ0-9])")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n|\n(?=\s*[-*] )")


def _paragraphs(path) -> list[str]:
    """The document's own prose (no front matter, no source list), one string per paragraph or list item."""
    _, body = split_front_matter(path.read_text(encoding="utf-8"))
    prose = re.split(r"^##\s+Lähteet\s*$", body, flags=re.M)[0]
    return [" ".join(p.split()) for p in _PARAGRAPH_BREAK.split(prose) if p.strip()]


def _offending(rule) -> list[str]:
    """Every (document, paragraph, sentence) that breaks a rule(paragraph, sentence) -> bool, for a readable failure."""
    return [
        f"{path.name}: {sentence}"
        for path in CHECKED_DOCUMENTS
        for paragraph in _paragraphs(path)
        for sentence in _SENTENCE_END.split(paragraph)
        if rule(paragraph, sentence)
    ]


def _iso_date(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))


@pytest.mark.parametrize("path", CHECKED_DOCUMENTS, ids=lambda p: p.relative_to(PROJECT_ROOT).as_posix())
def test_every_markdown_document_says_when_its_facts_were_checked(path):
    front, _ = split_front_matter(path.read_text(encoding="utf-8"))
    assert front.get("checked"), f"{path.name} has no 'checked: YYYY-MM-DD' in its front matter"
    assert datetime.date(2024, 1, 1) <= _iso_date(front["checked"]) <= datetime.date.today()


@pytest.mark.parametrize("path", PDFS, ids=lambda p: p.name)
def test_every_pdf_says_in_sources_toml_when_its_facts_were_checked(path):
    meta = read_sidecar(CORPUS)[path.relative_to(CORPUS).as_posix()]
    assert datetime.date(2024, 1, 1) <= _iso_date(meta["checked"]) <= datetime.date.today()


def test_one_place_states_the_recurring_facts_with_the_date_checked():
    overview = (CORPUS / "alue" / "keski-suomen-ilmastotyo.md").read_text(encoding="utf-8")
    section = overview.split("## Toistuvat perustiedot (tarkistettu ")[1].split("\n## ")[0]
    for fact in ("41 %", "39 %", "99 kuntaa", "jäseniä on 13", "1.3.2023", "HE 151/2024", "4.12.2024", "1.6.2022–31.5.2023", "1.9.2023–31.5.2025"):
        assert fact in section, fact


_FISU_COUNT = re.compile(r"\b(\d+|kahdeksa\w*|yhdeksä\w*|kymmene\w*|yksitoista\w*|yhdentoista\w*)\s+(?:jäsen|kun)\w*|jäseniä on (\d+|kahdeksan)", re.I)


def test_fisu_membership_counts_agree_with_the_current_thirteen():
    def wrong(paragraph, sentence):
        counts = [next(g for g in m.groups() if g) for m in _FISU_COUNT.finditer(sentence)] if "fisu" in sentence.lower() else []
        return any(c != "13" for c in counts) and "13" not in paragraph
    assert _offending(wrong) == []


def test_hinku_counts_agree_with_the_current_ninety_nine():
    stale = re.compile(r"\b9[0-8]\s+(?:hinku-)?kunta|kuntia (?:oli|on) 9[0-8]\b", re.I)
    assert _offending(lambda p, s: "hinku" in s.lower() and bool(stale.search(s))) == []


def test_twenty_three_municipalities_only_with_kuhmoinen_explained():
    assert _offending(lambda p, s: bool(re.search(r"\b23 kun", s)) and not ("Kuhmoi" in p and "22 kuntaa" in p)) == []


def test_climate_plan_duty_started_on_1_3_2023_not_the_proposed_date():
    assert _offending(lambda p, s: "1.1.2023" in s and not ("ehdot" in s and "1.3.2023" in p)) == []


def test_climate_plan_duty_in_present_tense_or_as_cancelled_always_names_he_151_2024():
    duty = re.compile(r"ilmastosuunnitelm|velvoit|14 a", re.I)
    assert _offending(lambda p, s: bool(re.search(r"\bvelvoittaa\b", s)) and bool(duty.search(s.replace("velvoittaa", ""))) and "HE 151/2024" not in p) == []
    assert _offending(lambda p, s: bool(re.search(r"\bperu(?:ttiin|tuksi|taan|ttu|ttiin|i)\b", s)) and "velvoit" in s and "HE 151/2024" not in p) == []
    assert _offending(lambda p, s: bool(re.search(r"velvoite\s+peruttiin", s))) == []  # the 2023 programme did not cancel it


def test_regional_reduction_since_2007_always_comes_with_both_calculations():
    figure = re.compile(r"\b(?:41|39)\s*(?:%|prosent)")
    both = lambda p: bool(re.search(r"\b41\s*(?:%|prosent)", p)) and bool(re.search(r"\b39\s*(?:%|prosent|–41)", p))
    assert _offending(lambda p, s: bool(figure.search(s)) and "2007" in s and not both(p)) == []


def test_ended_programmes_are_not_written_in_the_present_tense():
    present = re.compile(r"päättyy vuonna 2025|kaudella 2017–2025 tavoitteena on|sopimus kaudelle 2017–2025 on\b|rahoittaa KEINO|asettaa itselleen energiansäästön", re.I)
    assert _offending(lambda p, s: bool(present.search(s))) == []


def test_details_the_fact_check_found_unsupported_stay_out():
    unsupported = re.compile(r"17\.5\.2021|kokoontui ensimmäisen kerran 4\.6\.2024|Ilmastokoordinaattori aloitti 1\.10\.2021|kahdeksasta kunnasta")
    assert _offending(lambda p, s: bool(unsupported.search(s))) == []


# --------------------------------------------------------------------------- copy check (scripts/check_copying.py)


def test_copy_check_flags_a_ten_word_run_whatever_the_case_and_punctuation(tmp_path):
    from scripts.check_copying import shared_runs, source_index

    sources = tmp_path / "lahteet"
    sources.mkdir()
    (sources / "tiedote.txt").write_text(
        "Kunta on laatinut ilmastosuunnitelman, jonka tavoitteena on vähentää päästöjä 70 % vuoteen 2035 mennessä.", encoding="utf-8"
    )
    copied = tmp_path / "kopio.md"
    copied.write_text(
        "---\ntitle: Testi\n---\n# Testi\n\nKUNTA on laatinut ilmastosuunnitelman; jonka tavoitteena on vähentää päästöjä 70 vuoteen 2035.\n",
        encoding="utf-8",
    )
    own = tmp_path / "oma.md"
    own.write_text(
        "---\ntitle: Testi\n---\n# Testi\n\nKunta on laatinut ilmastosuunnitelman, jossa päästöt laskevat 70 % vuoteen 2035.\n\n"
        "## Lähteet\n\n- Kunta on laatinut ilmastosuunnitelman, jonka tavoitteena on vähentää päästöjä 70 %. https://x.fi\n",
        encoding="utf-8",
    )
    index = source_index([sources / "tiedote.txt"], 10)
    runs = shared_runs(copied, index, 10)
    assert [" ".join(r.words) for r in runs] == ["kunta on laatinut ilmastosuunnitelman jonka tavoitteena on vähentää päästöjä 70 vuoteen 2035"]
    assert runs[0].source.name == "tiedote.txt"
    assert shared_runs(own, index, 10) == []  # own sentence, and the source list may quote a title


def test_copy_check_exits_nonzero_only_when_something_was_copied(tmp_path, capsys):
    from scripts.check_copying import main

    (tmp_path / "lahteet").mkdir()
    (tmp_path / "lahteet" / "a.txt").write_text("yksi kaksi kolme neljä viisi kuusi seitsemän kahdeksan yhdeksän kymmenen", encoding="utf-8")
    (tmp_path / "doc.md").write_text("# D\n\nYksi kaksi kolme neljä viisi kuusi seitsemän kahdeksan yhdeksän.\n", encoding="utf-8")
    assert main([str(tmp_path / "lahteet"), str(tmp_path / "doc.md")]) == 0
    (tmp_path / "doc.md").write_text("# D\n\nYksi, kaksi, kolme, neljä, viisi, kuusi, seitsemän, kahdeksan, yhdeksän, kymmenen.\n", encoding="utf-8")
    assert main([str(tmp_path / "lahteet"), str(tmp_path / "doc.md")]) == 1
    assert "10 words shared with a.txt" in capsys.readouterr().out
