"""Bounded fuzzing with hypothesis: damaged and odd files never crash a loader (a file is read or skipped with a
reason), and no request body makes the API answer 5xx or HTML.

Examples per test are kept small so that the whole module runs in well under a minute; FIGURES counts what was
tried (printed with ``-s``, for BENCHMARKS.md).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import docx
import pytest
import yaml
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient
from starlette.exceptions import HTTPException as StarletteHTTPException
from fpdf import FPDF
from hypothesis import HealthCheck, example, given, settings, strategies as st

from bot.answer_types import Answer, Citation, Final, TextPiece
from bot.service import IndexStatus
from bot.settings import load_settings
from ingest.loaders import LoadedDocument, LoadError, load_document
from web.api import add_api_middleware, api_router, invalid_request, unparsable_body
from web.ratelimit import QuestionLimit

FIGURES: Counter[str] = Counter()
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
MAX_BYTES = 5_000_000


@pytest.fixture(scope="module", autouse=True)
def report_figures():
    yield
    print("\nfuzz figures:", dict(sorted(FIGURES.items())))


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def load(folder: Path, name: str, data: bytes) -> LoadedDocument | None:
    """The loaded document, or None for a clean skip; any other exception fails the test."""
    FIGURES["files"] += 1
    path = folder / name
    path.write_bytes(data)
    try:
        document = load_document(path, folder, {}, MAX_BYTES)
    except LoadError as exc:
        FIGURES["files skipped with a reason"] += 1
        assert str(exc).strip()
        return None
    assert document.blocks and all(isinstance(b.text, str) and b.text.strip() for b in document.blocks)
    assert isinstance(document.metadata["title"], str) and document.metadata["title"]
    return document


# ---------------------------------------------------------------- seeds and mutations


PAGES = [
    ("1. Päästöt ja tavoitteet", "Keski-Suomen päästöt vähenivät vuosina 2005-2021 noin kolmanneksen. Tieliikenne "
     "on suurin yksittäinen lähde, ja maatalouden osuus on maaseutukunnissa suuri."),
    ("2. Kunnan rooli", "Kunta vaikuttaa päästöihin kaavoituksella, hankinnoilla ja omilla kiinteistöillään. "
     "Ilmastolaki velvoittaa kunnan laatimaan ilmastosuunnitelman."),
    ("3. Työkalut", "Hinku-verkosto ja Kuntien ilmastokampanja tarjoavat kunnille vertaistukea. Päästölaskurit "
     "auttavat seuraamaan, mihin suuntaan päästöt kehittyvät."),
]


def seed_pdf() -> bytes:
    pdf = FPDF()
    pdf.set_title("Ilmastotietopaketti")
    pdf.set_creation_date(datetime(2024, 1, 1, tzinfo=timezone.utc))
    for heading, text in PAGES:
        pdf.add_page()
        pdf.set_font("helvetica", size=12)
        pdf.multi_cell(0, 8, f"{heading}\n{text}\n{text.upper()}")
    return bytes(pdf.output())


def seed_docx() -> bytes:
    document = docx.Document()
    document.core_properties.title = "Hankinnat"
    document.add_heading("Vähähiiliset hankinnat", level=1)
    document.add_paragraph("Kunta voi vähentää päästöjä hankinnoillaan, esimerkiksi ruokapalveluissa.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Ala", "Päästöt"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


SEED_PDF, SEED_DOCX = seed_pdf(), seed_docx()

# One change to a byte string: (kind, where as a share of the length, a byte value, a length).
mutation = st.tuples(st.sampled_from(["flip", "insert", "delete", "truncate", "repeat"]),
                     st.floats(0, 1), st.integers(0, 255), st.integers(1, 64))


def mutate(data: bytes, changes: list[tuple[str, float, int, int]]) -> bytes:
    out = bytearray(data)
    for kind, where, value, length in changes:
        at = min(int(where * len(out)), max(len(out) - 1, 0))
        if kind == "flip" and out:
            out[at] ^= value or 1
        elif kind == "insert":
            out[at:at] = bytes([value]) * length
        elif kind == "delete":
            del out[at:at + length]
        elif kind == "truncate":
            del out[at:]
        elif kind == "repeat":
            out[at:at] = out[at:at + length]
    FIGURES["faults injected"] += len(changes)
    return bytes(out)


# ---------------------------------------------------------------- loaders


@pytest.mark.parametrize("name, data", [("osa.pdf", SEED_PDF), ("hankinnat.docx", SEED_DOCX)])
def test_the_seeds_are_read(folder, name, data):
    """Mutations start from a readable file, so that they exercise reading and not only the first check."""
    document = load(folder, name, data)
    assert document is not None and "päästö" in " ".join(b.text for b in document.blocks).lower()


@pytest.mark.parametrize("damage", [b"<{", b"\x83<"])
def test_a_pdf_with_a_damaged_info_dictionary_is_read_or_skipped_with_a_reason(folder, damage):
    """Found by the fuzzing below: pypdf reads the info dictionary (the title) only when asked for it."""
    assert b"<<\n/CreationDate" in SEED_PDF
    load(folder, "osa.pdf", SEED_PDF.replace(b"<<\n/CreationDate", damage + b"\n/CreationDate", 1))


@FUZZ
@given(st.lists(mutation, min_size=1, max_size=6))
def test_mutated_pdfs_are_read_or_skipped_with_a_reason(folder, changes):
    load(folder, "osa.pdf", mutate(SEED_PDF, changes))


@FUZZ
@given(st.lists(mutation, min_size=1, max_size=6))
@example([("flip", 0.125, 6, 1)])  # found: compressed data damaged (zlib.error)
def test_mutated_docx_archives_are_read_or_skipped_with_a_reason(folder, changes):
    load(folder, "hankinnat.docx", mutate(SEED_DOCX, changes))


def rezip(data: bytes, member: str, mutate_member) -> bytes:
    """The same DOCX with one member's bytes changed inside an intact archive."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            target.writestr(info, mutate_member(content) if info.filename == member else content)
    return out.getvalue()


@FUZZ
@given(st.sampled_from(["word/document.xml", "word/styles.xml", "docProps/core.xml", "[Content_Types].xml"]),
       st.lists(mutation, min_size=1, max_size=4))
@example("docProps/core.xml", [("flip", 0.125, 0, 1)])  # found: the core properties' root renamed (AttributeError)
@example("word/document.xml", [("truncate", 0.5, 0, 1)])  # found: unparsable XML (lxml XMLSyntaxError)
def test_docx_with_damaged_xml_inside_is_read_or_skipped_with_a_reason(folder, member, changes):
    load(folder, "hankinnat.docx", rezip(SEED_DOCX, member, lambda content: mutate(content, changes)))


yaml_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
                           | st.dates(), lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=3), max_leaves=8)
front_matter_keys = st.sampled_from(["title", "municipality", "doc_type", "date", "source_url", "checked"]) | st.text(max_size=10)


@FUZZ
@given(st.dictionaries(front_matter_keys, yaml_values, max_size=6) | st.text(max_size=80), st.text(max_size=400))
@example("title: [unclosed", "# Otsikko\n\nTeksti.")
@example("- lista\n- eikä avain", "Teksti.")
@example({"title": None, "municipality": 5, "date": [1, 2]}, "## Vain otsikko")
def test_markdown_with_any_front_matter_is_read_or_skipped_with_a_reason(folder, front, body):
    header = front if isinstance(front, str) else yaml.safe_dump(front, allow_unicode=True)
    FIGURES["faults injected"] += 1
    load(folder, "muistio.md", f"---\n{header}\n---\n{body}".encode("utf-8", "surrogatepass"))


ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "utf-32", "latin-1", "cp1252", "cp437", "mac_roman",
             "koi8_r", "shift_jis", "gb18030", "iso8859_15"]


@FUZZ
@given(st.text(max_size=300), st.sampled_from(ENCODINGS), st.sampled_from([".txt", ".md", ".html"]))
@example("Päästöt vähenivät – ”kolmannes” € 2021", "utf-16", ".txt")
@example("Ympäristö", "cp437", ".md")
def test_text_in_odd_encodings_is_read_or_skipped_with_a_reason(folder, text, encoding, suffix):
    FIGURES["faults injected"] += 1
    load(folder, f"teksti{suffix}", text.encode(encoding, "replace"))


@FUZZ
@given(st.binary(max_size=2000), st.sampled_from([".txt", ".md", ".html", ".pdf", ".docx"]))
def test_random_bytes_under_any_extension_are_read_or_skipped_with_a_reason(folder, data, suffix):
    FIGURES["faults injected"] += 1
    load(folder, f"satunnainen{suffix}", data)


TAGS = ["html", "head", "title", "body", "main", "article", "nav", "header", "footer", "script", "style", "h1", "h2",
        "h3", "h4", "h5", "p", "li", "ul", "table", "tr", "td", "blockquote", "pre", "dd", "figcaption", "svg",
        "template", "div", "span", "br", "img"]
html_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
html_tree = st.recursive(
    html_text,
    lambda inner: st.builds(lambda tag, attrs, children, close: f"<{tag}{attrs}>{''.join(children)}"
                                                                  + (f"</{tag}>" if close else ""),
                            st.sampled_from(TAGS), st.sampled_from(["", " class='x'", ' id="a', " =>", " onload=x()"]),
                            st.lists(inner, max_size=4), st.booleans()),
    max_leaves=25)


@FUZZ
@given(html_tree)
@example("<html><head><title></title></head><body><h1></h1><h2>Otsikko</h2></body></html>")
@example("<main><p><p><li>sisäkkäin</li></p></main></article>")
def test_any_html_is_read_or_skipped_with_a_reason(folder, markup):
    FIGURES["faults injected"] += 1
    load(folder, "sivu.html", markup.encode("utf-8"))


# ---------------------------------------------------------------- API bodies


class EchoService:
    """Answers by quoting the question back, so that any HTML in it would show up in what the API sends."""

    def __init__(self):
        self.settings = load_settings(env={}, rate_limit_per_minute=0)
        self.status = IndexStatus(lexical_ready=True, dense_ready=True, chunks=1)

    def stream(self, question, municipality=None, history=None):
        text = f"Kysyit: {question} [1]"
        for piece in text.split(" "):
            yield TextPiece(piece + " ")
        citation = Citation(1, "kunnat/laukaa.md", question[:50] or "Laukaa", None, municipality, None, question)
        yield Final(Answer(text, refused=False, citations=[citation]))

    def answer(self, question, municipality=None, history=None):
        return [e for e in self.stream(question, municipality, history)][-1].answer


@pytest.fixture(scope="module")
def api() -> TestClient:
    service = EchoService()
    app = FastAPI()
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, unparsable_body)
    app.include_router(api_router(service, QuestionLimit.from_settings(service.settings)))
    add_api_middleware(app, service.settings)
    return TestClient(app, raise_server_exceptions=False)


def check_response(response, path: str) -> None:
    """Never a 5xx, never HTML; a 200 is the answer (JSON, or events ending in the answer JSON)."""
    FIGURES["API requests"] += 1
    assert response.status_code < 500, (response.status_code, response.text[:300])
    kind = response.headers.get("content-type", "")
    assert "html" not in kind, kind
    if response.status_code != 200:
        assert kind.startswith("application/json") and "detail" in response.json()
        return
    if path.endswith("/stream"):
        assert kind.startswith("text/event-stream")
        last = response.text.strip().split("\n\n")[-1]
        assert last.startswith("event: answer\ndata: ")
        json.loads(last.split("data: ", 1)[1])
    else:
        assert kind.startswith("application/json") and "answer" in response.json()


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                           | st.text(max_size=40), lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)
turn = (st.tuples(st.text(max_size=60), st.text(max_size=60)).map(list)
        | st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "system", ""]),
                                 "content": st.text(max_size=60) | st.integers()}))
near_valid = st.fixed_dictionaries(
    {"question": st.text(max_size=600) | st.sampled_from(["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"])},
    optional={"municipality": st.none() | st.text(max_size=80), "history": st.lists(turn, max_size=4) | json_values,
              "kunta": json_values})
paths = st.sampled_from(["/api/ask", "/api/ask/stream"])


@FUZZ
@given(paths, near_valid)
@example("/api/ask", {"question": "<script>alert(1)</script>", "municipality": "<b>Laukaa</b>"})
@example("/api/ask/stream", {"question": "", "history": [["", ""]]})
def test_question_bodies_never_get_5xx_or_html(api, path, body):
    check_response(api.post(path, json=body), path)


@FUZZ
@given(paths, json_values)
def test_any_json_body_never_gets_5xx_or_html(api, path, body):
    check_response(api.post(path, json=body), path)


content_types = st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded",
                                 "multipart/form-data; boundary=x", "application/json; charset=latin-1", ""])


text_bodies = st.text(max_size=300)


@FUZZ
@given(paths, text_bodies.map(lambda t: t.encode("utf-8")), content_types)
@example("/api/ask", b'{"question": "\\u00e4\\u00f6"}', "application/json")
@example("/api/ask", b'{"question": "kysymys"' + b" " * 20_000 + b"}", "application/json")
@example("/api/ask/stream", b'{"question": "a", "history": [["a"]]}', "text/plain")
def test_raw_text_bodies_never_get_5xx_or_html(api, path, data, content_type):
    check_response(api.post(path, content=data, headers={"Content-Type": content_type} if content_type else {}), path)


@FUZZ
@given(paths, st.binary(max_size=300))
@example("/api/ask/stream", b"\xff\xfe{")
def test_raw_json_bytes_never_get_5xx_or_html(api, path, data):
    check_response(api.post(path, content=data, headers={"Content-Type": "application/json"}), path)


# Found by the fuzz tests above on the API as it was (each gave 500): kept as fixed cases.
@pytest.mark.parametrize("data, content_type", [
    (b"\x80", "text/plain"),  # invalid UTF-8 in a non-JSON body: FastAPI's 422 handler cannot encode the input
    (b'{"question": "\\ud800"}', "application/json"),  # a lone surrogate: the answer cannot be encoded as UTF-8
    (b"Infinity", "application/json"),  # Python's json reads it; the 422 handler cannot write it back as JSON
    (b'{"question": NaN}', "application/json"),
])
def test_bodies_that_once_gave_5xx(api, data, content_type):
    check_response(api.post("/api/ask", content=data, headers={"Content-Type": content_type}), "/api/ask")
