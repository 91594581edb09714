"""The evaluation set (eval/questions.jsonl) keeps its shape and its split, and scripts/evaluate.py scores right."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from bot.municipalities import MUNICIPALITIES

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import evaluate  # noqa: E402

KINDS = {"amount", "time", "who", "list", "reason", "yesno", "definition", "comparison", "multi", "followup", "keyword",
         "colloquial", "typo", "unanswerable", "off_topic"}
FIELDS = {"id", "question", "expect", "refuse_kind", "must_include", "doc_ids", "kind", "municipality", "history", "split"}
QUESTIONS = evaluate.load_questions()


def expected_split(question_id: str) -> str:
    return "test" if int(hashlib.sha256(question_id.encode()).hexdigest(), 16) % 10 < 3 else "tune"


# ---------------------------------------------------------------- the question set


def test_split_is_the_hash_of_the_id_so_it_never_drifts():
    drifted = [q["id"] for q in QUESTIONS if q["split"] != expected_split(q["id"])]
    assert drifted == []
    test_share = sum(q["split"] == "test" for q in QUESTIONS) / len(QUESTIONS)
    assert 0.2 < test_share < 0.4


def test_ids_are_unique_and_every_line_has_the_fields():
    ids = [q["id"] for q in QUESTIONS]
    assert len(ids) == len(set(ids))
    for q in QUESTIONS:
        assert {"id", "question", "expect", "must_include", "doc_ids", "kind", "split"} <= set(q) <= FIELDS, q["id"]
        assert q["question"].strip() and q["kind"] in KINDS, q["id"]
        if q["expect"] == "answer":
            assert "refuse_kind" not in q and 1 <= len(q["must_include"]) <= 3 and q["doc_ids"], q["id"]
        else:
            assert q["expect"] == "refuse" and q["refuse_kind"] in ("off_topic", "unanswerable"), q["id"]
            assert q["must_include"] == [] and q["kind"] in ("unanswerable", "off_topic"), q["id"]


def test_municipality_and_history_are_what_the_answerer_takes():
    for q in QUESTIONS:
        if "municipality" in q:
            assert q["municipality"] in MUNICIPALITIES, q["id"]
        for pair in q.get("history", []):
            assert len(pair) == 2 and pair[0].strip() and isinstance(pair[1], str), q["id"]


def test_the_set_is_large_and_mostly_unseen_with_a_quarter_unanswerable():
    assert len(QUESTIONS) >= 300
    unanswerable = sum(q.get("refuse_kind") == "unanswerable" for q in QUESTIONS)
    off_topic = sum(q.get("refuse_kind") == "off_topic" for q in QUESTIONS)
    assert unanswerable >= 0.25 * len(QUESTIONS)
    assert 0 < off_topic < unanswerable
    for split in ("tune", "test"):
        chosen = evaluate.in_split(QUESTIONS, split)
        assert {q.get("refuse_kind") for q in chosen} == {None, "off_topic", "unanswerable"}, split


def test_the_dev_questions_are_kept_with_their_ids_and_fields():
    by_id = {q["id"]: q for q in QUESTIONS}
    for line in (ROOT / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines():
        dev = json.loads(line)
        kept = by_id[dev["id"]]
        assert {k: kept[k] for k in dev} == dev


@pytest.fixture(scope="module")
def corpus() -> dict[str, str]:
    return {doc_id: evaluate._plain(text) for doc_id, text in evaluate.corpus_documents(ROOT / "corpus").items()}


def test_every_doc_id_exists_and_its_documents_hold_every_fact(corpus):
    for q in QUESTIONS:
        for doc_id in q["doc_ids"]:
            assert doc_id in corpus, (q["id"], doc_id)
        for fact in q["must_include"]:
            assert any(evaluate._plain(fact) in corpus[d] for d in q["doc_ids"]), (q["id"], fact)


# ---------------------------------------------------------------- metrics on made-up answers


def item(id_: str, expect: str = "answer", facts=(), kind: str = "amount", refuse_kind: str | None = None) -> dict:
    row = {"id": id_, "question": f"kysymys {id_}?", "expect": expect, "must_include": list(facts), "kind": kind,
           "split": "tune"}
    if refuse_kind:
        row["refuse_kind"] = refuse_kind
    return row


def result(answer: str, refused: bool = False, citations=(), seconds: float = 0.01) -> dict:
    return {"answer": answer, "refused": refused, "citations": list(citations), "seconds": seconds}


CHUNK = "Maakuntahallitus hyväksyi tiekartan 23.9.2022. Tavoite on 80 % vähemmän päästöjä kuin 2007."


def test_a_fact_counts_case_insensitively_and_across_line_breaks():
    found = evaluate.facts_present("MAAKUNTAHALLITUS hyväksyi sen\n23.9.2022", ["maakuntahallitus", "23.9.2022", "80 %"])
    assert found == [True, True, False]
    assert evaluate.facts_present("tavoite 80\n%", ["80 %"]) == [True]


def test_a_quote_is_verbatim_only_if_its_characters_are_in_the_chunk():
    assert evaluate.quote_is_verbatim({"quote": "Maakuntahallitus hyväksyi tiekartan 23.9.2022.", "chunk_text": CHUNK})
    assert evaluate.quote_is_verbatim({"quote": "Tavoite on 80 %", "chunk_text": CHUNK.replace("80 %", "80\n%")})
    assert not evaluate.quote_is_verbatim({"quote": "maakuntahallitus hyväksyi tiekartan", "chunk_text": CHUNK})
    assert not evaluate.quote_is_verbatim({"quote": "Tavoite on 80 % vähemmän päästöjä kuin 2005.", "chunk_text": CHUNK})
    assert not evaluate.quote_is_verbatim({"quote": "", "chunk_text": CHUNK})


def test_summary_separates_found_facts_refusal_kinds_and_false_refusals():
    items = [
        item("kaikki", facts=["23.9.2022", "Maakuntahallitus"]),
        item("puolet", facts=["23.9.2022", "80 %"]),
        item("torjuttu", facts=["2007"]),
        item("ohi", "refuse", kind="off_topic", refuse_kind="off_topic"),
        item("ei-tietoa", "refuse", kind="unanswerable", refuse_kind="unanswerable"),
        item("ei-tietoa-2", "refuse", kind="unanswerable", refuse_kind="unanswerable"),
    ]
    good = {"quote": "Maakuntahallitus hyväksyi tiekartan 23.9.2022.", "chunk_text": CHUNK}
    results = [
        result("Maakuntahallitus hyväksyi tiekartan 23.9.2022. [1]", citations=[good], seconds=0.02),
        result("Tiekartta hyväksyttiin 23.9.2022 [1]", citations=[{"quote": "keksitty lause", "chunk_text": CHUNK}]),
        result("Aineisto ei kata tätä.", refused=True),
        result("En voi vastata.", refused=True),
        result("Aineiston mukaan: jotain aivan muuta [1]", citations=[good]),
        result("Aineisto ei kata tätä.", refused=True),
    ]
    scores = [evaluate.score(i, r) for i, r in zip(items, results)]
    figures = evaluate.summarize(scores)
    assert figures["every_fact_found"] == pytest.approx(1 / 3, abs=1e-3)
    assert figures["fact_share"] == pytest.approx(3 / 5)
    assert figures["false_refusals"] == 1
    assert figures["refusal_accuracy_off_topic"] == 1.0
    assert figures["refusal_accuracy_unanswerable"] == 0.5
    assert figures["refusal_accuracy"] == pytest.approx(2 / 3, abs=1e-3)
    assert figures["citation_validity"] == pytest.approx(2 / 3, abs=1e-3)
    assert figures["answers_cited"] == 1.0
    assert figures["cited_chunk_holds_fact"] == 1.0
    assert figures["words_max"] == 6
    assert figures["by_kind"]["unanswerable"] == {"n": 2, "ok": 0.5}
    assert figures["by_kind"]["amount"] == {"n": 3, "ok": 0.333}


def test_a_cited_chunk_without_any_fact_is_noticed():
    unrelated = {"quote": "Jotain.", "chunk_text": "Jotain."}
    s = evaluate.score(item("x", facts=["80 %"]), result("80 % vähemmän [1]", citations=[unrelated]))
    assert s.ok and s.cited_fact is False


def test_failures_name_the_missing_fact_and_show_the_start_of_the_answer():
    long_answer = "Aineiston mukaan: " + "sana " * 100
    scores = [
        evaluate.score(item("puuttuu", facts=["23.9.2022", "80 %"]), result("Hyväksytty 23.9.2022 " + long_answer)),
        evaluate.score(item("vastasi", "refuse", kind="unanswerable", refuse_kind="unanswerable"),
                       result("Budjetti on 5 €.")),
        evaluate.score(item("torjui", facts=["2007"]), result("Ei tietoa.", refused=True)),
        evaluate.score(item("oikein", facts=["2007"]), result("vuodesta 2007")),
    ]
    listed = {f["id"]: f for f in evaluate.failures(scores)}
    assert set(listed) == {"puuttuu", "vastasi", "torjui"}
    assert listed["puuttuu"]["expected"] == ["80 %"] and len(listed["puuttuu"]["got"]) == 200
    assert listed["vastasi"]["expected"] == "refuse" and listed["vastasi"]["got"] == "Budjetti on 5 €."
    assert listed["torjui"]["got"].startswith("[refused]")


def test_report_puts_the_splits_side_by_side():
    items = [item("a", facts=["2007"]), {**item("b", facts=["2007"]), "split": "test"}]
    figures = evaluate.report(items, [result("2007"), result("ei")], ["tune", "test", "all"])
    assert [figures[s]["every_fact_found"] for s in ("tune", "test", "all")] == [1.0, 0.0, 0.5]
    table = evaluate.as_table(figures)
    assert "every_fact_found" in table and "tune" in table and "test" in table


def test_batch_output_is_scored_against_the_cited_document(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "laukaa.md").write_text("---\ntitle: Laukaa\nmunicipality: Laukaa\n---\n# Laukaa\n\n"
                                       "Satavuon koulun katolla on 221 aurinkopaneelia.\n", encoding="utf-8")
    questions = [item("laukaa-aurinko", facts=["221 aurinkopaneelia"])]
    batch = tmp_path / "out.jsonl"
    line = {"id": "laukaa-aurinko", "question": "Paljonko aurinkopaneeleja?", "result": {
        "answer": "Satavuon koulun katolla on 221 aurinkopaneelia. [1]", "refused": False, "outcome": "answered",
        "seconds": 0.05,
        "citations": [{"n": 1, "doc_id": "laukaa.md", "quote": "Satavuon koulun katolla on 221 aurinkopaneelia."}]}}
    batch.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    items, results = evaluate.batch_results(batch, questions, corpus)
    assert items[0]["must_include"] == ["221 aurinkopaneelia"] and items[0]["split"] == "tune"
    figures = evaluate.summarize([evaluate.score(i, r) for i, r in zip(items, results)])
    assert figures["every_fact_found"] == 1.0 and figures["citation_validity"] == 1.0
    assert figures["cited_chunk_holds_fact"] == 1.0 and figures["latency_ms_p50"] == 50.0
