"""Voikko against simplemma, with compound splitting on and off, on eval/dev.jsonl (BENCHMARKS.md).

    python scripts/bench_lemmatizers.py [--data-dir data/bench] [--out results.json]

Each variant is ingested by the real pipeline into its own data directory (next to --data-dir) with
ILMASTO_LEMMATIZER and ILMASTO_SPLIT_COMPOUNDS set, reusing the embedding cache of --data-dir, so nothing is
embedded again. Reports BM25-only and hybrid Recall@5/MRR, the extractive answers' facts found and refusal
accuracy, and each lemmatiser's opening time and speed on the distinct words of the corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from benchmark import answers, dev_set, ensure_ingested, ranking_metrics

from bot.finnish import lemmatizer, words
from bot.retrieval import Retriever
from bot.settings import load_settings
from ingest.loaders import load_document, read_sidecar
from ingest.pipeline import discover

LEMMATIZERS = ("simplemma", "voikko")


def measure_here(data_dir: Path) -> dict:
    """Retrieval and answer quality of the store in ``data_dir``, with the lemmatiser of this process."""
    settings = load_settings(data_dir=data_dir)
    ensure_ingested(settings)
    items = [i for i in dev_set() if i["expect"] == "answer"]
    retriever = Retriever(settings)
    quality = {mode: ranking_metrics([[h.record.doc_id for h in retriever.search(i["question"], k=20, mode=mode)]
                                      for i in items], [i["doc_ids"] for i in items]) for mode in ("lexical", "hybrid")}
    found = answers(settings)
    return {**quality, **{k: found[k] for k in ("facts_found", "refusal_accuracy", "citation_validity")}}


def speed_here() -> dict:
    """Opening time and words a second (cold caches) of this process's lemmatiser on the corpus's words."""
    settings = load_settings()
    sidecar = read_sidecar(settings.corpus_dir)
    texts = [b.text for s in discover([settings.corpus_dir], settings)[0]
             for b in load_document(s.path, settings.corpus_dir, sidecar, 50_000_000).blocks]
    vocabulary = sorted({w for text in texts for w in words(text.lower()) if not w.isdigit()})
    started = time.perf_counter()
    chosen = lemmatizer()
    chosen.lemma("kunnalta")  # simplemma loads its dictionary on first use
    opened = time.perf_counter() - started
    started = time.perf_counter()
    for word in vocabulary:
        chosen.lemma(word)
    seconds = time.perf_counter() - started
    return {"lemmatizer": chosen.name, "open_s": round(opened, 2), "distinct_words": len(vocabulary),
            "words_per_s": round(len(vocabulary) / seconds)}


def in_child(code: str, env: dict[str, str]) -> dict:
    """Run ``code`` (printing one JSON line last) in a fresh process: each lemmatiser starts from nothing."""
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env, "PYTHONPATH": f"{ROOT}:{ROOT / 'scripts'}"},
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def variant_dir(base: Path, choice: str, split: bool) -> Path:
    """A data directory for one variant that starts with the embedding cache of ``base``."""
    directory = base.with_name(f"{base.name}-{choice}-{'split' if split else 'whole'}")
    if not directory.exists():
        directory.mkdir(parents=True)
        shutil.copy(base / "embeddings.sqlite3", directory / "embeddings.sqlite3")
    return directory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data" / "bench")
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    ensure_ingested(load_settings(data_dir=args.data_dir))  # fills the embedding cache once
    results: dict = {}
    for choice in LEMMATIZERS:
        for split in (True, False):
            directory = variant_dir(args.data_dir, choice, split)
            env = {"ILMASTO_LEMMATIZER": choice, "ILMASTO_SPLIT_COMPOUNDS": str(split).lower()}
            name = f"{choice}, compounds {'split' if split else 'whole'}"
            results[name] = in_child(f"import json,bench_lemmatizers as b;from pathlib import Path;"
                                     f"print(json.dumps(b.measure_here(Path({str(directory)!r}))))", env)
            print(name, json.dumps(results[name]), flush=True)
        speed = in_child("import json,bench_lemmatizers as b;print(json.dumps(b.speed_here()))", {"ILMASTO_LEMMATIZER": choice})
        results[f"{choice} speed"] = speed
        print(choice, json.dumps(speed), flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
