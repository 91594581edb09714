from pathlib import Path

import codecs

import docx
import pytest

from ingest.loaders import LoadError, load_document
from tests.pdfs import encrypted_pdf, report_pdf, scanned_pdf

MB = 1_000_000


def load(path: Path, root: Path, sidecar: dict | None = None, max_bytes: int = 50 * MB):
    return load_document(path, root, sidecar or {}, max_bytes)


def three_page_report(path: Path) -> Path:
    return report_pdf(
        path,
        [
            ["## 1. Päästöt ja tavoitteet", "Kunnan päästöt laskettiin kasvihuone-", "kaasupäästöinä vuodelta 2021.", "Tieliikenne oli suurin lähde."],
            ["## 2. Kunnan rooli", "Kunta toimii esimerkkinä asukkaille ja yrityksille."],
            ["## 3. Työkalut", "ALas-laskenta kertoo kunnan päästöt sektoreittain."],
        ],
    )


def test_pdf_keeps_pages_joins_hyphenation_and_drops_running_lines(tmp_path):
    pdf = three_page_report(tmp_path / "raportti.pdf")
    doc = load(pdf, tmp_path, {"raportti.pdf": {"title": "Testiraportti", "doc_type": "tietopaketti", "source_url": "https://example.fi/r.pdf"}})
    assert doc.pages == 3
    text = " ".join(b.text for b in doc.blocks)
    assert "kasvihuonekaasupäästöinä" in text
    assert "testiraportti" not in text.lower()  # running header
    assert "Sivu" not in text  # page-number footer
    by_page = {b.page: b for b in doc.blocks}
    assert "Kunta toimii esimerkkinä" in by_page[2].text
    assert by_page[3].headings == ("3. Työkalut",)
    assert doc.metadata["title"] == "Testiraportti"
    assert doc.metadata["doc_type"] == "tietopaketti"
    assert doc.metadata["source_url"] == "https://example.fi/r.pdf"


def test_markdown_front_matter_and_heading_path(tmp_path):
    md = tmp_path / "kunnat" / "laukaa.md"
    md.parent.mkdir()
    md.write_text(
        "---\ntitle: Laukaa – tiivistelmä\nmunicipality: Laukaan\ndoc_type: kuntatiivistelmä\ndate: '2023'\n"
        "source_url: https://www.laukaa.fi/\nchecked: 2026-12-01\n---\n# Laukaa\n\n## Päästöt\n\n### Liikenne\n\nLiikenne on **suuri** lähde.\n\n"
        "- Ensimmäinen kohta\n- Toinen [linkki](https://x.fi) kohta\n",
        encoding="utf-8",
    )
    doc = load(md, tmp_path)
    assert doc.doc_id == "kunnat/laukaa.md"
    assert doc.metadata == {
        "doc_id": "kunnat/laukaa.md",
        "title": "Laukaa – tiivistelmä",
        "source_url": "https://www.laukaa.fi/",
        "municipality": "Laukaa",
        "doc_type": "kuntatiivistelmä",
        "date": "2023",
        "checked": "2026-12-01",  # an unquoted YAML date still reaches the answer as text
    }
    assert [b.text for b in doc.blocks] == ["Liikenne on suuri lähde.", "Ensimmäinen kohta", "Toinen linkki kohta"]
    assert doc.blocks[0].headings == ("Päästöt", "Liikenne")


def test_source_list_sections_are_not_indexed(tmp_path):
    md = tmp_path / "a.md"
    md.write_text("# A\n\n## Asia\n\nKunta tekee ilmastotyötä.\n\n## Lähteet\n\n- Sivu. https://x.fi\n", encoding="utf-8")
    assert [b.text for b in load(md, tmp_path).blocks] == ["Kunta tekee ilmastotyötä."]


def test_html_main_text_only(tmp_path):
    page = tmp_path / "sivu.html"
    page.write_text(
        "<html><head><title>Ilmastotyö</title><script>var x=1;</script></head><body>"
        "<nav><a href='/'>Etusivu</a> Valikko</nav><header>Keski-Suomen liitto</header>"
        "<main><h1>Kuntien ilmastotyö</h1><h2>Rahoitus</h2><p>Ministeriö myöntää <b>avustuksia</b>.</p>"
        "<ul><li>Haku keväällä</li></ul></main><footer>© 2023 Yhteystiedot</footer></body></html>",
        encoding="utf-8",
    )
    doc = load(page, tmp_path)
    texts = [b.text for b in doc.blocks]
    assert texts == ["Ministeriö myöntää avustuksia .", "Haku keväällä"] or texts == ["Ministeriö myöntää avustuksia.", "Haku keväällä"]
    assert doc.blocks[0].headings == ("Rahoitus",)
    assert doc.metadata["title"] == "Kuntien ilmastotyö"


def test_plain_text_and_fallback_title(tmp_path):
    txt = tmp_path / "muistio_ilmastotyoryhma.txt"
    txt.write_text("Ensimmäinen kappale.\n\nToinen kappale\njatkuu tässä.\n", encoding="utf-8")
    doc = load(txt, tmp_path)
    assert [b.text for b in doc.blocks] == ["Ensimmäinen kappale.", "Toinen kappale jatkuu tässä."]
    assert doc.metadata["title"] == "Muistio ilmastotyoryhma"
    assert doc.metadata["doc_type"] == "muu"


def test_docx_headings_paragraphs_and_tables(tmp_path):
    path = tmp_path / "ohje.docx"
    document = docx.Document()
    document.add_heading("Ilmasto-ohje", level=0)
    document.add_heading("Hankinnat", level=1)
    document.add_paragraph("Kunta voi asettaa hankinnoille ilmastokriteerejä.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Päästöt"
    table.rows[0].cells[1].text = "12 kt"
    document.save(path)
    doc = load(path, tmp_path)
    assert doc.metadata["title"] == "Ilmasto-ohje"
    assert doc.blocks[0].text == "Kunta voi asettaa hankinnoille ilmastokriteerejä."
    assert doc.blocks[0].headings == ("Hankinnat",)
    assert any(b.text == "Päästöt | 12 kt" for b in doc.blocks)


def test_cp1252_text_is_read_with_a_note(tmp_path):
    path = tmp_path / "vanha.txt"
    path.write_bytes("Päästöt vähenivät 5 % Jyväskylässä.".encode("cp1252"))
    doc = load(path, tmp_path)
    assert doc.blocks[0].text == "Päästöt vähenivät 5 % Jyväskylässä."
    assert doc.notes == ["not UTF-8: read as cp1252"]


@pytest.mark.parametrize("encoded", [
    "Päästöt vähenivät 5 % Jyväskylässä.".encode("utf-16"),  # little-endian with its mark, as Windows writes it
    codecs.BOM_UTF16_BE + "Päästöt vähenivät 5 % Jyväskylässä.".encode("utf-16-be"),
], ids=["utf-16-le", "utf-16-be"])
def test_utf16_text_with_a_byte_order_mark_is_read_as_utf16(tmp_path, encoded):
    path = tmp_path / "unicode.txt"
    path.write_bytes(encoded)
    doc = load(path, tmp_path)
    assert doc.blocks[0].text == "Päästöt vähenivät 5 % Jyväskylässä."
    assert doc.notes == []


@pytest.mark.parametrize("url", ["javascript:alert(document.domain)", " JavaScript:alert(1)", "file:///etc/passwd",
                                 "data:text/html,<script>alert(1)</script>", "//evil.example/x", "https://"])
def test_a_source_url_that_is_not_http_is_left_out_with_a_note(tmp_path, url):
    path = tmp_path / "sivu.md"
    path.write_text(f"---\ntitle: Sivu\nsource_url: '{url}'\n---\n# Sivu\n\nIlmastotyö etenee.\n", encoding="utf-8")
    doc = load(path, tmp_path)
    assert doc.metadata["source_url"] is None
    assert doc.notes == ["source_url left out: only http(s) addresses are linked"]
    other = _write(tmp_path / "muistio.txt", "Ilmastotyö etenee.".encode())
    assert load(other, tmp_path, {"muistio.txt": {"source_url": url}}).metadata["source_url"] is None


def test_an_http_source_url_is_kept(tmp_path):
    path = _write(tmp_path / "muistio.txt", "Ilmastotyö etenee.".encode())
    assert load(path, tmp_path, {"muistio.txt": {"source_url": "HTTP://www.jkl.fi/x"}}).metadata["source_url"] == "HTTP://www.jkl.fi/x"


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda d: encrypted_pdf(d / "salattu.pdf", three_page_report(d / "x.pdf")), "encrypted PDF"),
        (lambda d: _truncated(three_page_report(d / "y.pdf"), d / "katkennut.pdf"), "corrupt or truncated PDF"),
        (lambda d: _write(d / "roskaa.pdf", b"%PDF-1.7\nthis is not a pdf"), "corrupt or truncated PDF"),
        (lambda d: scanned_pdf(d / "skannattu.pdf"), "no text layer: needs OCR"),
        (lambda d: _write(d / "tyhja.md", b""), "empty file"),
        (lambda d: _write(d / "taulukko.xlsx", b"PK\x03\x04"), "unsupported file type '.xlsx'"),
        (lambda d: _write(d / "kuva.png", b"\x89PNG"), "unsupported file type '.png'"),
        (lambda d: _write(d / "iso.txt", b"a" * 2000), "file too large"),
        (lambda d: _write(d / "binaari.txt", bytes(range(128, 256)) * 4), "neither UTF-8 nor cp1252"),
        (lambda d: _write(d / "rikki.docx", b"not a zip"), "corrupt DOCX"),
    ],
)
def test_bad_input_raises_a_clear_reason(tmp_path, make, reason):
    path = make(tmp_path)
    with pytest.raises(LoadError) as info:
        load(path, tmp_path, max_bytes=1000 if reason == "file too large" else 50 * MB)
    assert reason in str(info.value)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _truncated(source: Path, target: Path) -> Path:
    target.write_bytes(source.read_bytes()[: len(source.read_bytes()) // 3])
    return target
