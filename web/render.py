"""HTML and Markdown for the chat window and the widget: everything from documents or questions is escaped."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

from bot.answer_types import Answer, Citation

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\](){}#<>|!~])")
_MARKER = re.compile(r"\\\[(\d+)\\\]")
# What the chat's Markdown (GitHub-flavoured) would turn into a link by itself: "scheme://", "www." and e-mail
# addresses. Writing one character of each as an HTML entity shows the same text without the link.
_AUTOLINKED = re.compile(r"(?<=[a-z0-9])(:)(?=//)|(?<=\bwww)(\.)|(@)", re.I)
_ENTITIES = {":": "&#58;", ".": "&#46;", "@": "&#64;"}
PRIVACY_NOTICE = (
    "Tietosuoja: kysymykset tallennetaan ilman IP-osoitetta tai muuta tunnistetta, ja niitä säilytetään "
    "{days} päivää aineiston parantamiseksi. Myös antamasi palaute tallennetaan ja poistetaan samassa ajassa. "
    "Älä kirjoita kysymykseen "
    "henkilötietoja, kuten nimiä, henkilötunnuksia, puhelinnumeroita tai sähköpostiosoitteita."
)


def escape_markdown(text: str) -> str:
    """Text shown as Markdown, with HTML and Markdown syntax neutralised and no address turned into a link."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))
    return _AUTOLINKED.sub(lambda m: _ENTITIES[m.group(0)], escaped)


def privacy_notice(retention_days: int) -> str:
    """What is stored, for how long, and what not to write (plain text, for the chat and the widget)."""
    return PRIVACY_NOTICE.format(days=retention_days)


def answer_markdown(answer: Answer) -> str:
    """The answer for the chat: escaped text, citation markers linked to their cards in the sources panel."""
    text = escape_markdown(answer.answer)
    text = _MARKER.sub(lambda m: f"[\\[{m.group(1)}\\]](#lahde-{m.group(1)})", text)
    if answer.notices:
        text += "\n\n" + "\n".join(f"*{escape_markdown(n)}*" for n in answer.notices)
    return text


def safe_url(url: str | None) -> str | None:
    return url if url and re.match(r"^https?://", url) else None


def document_link(citation: Citation) -> str:
    """The document served by the app, opened at the cited page for PDFs."""
    link = "/files/" + quote(citation.doc_id)
    if citation.page and citation.doc_id.lower().endswith(".pdf"):
        link += f"#page={citation.page}"
    return link


def highlighted_passage(citation: Citation) -> str:
    """The cited passage with the sentences used in the answer marked."""
    passage = html.escape(citation.chunk_text)
    for sentence in sorted(set(citation.highlights), key=len, reverse=True):
        escaped = html.escape(sentence)
        passage = passage.replace(escaped, f"<mark>{escaped}</mark>", 1)
    return passage


def finnish_date(iso: str) -> str:
    """2026-12-01 as 1.12.2026; anything else as it is."""
    parts = iso.split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return f"{int(parts[2])}.{int(parts[1])}.{parts[0]}"
    return iso


def relevance_label(citation: Citation, best: float) -> str:
    share = citation.relevance / best if best else 0
    return "hyvin osuva" if share > 0.8 else "osuva" if share > 0.5 else "osittain osuva"


def sources_html(answer: Answer | None) -> str:
    """The sources panel: one card per citation, in marker order."""
    if answer is None or not answer.citations:
        note = "Lähteet näkyvät tässä, kun kysyt jotain." if answer is None else "Tähän vastaukseen ei liity lähteitä."
        return f'<div class="lahteet-tyhja">{note}</div>'
    best = max(c.relevance for c in answer.citations)
    cards = []
    for c in answer.citations:
        meta = [f"s. {c.page}" if c.page else None, html.escape(c.municipality) if c.municipality else "Koko maakunta",
                f"tiedot: {html.escape(c.date)}" if c.date else None,
                f"tarkistettu: {html.escape(finnish_date(c.checked))}" if c.checked else None,
                f"osuvuus: {relevance_label(c, best)}"]
        links = [f'<a href="{html.escape(document_link(c))}" target="_blank" rel="noopener">Avaa asiakirja'
                 f'{" (s. " + str(c.page) + ")" if c.page else ""}</a>']
        url = safe_url(c.source_url)
        if url:
            links.append(f'<a href="{html.escape(url)}" target="_blank" rel="noopener noreferrer">Alkuperäinen lähde</a>')
        cards.append(
            f'<div class="lahde" id="lahde-{c.n}" data-n="{c.n}">'
            f'<div class="lahde-otsikko"><span class="lahde-nro">[{c.n}]</span> {html.escape(c.title)}</div>'
            f'<div class="lahde-tiedot">{" · ".join(m for m in meta if m)}</div>'
            f'<blockquote class="lahde-teksti" tabindex="0">{highlighted_passage(c)}</blockquote>'
            f'<div class="lahde-linkit">{" · ".join(links)}</div></div>'
        )
    return '<div class="lahteet">' + "".join(cards) + "</div>"


CSS = """
.lahteet { display: flex; flex-direction: column; gap: 10px; }
.lahde { border: 1px solid #d0d7de; border-radius: 8px; padding: 10px 12px; background: #fff; }
.lahde.valittu { outline: 3px solid #2f6f3e; }
.lahde-otsikko { font-weight: 600; }
.lahde-nro { color: #2f6f3e; }
.lahde-tiedot { font-size: 0.85em; color: #57606a; margin: 2px 0 6px; }
.lahde-teksti { font-size: 0.9em; margin: 0; padding-left: 8px; border-left: 3px solid #d0d7de; max-height: 14em; overflow: auto; }
.lahde-teksti mark { background: #fff3b0; }
.lahde-linkit { font-size: 0.85em; margin-top: 6px; }
.lahteet-tyhja { color: #57606a; }
/* WCAG 2.1 AA contrast (4.5:1) where Gradio's default theme falls short */
.info-text { color: #57606a !important; }
#laheta { background: #2f6f3e !important; border-color: #2f6f3e !important; color: #fff !important; }
#laheta:hover { background: #24562f !important; }
"""

# Clicking a marker [n] in an answer brings its card in the sources panel into view.
MARKER_JS = """
() => {
  document.addEventListener('click', (event) => {
    const link = event.target.closest('a[href^="#lahde-"]');
    if (!link) return;
    event.preventDefault();
    const card = document.getElementById(link.getAttribute('href').slice(1));
    if (!card) return;
    document.querySelectorAll('.lahde.valittu').forEach((el) => el.classList.remove('valittu'));
    card.classList.add('valittu');
    card.scrollIntoView({behavior: 'smooth', block: 'center'});
  }, true);
}
"""
