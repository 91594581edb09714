"""The content-gap report: what people asked that the material could not answer well, most frequent first.

Refused and partial answers, and answers whose best passage scored barely above the refusal threshold, are
grouped by question similarity (bot/questionmatch.py, the same notion as for reviewed answers), so that ten
wordings of one missing topic show up as one gap with ten askings.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

from bot.embeddings import base_embeddings
from bot.questionlog import OUTCOMES, LoggedQuestion, QuestionLog
from bot.questionmatch import QuestionMatcher
from bot.settings import Settings

DEFAULT_DAYS = 30
LOW_SCORE_MARGIN = 0.02  # an answer whose best passage is within this of ILMASTO_MIN_SIMILARITY is low confidence
MAX_EXAMPLES = 3
OUTCOME_LABELS = {"refused": "ei vastausta", "partial": "osittainen vastaus", "answered": "vastattu heikolla osumalla"}
COUNT_LABELS = {"answered": "vastattu", "partial": "osittain", "refused": "ei vastausta"}


@dataclass
class GapGroup:
    count: int
    examples: list[str]
    outcome: str  # the most common outcome of the group; "answered" means answered on a weak match
    last_asked: str = ""  # ISO time of the latest asking

    def as_json(self) -> dict:
        return asdict(self)


@dataclass
class GapReport:
    days: int
    counts: dict[str, int]
    groups: list[GapGroup] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"days": self.days, "counts": self.counts, "groups": [g.as_json() for g in self.groups]}

    def as_text(self) -> str:
        """The report in plain Finnish, for the command line."""
        counts = ", ".join(f"{COUNT_LABELS[o]} {self.counts[o]}" for o in OUTCOMES)
        lines = [f"Sisältöaukot, viimeiset {self.days} päivää", f"Kysymyksiä {self.counts['total']}: {counts}.", ""]
        if not self.groups:
            lines.append("Ei vastaamatta jääneitä tai heikosti vastattuja kysymyksiä.")
        for n, group in enumerate(self.groups, 1):
            times = "kerran" if group.count == 1 else f"{group.count} kertaa"
            lines.append(f"{n}. {times} – {OUTCOME_LABELS[group.outcome]}")
            lines.extend(f"   – {example}" for example in group.examples)
        return "\n".join(lines)


def is_gap(row: LoggedQuestion, low_score: float) -> bool:
    """Refused, partial, or answered from a passage that barely passed the refusal threshold."""
    weak = row.best_score is not None and row.best_score < low_score
    return row.outcome in ("refused", "partial") or weak


def group_similar(rows: list[LoggedQuestion], matcher: QuestionMatcher) -> list[GapGroup]:
    """Rows grouped by question similarity, largest group first (ties: the latest asked first)."""
    groups: list[list[LoggedQuestion]] = []
    for row in rows:  # newest first, so each group's first row is its latest asking
        home = next((g for g in groups if matcher.same_question(row.question, g[0].question)), None)
        if home is None:
            groups.append([row])
        else:
            home.append(row)
    groups.sort(key=len, reverse=True)  # stable: equal sizes keep newest-first order
    return [
        GapGroup(count=len(g), outcome=Counter(r.outcome for r in g).most_common(1)[0][0],
                 examples=[q for q, _ in Counter(r.question for r in g).most_common(MAX_EXAMPLES)],
                 last_asked=g[0].created_at.isoformat())
        for g in groups
    ]


def gap_report(settings: Settings, days: int = DEFAULT_DAYS, matcher: QuestionMatcher | None = None) -> GapReport:
    """The content gaps of the last ``days`` days of the question log (for the CLI and the admin page)."""
    rows = QuestionLog(settings).rows(days=days, limit=None)
    counts = {outcome: sum(r.outcome == outcome for r in rows) for outcome in OUTCOMES} | {"total": len(rows)}
    gaps = [r for r in rows if is_gap(r, settings.min_similarity + LOW_SCORE_MARGIN)]
    if not gaps:
        return GapReport(days, counts)
    return GapReport(days, counts, group_similar(gaps, matcher or QuestionMatcher(base_embeddings(settings))))
