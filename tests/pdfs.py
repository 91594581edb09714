"""Real PDFs for the tests, made with fpdf2 (text layer, running header/footer) and pypdf (encryption)."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


class _Report(FPDF):
    def header(self) -> None:
        self.set_font("Body", "", 8)
        self.cell(0, 6, "Keski-Suomen kuntien ilmastotietopaketti – testiraportti")
        self.ln(10)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Body", "", 8)
        self.cell(0, 6, f"Sivu {self.page_no()}", align="C")


def report_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A report whose pages hold the given lines (a line starting with '## ' is a heading)."""
    pdf = _Report(format="A4")
    pdf.add_font("Body", "", FONT)
    pdf.set_auto_page_break(False)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            if line.startswith("## "):
                pdf.set_font("Body", "", 14)
                pdf.multi_cell(0, 8, line[3:], new_x="LMARGIN", new_y="NEXT")
            else:
                pdf.set_font("Body", "", 10)
                pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def scanned_pdf(path: Path) -> Path:
    """Pages with only graphics, like a scan without OCR."""
    pdf = FPDF()
    for _ in range(2):
        pdf.add_page()
        pdf.rect(20, 20, 150, 200, style="F")
    pdf.output(str(path))
    return path


def encrypted_pdf(path: Path, source: Path) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(source).pages:
        writer.add_page(page)
    writer.encrypt(user_password="salainen", owner_password="omistaja")
    with path.open("wb") as fh:
        writer.write(fh)
    return path
