"""The content-gap report: counts, groups of similar badly answered questions, the CLI in JSON and Finnish."""

import json

import pytest

from bot.__main__ import main
from bot.questionlog import QuestionLog
from bot.questionmatch import QuestionMatcher
from bot.report import gap_report
from tests.conftest import make_settings
from tests.services_postgres import database_url, postgres_server  # noqa: F401 (fixtures)
from tests.test_questionlog import cited_answer
from tests.test_reviewed import MUST_MATCH, WordEmbeddings, real_matcher  # noqa: F401 (fixture)

ASKED = [  # (question, outcome, best score)
    ("Mistä saamme rahoitusta?", "refused", None),
    ("Mistä saamme rahoitusta", "refused", None),
    ("mistä saamme rahoitusta?", "partial", 0.86),
    ("Onko Joutsa Hinku-kunta?", "refused", None),
    ("Onko Laukaa Hinku-kunta?", "refused", None),
    ("Mitkä ovat Laukaan päästöt?", "answered", 0.84),  # answered, but barely above the refusal threshold (0.83)
    ("Mitä ilmastolaki vaatii kunnalta?", "answered", 0.93),  # answered well: no gap
]


@pytest.fixture
def settings(tmp_path, database_url):
    settings = make_settings(tmp_path / "data", database_url=database_url)
    log = QuestionLog(settings)
    for question, outcome, score in ASKED:
        log.record(question, None, cited_answer(outcome, score))
    return settings


def test_similar_gaps_are_grouped_most_frequent_first_with_counts_and_examples(settings):
    report = gap_report(settings, days=7, matcher=QuestionMatcher(WordEmbeddings())).as_json()
    assert report["counts"] == {"answered": 2, "partial": 1, "refused": 4, "total": 7}
    first, *others = report["groups"]
    assert (first["count"], first["outcome"]) == (3, "refused")
    assert set(first["examples"]) == {"Mistä saamme rahoitusta?", "Mistä saamme rahoitusta", "mistä saamme rahoitusta?"}
    assert sorted((g["count"], g["outcome"], g["examples"][0]) for g in others) == [
        (1, "answered", "Mitkä ovat Laukaan päästöt?"), (1, "refused", "Onko Joutsa Hinku-kunta?"),
        (1, "refused", "Onko Laukaa Hinku-kunta?")]  # two municipalities are two gaps


def test_the_report_command_prints_json_and_finnish_text(tmp_path, monkeypatch, capsys):
    settings = make_settings(tmp_path / "data")
    log = QuestionLog(settings)
    for question, outcome, score in ASKED[:3]:
        log.record(question, None, cited_answer(outcome, score))
    monkeypatch.setattr("bot.report.base_embeddings", lambda settings: WordEmbeddings())
    monkeypatch.delenv("ILMASTO_DATABASE_URL", raising=False)
    assert main(["report", "--json", "--days", "3", "--data-dir", str(tmp_path / "data")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["groups"][0]["count"] == 3 and report["counts"]["total"] == 3
    assert main(["report", "--data-dir", str(tmp_path / "data")]) == 0
    text = capsys.readouterr().out
    assert "Kysymyksiä 3: vastattu 0, osittain 1, ei vastausta 2." in text
    assert "1. 3 kertaa – ei vastausta" in text and "   – Mistä saamme rahoitusta?" in text


def test_an_empty_log_reports_no_gaps_in_finnish(tmp_path):
    report = gap_report(make_settings(tmp_path / "data"), matcher=QuestionMatcher(WordEmbeddings()))
    assert report.groups == [] and "Ei vastaamatta jääneitä" in report.as_text()


@pytest.mark.slow
def test_paraphrased_gaps_fall_into_one_group_each(tmp_path, real_matcher):
    settings = make_settings(tmp_path / "data")
    log = QuestionLog(settings)
    topics = MUST_MATCH[:4]
    for pair in topics:
        for question in pair:
            log.record(question, None, cited_answer("refused", None))
    groups = gap_report(settings, matcher=real_matcher).groups
    assert sorted(sorted(g.examples) for g in groups) == sorted(sorted(pair) for pair in topics)


def test_search_on_an_empty_store_says_so_in_finnish(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("ILMASTO_DATABASE_URL", raising=False)
    assert main(["search", "Mitä ilmastolaki vaatii?", "--data-dir", str(tmp_path / "data")]) == 1
    assert "Aineisto on vielä tyhjä" in capsys.readouterr().err
