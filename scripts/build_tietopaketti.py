"""Render the climate info package (tietopaketti) source texts into report-style PDFs under corpus/.

The real info package is a set of PDFs, so ingestion must be exercised on PDFs: this script turns each
``scripts/tietopaketti/*.md`` into ``corpus/tietopaketti/*.pdf`` with a cover, numbered headings, a running
header and footer and page numbers, and writes the PDFs' metadata to ``corpus/sources.toml``.

    python scripts/build_tietopaketti.py

Needs fpdf2 (dev extra) and the DejaVu fonts (Debian: fonts-dejavu-core).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from fpdf import FPDF

from ingest.loaders import split_front_matter  # one front-matter parser for the whole project (installed package)

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIR = ROOT / "scripts" / "tietopaketti"
OUT_DIR = ROOT / "corpus" / "tietopaketti"
SIDECAR = ROOT / "corpus" / "sources.toml"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
SERIES = "Keski-Suomen kuntien ilmastotietopaketti"
FOOTER = "Keski-Suomen ilmastobotti · kooste julkisista lähteistä"



class Report(FPDF):
    def __init__(self, part_title: str):
        super().__init__(format="A4")
        self.part_title = part_title
        self.add_font("Body", "", str(FONT_DIR / "DejaVuSerif.ttf"))
        self.add_font("Body", "I", str(FONT_DIR / "DejaVuSerif-Italic.ttf"))
        self.add_font("Body", "B", str(FONT_DIR / "DejaVuSerif-Bold.ttf"))
        self.add_font("Sans", "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font("Sans", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_margins(22, 24, 22)
        self.set_auto_page_break(True, margin=24)

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font("Sans", "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 6, f"{SERIES} – {self.part_title}", align="L")
        self.ln(10)
        self.set_text_color(0, 0, 0)

    def footer(self) -> None:
        self.set_y(-16)
        self.set_font("Sans", "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 6, FOOTER, align="L")
        self.set_x(-40)
        self.cell(18, 6, f"Sivu {self.page_no()}", align="R")
        self.set_text_color(0, 0, 0)


_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")


def plain(text: str) -> str:
    return _LINK.sub(r"\1 (\2)", text).replace("**", "").replace("`", "").strip()


def finnish_date(value: object) -> str:
    """2026-12-01 (as YAML gives it, date or text) -> 1.12.2026, the way a Finnish reader writes dates."""
    day = value if isinstance(value, date) else date.fromisoformat(str(value))
    return f"{day.day}.{day.month}.{day.year}"


def render(source: Path, target: Path) -> dict:
    front, body = split_front_matter(source.read_text(encoding="utf-8"))
    title = str(front["title"])
    part = title.split("–", 1)[-1].strip() if "–" in title else title
    pdf = Report(part)
    pdf.set_title(title)
    pdf.set_author("Keski-Suomen ilmastobotti (kooste julkisista lähteistä)")
    pdf.add_page()
    pdf.set_font("Sans", "B", 12)
    pdf.ln(40)
    pdf.multi_cell(0, 7, SERIES.upper())
    pdf.ln(6)
    pdf.set_font("Sans", "B", 24)
    pdf.multi_cell(0, 12, part)
    pdf.ln(10)
    pdf.set_font("Body", "", 10)
    checked = f", tarkistettu {finnish_date(front['checked'])}" if front.get("checked") else ""
    pdf.multi_cell(0, 6, f"Tiedot vuodelta {front.get('date', '')}{checked}. Lähteet luettelo raportin lopussa.")
    pdf.add_page()
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            text = " ".join(paragraph)
            italic = text.startswith("*") and text.endswith("*")
            pdf.set_font("Body", "I" if italic else "", 10.5)
            pdf.multi_cell(0, 5.6, plain(text.strip("*_ ")))
            pdf.ln(2.5)
            paragraph.clear()

    for line in body.splitlines():
        stripped = line.strip()
        if stripped.startswith("# "):
            flush()
            continue  # the H1 is on the cover
        if stripped.startswith("## ") or stripped.startswith("### "):
            flush()
            level = 2 if stripped.startswith("## ") else 3
            heading = plain(stripped.lstrip("#"))
            if level == 2 and pdf.get_y() > 200:
                pdf.add_page()
            pdf.ln(3)
            pdf.set_font("Sans", "B", 14 if level == 2 else 11.5)
            pdf.multi_cell(0, 7, heading)
            pdf.ln(1.5)
        elif re.match(r"^\s*[-*]\s+", line):
            flush()
            pdf.set_font("Body", "", 10.5)
            pdf.set_x(pdf.l_margin + 4)
            pdf.multi_cell(0, 5.6, "• " + plain(re.sub(r"^\s*[-*]\s+", "", line)))
            pdf.ln(1)
        elif not stripped:
            flush()
        else:
            paragraph.append(stripped)
    flush()
    target.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(target))
    return {"title": title, "doc_type": "tietopaketti", "date": str(front.get("date", "")),
            "checked": str(front.get("checked", "")), "source_url": str(front.get("source_url", "")),
            "pages": pdf.page_no()}


def toml_entry(doc_id: str, meta: dict) -> str:
    fields = "\n".join(f'{k} = "{v}"' for k, v in meta.items() if k != "pages" and v)
    return f'["{doc_id}"]\n{fields}\n'


def main() -> None:
    entries = []
    for source in sorted(SOURCE_DIR.glob("*.md")):
        target = OUT_DIR / (source.stem + ".pdf")
        meta = render(source, target)
        print(f"{target.relative_to(ROOT)}: {meta['pages']} pages")
        entries.append(toml_entry(target.relative_to(ROOT / "corpus").as_posix(), meta))
    SIDECAR.write_text(
        "# Metadata for corpus files without front matter (PDF, DOCX, TXT, HTML): path relative to corpus/ -> fields.\n"
        "# Fields: title, source_url, municipality, doc_type (tietopaketti/materiaali/kuntatiivistelmä/muu), date,\n"
        "# checked (YYYY-MM-DD: when the facts were last checked).\n"
        "# The tietopaketti entries are written by scripts/build_tietopaketti.py.\n\n" + "\n".join(entries),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
