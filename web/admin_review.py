"""The review part of the admin page: the question log, the content-gap report, reviewed answers and
superseded documents, as server-rendered Finnish HTML (every value escaped by Jinja2) and as JSON.

The admin page (web/admin.py) mounts ``review_router(service, require_admin, csrf_token)``: ``require_admin``
is its authentication dependency (it raises 401 for everyone else) and ``csrf_token`` a dependency returning
the current session's CSRF token, which every form here carries as the field ``csrf`` and every POST checks.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, HTTPException
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import DictLoader, Environment

from bot.municipalities import MUNICIPALITIES
from bot.questionlog import OUTCOMES, LoggedQuestion
from bot.report import COUNT_LABELS, DEFAULT_DAYS, OUTCOME_LABELS, gap_report
from bot.reviewed import ReviewedCitation, SupersededDocuments, finnish_date
from bot.service import BotService

FINNISH_TIME = ZoneInfo("Europe/Helsinki")
CITATION_ROWS = 5  # citation fields on the reviewed-answer form
HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

TEMPLATES = {
    "layout": """<!doctype html>
<html lang="fi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} – Ilmastobotin ylläpito</title>
<style>body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:70rem}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ccc;padding:.3rem;text-align:left;vertical-align:top}nav a{margin-right:1rem}
.virhe{color:#a00}label{display:block;margin:.4rem 0}textarea,input[type=text]{width:100%}
fieldset{margin:.5rem 0}.teksti{white-space:pre-wrap}form.rivissa{display:inline}</style></head><body>
<nav><a href="/admin">Ylläpito</a><a href="/admin/questions">Kysymysloki</a><a href="/admin/gaps">Sisältöaukot</a>
<a href="/admin/reviewed">Tarkistetut vastaukset</a><a href="/admin/superseded">Vanhentuneet asiakirjat</a></nav>
<h1>{{ title }}</h1>{% if error %}<p class="virhe" role="alert">{{ error }}</p>{% endif %}
{% block content %}{% endblock %}</body></html>""",
    "questions": """{% extends "layout" %}{% block content %}
<form method="get"><label>Tulos <select name="outcome"><option value="">kaikki</option>
{% for o in outcomes %}<option value="{{ o }}"{% if o == filters.outcome %} selected{% endif %}>{{ count_labels[o] }}</option>{% endfor %}
</select></label><label>Kunta <select name="municipality"><option value="">kaikki</option>
{% for m in municipalities %}<option{% if m == filters.municipality %} selected{% endif %}>{{ m }}</option>{% endfor %}
</select></label><label>Päiviä taaksepäin <input type="number" name="days" min="1" value="{{ filters.days or '' }}"></label>
<label>Kysymyksessä <input type="text" name="contains" value="{{ filters.contains or '' }}"></label>
<button>Suodata</button> <a href="/admin/questions.json">JSON</a></form>
<table><tr><th>Aika</th><th>Kunta</th><th>Tulos</th><th>Paras osuma</th><th>Kysymys</th><th>Lähteet</th></tr>
{% for row in rows %}<tr><td>{{ row.created_at|local }}</td><td>{{ row.municipality or "–" }}</td>
<td>{{ count_labels[row.outcome] }}</td><td>{{ "%.3f"|format(row.best_score) if row.best_score is not none else "–" }}</td>
<td><a href="/admin/questions/{{ row.id }}">{{ row.question }}</a></td><td>{{ row.doc_ids|join(", ") }}</td></tr>
{% else %}<tr><td colspan="6">Ei kysymyksiä.</td></tr>{% endfor %}</table>{% endblock %}""",
    "question": """{% extends "layout" %}{% block content %}
<p>{{ row.created_at|local }} · {{ row.municipality or "koko Keski-Suomi" }} ·
{{ count_labels[row.outcome] }}</p><h2>Vastaus</h2><p class="teksti">{{ row.answer }}</p>
<h2>Lähteet</h2>{% for c in row.citations %}<div><p>[{{ c.n }}] {{ c.title }}{% if c.page %}, s. {{ c.page }}{% endif %}
({{ c.doc_id }}): ”{{ c.quote }}” –
{% if c.n in row.reviews %}merkitty <strong>{{ "oikeaksi" if row.reviews[c.n] else "vääräksi" }}</strong>{% else %}ei arvioitu{% endif %}</p>
<form method="post" action="/admin/questions/{{ row.id }}/citations/{{ c.n }}"><input type="hidden" name="csrf" value="{{ csrf }}">
<button name="correct" value="1">Lähde oikein</button> <button name="correct" value="0">Lähde väärin</button></form></div>
{% else %}<p>Ei lähteitä.</p>{% endfor %}
<h2>Kirjoita tarkistettu vastaus</h2>{% include "reviewed_form" %}{% endblock %}""",
    "reviewed_form": """<form method="post" action="/admin/reviewed"><input type="hidden" name="csrf" value="{{ csrf }}">
<label>Kysymys <input type="text" name="question" required value="{{ form.question }}"></label>
<label>Kunta <select name="municipality"><option value="">koko Keski-Suomi</option>
{% for m in municipalities %}<option{% if m == form.municipality %} selected{% endif %}>{{ m }}</option>{% endfor %}</select></label>
<label>Vastaus (viittaa lähteisiin merkinnöin [1], [2] …)<textarea name="answer" rows="6" required>{{ form.answer }}</textarea></label>
{% for c in form.citations %}<fieldset><legend>Lähde [{{ loop.index }}]</legend>
<label>Asiakirja (doc_id) <input type="text" name="doc_id" value="{{ c.doc_id }}"></label>
<label>Otsikko <input type="text" name="title" value="{{ c.title }}"></label>
<label>Lainaus <textarea name="quote" rows="2">{{ c.quote }}</textarea></label>
<label>Sivu <input type="number" name="page" min="1" value="{{ c.page or '' }}"></label>
<label>Verkko-osoite <input type="text" name="source_url" value="{{ c.source_url or '' }}"></label></fieldset>{% endfor %}
<button>Tallenna tarkistettu vastaus</button></form>""",
    "gaps": """{% extends "layout" %}{% block content %}
<form method="get"><label>Päiviä taaksepäin <input type="number" name="days" min="1" value="{{ report.days }}"></label>
<button>Näytä</button> <a href="/admin/gaps.json?days={{ report.days }}">JSON</a></form>
<p>Kysymyksiä {{ report.counts.total }}: {% for o in outcomes %}{{ count_labels[o] }} {{ report.counts[o] }}{{ ", " if not loop.last }}{% endfor %}.</p>
<table><tr><th>Kertaa</th><th>Tulos</th><th>Esimerkkejä</th><th>Viimeksi</th></tr>
{% for g in report.groups %}<tr><td>{{ g.count }}</td><td>{{ outcome_labels[g.outcome] }}</td>
<td><ul>{% for e in g.examples %}<li>{{ e }}</li>{% endfor %}</ul></td><td>{{ g.last_asked[:10] }}</td></tr>
{% else %}<tr><td colspan="4">Ei vastaamatta jääneitä tai heikosti vastattuja kysymyksiä.</td></tr>{% endfor %}</table>{% endblock %}""",
    "reviewed": """{% extends "layout" %}{% block content %}<p><a href="/admin/reviewed.json">JSON</a></p>
<table><tr><th>Kysymys</th><th>Kunta</th><th>Vastaus</th><th>Tarkistettu</th><th></th></tr>
{% for r in answers %}<tr><td>{{ r.question }}</td><td>{{ r.municipality or "koko Keski-Suomi" }}</td>
<td>{{ r.answer }}<br><small>{% for c in r.citations %}[{{ loop.index }}] {{ c.title }} ({{ c.doc_id }}) {% endfor %}</small></td>
<td>{{ finnish_date(r.reviewed_on) }}</td><td>{% if r.withdrawn_at %}peruttu {{ finnish_date(r.withdrawn_at.date()) }}{% else %}
<form method="post" action="/admin/reviewed/{{ r.id }}/withdraw"><input type="hidden" name="csrf" value="{{ csrf }}">
<button>Peru</button></form>{% endif %}</td></tr>
{% else %}<tr><td colspan="5">Ei tarkistettuja vastauksia.</td></tr>{% endfor %}</table>
<h2>Uusi tarkistettu vastaus</h2>{% include "reviewed_form" %}{% endblock %}""",
    "superseded": """{% extends "layout" %}{% block content %}<p><a href="/admin/superseded.json">JSON</a></p>
<p>Vanhentuneeksi merkittyjä asiakirjoja ei enää lainata ajantasaisina.</p><ul>
{% for doc_id in doc_ids %}<li>{{ doc_id }} <form class="rivissa" method="post" action="/admin/superseded/unmark">
<input type="hidden" name="csrf" value="{{ csrf }}"><input type="hidden" name="doc_id" value="{{ doc_id }}">
<button>Palauta ajantasaiseksi</button></form></li>{% else %}<li>Ei vanhentuneita asiakirjoja.</li>{% endfor %}</ul>
<form method="post" action="/admin/superseded"><input type="hidden" name="csrf" value="{{ csrf }}">
<label>Asiakirja (doc_id) <input type="text" name="doc_id" list="asiakirjat" required></label>
<datalist id="asiakirjat">{% for d in known %}<option value="{{ d }}">{% endfor %}</datalist>
<button>Merkitse vanhentuneeksi</button></form>{% endblock %}""",
}
ENVIRONMENT = Environment(loader=DictLoader(TEMPLATES), autoescape=True)
ENVIRONMENT.filters["local"] = lambda moment: moment.astimezone(FINNISH_TIME).strftime("%d.%m.%Y %H:%M")
ENVIRONMENT.globals.update(outcomes=OUTCOMES, count_labels=COUNT_LABELS, outcome_labels=OUTCOME_LABELS,
                           municipalities=MUNICIPALITIES, finnish_date=finnish_date)
BAD_CSRF = "Lomakkeen tarkiste ei kelpaa. Lataa sivu uudelleen ja yritä uudestaan."


def render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(ENVIRONMENT.get_template(name).render(**context), status_code=status_code, headers=HEADERS)


def blank_form(citations: list[dict] | None = None, **fields: Any) -> dict:
    """Values for the reviewed-answer form, padded to CITATION_ROWS citation rows."""
    rows = list(citations or [])[:CITATION_ROWS]
    return {"question": "", "municipality": None, "answer": "", **fields,
            "citations": rows + [{}] * (CITATION_ROWS - len(rows))}


def prefill_from(row: LoggedQuestion) -> dict:
    """The reviewed-answer form started from a logged question and its answer."""
    return blank_form(row.citations, question=row.question, municipality=row.municipality, answer=row.answer)


def reviewed_citations(doc_ids: list[str], titles: list[str], quotes: list[str], pages: list[str],
                       urls: list[str]) -> list[ReviewedCitation]:
    """The filled-in citation rows of the form (a row without a document is left out)."""
    citations = []
    for doc_id, title, quote, page, url in zip(doc_ids, titles, quotes, pages, urls):
        if not doc_id.strip():
            continue
        if page.strip() and not page.strip().isdigit():
            raise ValueError("Sivunumeron pitää olla numero.")
        citations.append(ReviewedCitation(doc_id=doc_id.strip(), title=title.strip(), quote=quote.strip(),
                                          page=int(page) if page.strip() else None, source_url=url.strip() or None))
    return citations


def review_router(service: BotService, require_admin: Callable[..., Any], csrf_token: Callable[..., str]) -> APIRouter:
    """Pages and JSON under /admin for reviewing; every route needs ``require_admin``."""
    router = APIRouter(prefix="/admin", dependencies=[Depends(require_admin)], include_in_schema=False)
    log, reviewed = service.question_log, service.reviewed
    superseded = SupersededDocuments(service.settings)
    token = Depends(csrf_token)

    def check_csrf(sent: str = Form("", alias="csrf"), expected: str = Depends(csrf_token)) -> None:
        if not hmac.compare_digest(sent.encode(), expected.encode()):
            raise HTTPException(status_code=403, detail=BAD_CSRF)

    def known_doc_ids() -> list[str]:
        if not service.status.lexical_ready:
            return []
        return sorted({r.doc_id for r in service.answerer.retriever.records})

    def logged(log_id: int) -> LoggedQuestion:
        row = log.get(log_id)
        if row is None:
            raise HTTPException(status_code=404, detail="Kysymystä ei ole lokissa.")
        return row

    def see(path: str) -> RedirectResponse:
        return RedirectResponse(path, status_code=303)

    @router.get("/questions")
    def questions_page(outcome: str = "", municipality: str = "", days: str = "",
                       contains: str = "") -> HTMLResponse:
        """The filter form sends empty fields for "any"."""
        filters = {"outcome": outcome, "municipality": municipality, "contains": contains,
                   "days": int(days) if days.isdigit() else None}
        return render("questions", title="Kysymysloki", rows=log.rows(**filters), filters=filters)

    @router.get("/questions.json")
    def questions_json(outcome: str = "", municipality: str = "", days: int | None = None, contains: str = "",
                       limit: int = 200) -> list[dict]:
        rows = log.rows(outcome=outcome, municipality=municipality, days=days, contains=contains, limit=limit)
        return [row.as_json() for row in rows]

    @router.get("/questions/{log_id}")
    def question_page(log_id: int, csrf: str = token) -> HTMLResponse:
        row = logged(log_id)
        return render("question", title=f"Kysymys: {row.question}", row=row, form=prefill_from(row), csrf=csrf)

    @router.post("/questions/{log_id}/citations/{n}", dependencies=[Depends(check_csrf)])
    def mark_citation(log_id: int, n: int, correct: Annotated[bool, Form()]) -> RedirectResponse:
        try:
            log.mark_citation(log_id, n, correct)
        except KeyError:
            raise HTTPException(status_code=404, detail="Lähdettä ei ole.") from None
        return see(f"/admin/questions/{log_id}")

    @router.get("/gaps")
    def gaps_page(days: int = DEFAULT_DAYS) -> HTMLResponse:
        return render("gaps", title="Sisältöaukot", report=gap_report(service.settings, max(1, days), reviewed.matcher))

    @router.get("/gaps.json")
    def gaps_json(days: int = DEFAULT_DAYS) -> dict:
        return gap_report(service.settings, max(1, days), reviewed.matcher).as_json()

    @router.get("/reviewed")
    def reviewed_page(csrf: str = token) -> HTMLResponse:
        return render("reviewed", title="Tarkistetut vastaukset", answers=reviewed.all(), form=blank_form(), csrf=csrf)

    @router.get("/reviewed.json")
    def reviewed_json() -> list[dict]:
        return [r.as_json() for r in reviewed.all()]

    @router.post("/reviewed", dependencies=[Depends(check_csrf)])
    def add_reviewed(question: Annotated[str, Form()] = "", answer: Annotated[str, Form()] = "",
                     municipality: Annotated[str, Form()] = "", doc_id: Annotated[list[str], Form()] = [],
                     title: Annotated[list[str], Form()] = [], quote: Annotated[list[str], Form()] = [],
                     page: Annotated[list[str], Form()] = [], source_url: Annotated[list[str], Form()] = [],
                     csrf: str = token) -> Response:
        sent = [{"doc_id": d, "title": t, "quote": q, "page": p, "source_url": u}
                for d, t, q, p, u in zip(doc_id, title, quote, page, source_url)]
        try:
            citations = reviewed_citations(doc_id, title, quote, page, source_url)
            reviewed.add(question, answer, citations, municipality=municipality or None, reviewed_on=date.today())
        except ValueError as exc:
            form = blank_form(sent, question=question, answer=answer, municipality=municipality)
            return render("reviewed", 422, title="Tarkistetut vastaukset", error=str(exc), answers=reviewed.all(),
                          form=form, csrf=csrf)
        return see("/admin/reviewed")

    @router.post("/reviewed/{reviewed_id}/withdraw", dependencies=[Depends(check_csrf)])
    def withdraw_reviewed(reviewed_id: int) -> RedirectResponse:
        reviewed.withdraw(reviewed_id)
        return see("/admin/reviewed")

    @router.get("/superseded")
    def superseded_page(csrf: str = token) -> HTMLResponse:
        return render("superseded", title="Vanhentuneet asiakirjat", doc_ids=sorted(superseded.superseded_doc_ids()),
                      known=known_doc_ids(), csrf=csrf)

    @router.get("/superseded.json")
    def superseded_json() -> list[str]:
        return sorted(superseded.superseded_doc_ids())

    @router.post("/superseded", dependencies=[Depends(check_csrf)])
    def mark_superseded(doc_id: Annotated[str, Form()]) -> RedirectResponse:
        if doc_id.strip():
            superseded.mark(doc_id.strip())
        return see("/admin/superseded")

    @router.post("/superseded/unmark", dependencies=[Depends(check_csrf)])
    def unmark_superseded(doc_id: Annotated[str, Form()]) -> RedirectResponse:
        superseded.unmark(doc_id)
        return see("/admin/superseded")

    return router
