"""Fit the answer engine's weights and thresholds on the `tune` split only, and say how well they carry over.

    python scripts/tune_answers.py [--data-dir D] [--folds 5] [--rounds 2] [--test]

Every question of `tune` is gathered once (analysis, passages, sentences, similarities: the slow part), then
the decision and the composition are re-run for each candidate value, one parameter at a time (coordinate
ascent over a grid, `--rounds` passes). The objective is every fact found plus refusal accuracy, the two figures
the held-out set is judged on. Cross-validation over `--folds` folds of `tune` (fit on the rest, score the fold)
estimates how the fitted values do on questions they were not fitted on; `--test` scores the `test` split
once with the values fitted on the whole of `tune`. The fitted values are printed: they are copied into the
defaults of bot.evidence.Weights and bot.answerability.Thresholds by hand, so a change is reviewed in git.
"""

from __future__ import annotations

import argparse
import json
import pickle
from dataclasses import asdict, fields, replace
from pathlib import Path

from evaluate import in_split, load_questions, score, summarize

from benchmark import ensure_ingested
from bot.answer import Answerer, Case
from bot.answerability import Thresholds
from bot.conversation import history_pairs
from bot.evidence import EvidenceScorer, Weights
from bot.settings import load_settings

GRID: dict[str, tuple[float | bool, ...]] = {
    "semantic": (0.0, 0.25, 0.5, 0.6, 0.75, 0.9, 1.0),
    "semantic_floor": (0.72, 0.74, 0.76, 0.78, 0.80),
    "semantic_span": (0.04, 0.06, 0.09, 0.12),
    "missing_fit": (0.0, 0.3, 0.45, 0.55, 0.7, 0.85),
    "missing_name": (0.5, 0.7, 0.85, 1.0),
    "wrong_year": (0.1, 0.3, 0.5),
    "passage_rank": (0.0, 0.15, 0.3, 0.5),
    "context": (0.1, 0.3, 0.5),
    "surroundings": (0.0, 0.25, 0.4, 0.55),
    "min_similarity": (0.80, 0.81, 0.82, 0.83, 0.84, 0.85, 0.86),
    "min_coverage": (0.0, 0.1, 0.2, 0.3),
    "min_evidence": (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7),
    "min_lexical": (0.0, 0.1, 0.2, 0.3, 0.4, 0.5),
    "min_sentence_similarity": (0.86, 0.87, 0.88, 0.89, 0.9, 0.91, 1.0),
    "min_semantic_alone": (0.87, 0.88, 0.89, 0.9, 0.91, 0.92, 1.0),
    "local_figures": (True, False),
}
WEIGHT_FIELDS = {f.name for f in fields(Weights)}
Params = tuple[Weights, Thresholds]


def result_json(answerer: Answerer, case: Case, params: Params) -> dict:
    """The answer for one gathered question under the given parameters, as evaluate.score reads it."""
    weights, thresholds = params
    scorer = EvidenceScorer(answerer.scorer.term_weights, answerer.scorer.expand, weights)
    answer = answerer.respond(case, answerer.decide(case, scorer, thresholds))
    return {"answer": answer.answer, "refused": answer.refused,
            "citations": [{"quote": c.quote, "chunk_text": c.chunk_text} for c in answer.citations]}


def figures(answerer: Answerer, items: list[dict], cases: list[Case], params: Params) -> dict:
    return summarize([score(item, result_json(answerer, case, params)) for item, case in zip(items, cases)])


def objective(summary: dict) -> float:
    return (summary["every_fact_found"] or 0.0) + (summary["refusal_accuracy"] or 0.0)


def with_value(params: Params, name: str, value: float) -> Params:
    weights, thresholds = params
    if name in WEIGHT_FIELDS:
        return replace(weights, **{name: value}), thresholds
    return weights, replace(thresholds, **{name: value})


def fit(answerer: Answerer, items: list[dict], cases: list[Case], start: Params, rounds: int) -> Params:
    """Coordinate ascent: each parameter in turn set to its best grid value, the others held."""
    params = start
    for _ in range(rounds):
        for name, values in GRID.items():
            candidates = [with_value(params, name, v) for v in values]
            params = max(candidates, key=lambda p: objective(figures(answerer, items, cases, p)))
    return params


def cross_validate(answerer: Answerer, items: list[dict], cases: list[Case], start: Params, folds: int,
                   rounds: int) -> list[dict]:
    """Each fold scored with values fitted on the other folds."""
    out = []
    for k in range(folds):
        train = [i for i in range(len(items)) if i % folds != k]
        held = [i for i in range(len(items)) if i % folds == k]
        params = fit(answerer, [items[i] for i in train], [cases[i] for i in train], start, rounds)
        out.append(figures(answerer, [items[i] for i in held], [cases[i] for i in held], params))
    return out


def gather(answerer: Answerer, items: list[dict], cache: Path | None = None) -> list[Case]:
    """Each question's Case; with a cache file, kept between runs (delete it after an ingest or a change to
    retrieval or sentence scoring inputs)."""
    if cache and cache.exists():
        cached = pickle.loads(cache.read_bytes())
        if cached["ids"] == [i["id"] for i in items]:
            return cached["cases"]
    cases = [answerer.gather(i["question"], i.get("municipality"), history_pairs(i.get("history") or []))
             for i in items]
    if cache:
        cache.write_bytes(pickle.dumps({"ids": [i["id"] for i in items], "cases": cases}))
    return cases


# Each signal switched off in turn, the rest as fitted: what it adds.
ABLATIONS: dict[str, dict[str, float | bool]] = {
    "no semantic evidence": {"semantic": 0.0},
    "no fit to the kind of question": {"missing_fit": 1.0, "wrong_year": 1.0},
    "no context terms for later parts": {"context": 0.0},
    "no headings or sentence before": {"surroundings": 0.0},
    "no passage rank": {"passage_rank": 0.0},
    "unheard-of names not refused": {"refuse_unheard_of": False},
    "no evidence thresholds": {"min_evidence": 0.0, "min_lexical": 0.0},
    "region-wide figures answer for a municipality": {"local_figures": False},
}


def ablated(params: Params, changes: dict[str, float | bool]) -> Params:
    for name, value in changes.items():
        params = with_value(params, name, value)
    return params


HEADLINE = ("every_fact_found", "fact_share", "refusal_accuracy", "refusal_accuracy_off_topic",
            "refusal_accuracy_unanswerable", "false_refusals", "words_median", "words_max")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path("data/eval"))
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds of tune (1: none)")
    parser.add_argument("--fit", action=argparse.BooleanOptionalAction, default=True,
                        help="--no-fit scores the current defaults only (with ablations)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--test", action="store_true", help="score the test split once with the fitted values")
    parser.add_argument("--cache", type=Path, help="keep the gathered questions in this file between runs")
    args = parser.parse_args()
    settings = load_settings(data_dir=args.data_dir)
    ensure_ingested(settings)
    answerer = Answerer(settings)
    questions = load_questions()
    tune = in_split(questions, "tune")
    cases = gather(answerer, tune, args.cache and args.cache.with_suffix(".tune.pickle"))
    start = (answerer.scorer.weights, answerer.thresholds)
    report = {"current": {k: figures(answerer, tune, cases, start)[k] for k in HEADLINE}}
    fitted = start
    if args.fit and args.folds > 1:
        folds = cross_validate(answerer, tune, cases, start, args.folds, args.rounds)
        report["cross_validated"] = {k: round(sum(f[k] or 0 for f in folds) / len(folds), 3) for k in HEADLINE}
    if args.fit:
        fitted = fit(answerer, tune, cases, start, args.rounds)
        report["fitted"] = {"weights": asdict(fitted[0]), "thresholds": asdict(fitted[1])}
        report["tune_with_fitted"] = {k: figures(answerer, tune, cases, fitted)[k] for k in HEADLINE}
    splits = {"tune": (tune, cases)}
    if args.test:
        test = in_split(questions, "test")
        splits["test"] = (test, gather(answerer, test, args.cache and args.cache.with_suffix(".test.pickle")))
        report["test_with_fitted"] = {k: figures(answerer, *splits["test"], fitted)[k] for k in HEADLINE}
    report["ablations"] = {
        name: {split: {k: figures(answerer, items, split_cases, ablated(fitted, changes))[k] for k in HEADLINE[:5]}
               for split, (items, split_cases) in splits.items()}
        for name, changes in ABLATIONS.items()}
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
