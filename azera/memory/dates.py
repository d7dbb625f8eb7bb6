"""Date expressions in a question ("on 31 July 2023", "in May 2023", "in 2024"), as a time window.

Real questions name times the evidence turn itself doesn't contain ("What did Maria mention on 31 July,
2023?"); memories carry the date they were made, so recall can favour the ones from that time.
Only explicit dates are read: "last week" needs a reference the question doesn't give.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta

MONTHS = {name.lower()[:3]: number for number, name in enumerate(calendar.month_name) if name}
MONTH = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"  # noqa: E501
DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH},?\s+(\d{{4}})\b")
MONTH_DAY_YEAR = re.compile(rf"\b{MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b")
MONTH_YEAR = re.compile(rf"\b{MONTH},?\s+(?:of\s+)?(\d{{4}})\b")
YEAR = re.compile(r"\b(19\d\d|20\d\d)\b")
# A memory made shortly after the named time still tells of it ("last week I …").
SLACK_BEFORE, SLACK_AFTER = timedelta(days=3), timedelta(days=14)


def _day(year: int, month: int, day: int) -> tuple[datetime, datetime] | None:
    try:
        start = datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None
    return start, start + timedelta(days=1)


def named_time(question: str) -> tuple[datetime, datetime] | None:
    """The period a question names, as [start, end) in UTC, or None."""
    text = question.lower()
    if match := DAY_MONTH_YEAR.search(text):
        return _day(int(match.group(3)), MONTHS[match.group(2)[:3]], int(match.group(1)))
    if match := MONTH_DAY_YEAR.search(text):
        return _day(int(match.group(3)), MONTHS[match.group(1)[:3]], int(match.group(2)))
    if match := MONTH_YEAR.search(text):
        year, month = int(match.group(2)), MONTHS[match.group(1)[:3]]
        start = datetime(year, month, 1, tzinfo=UTC)
        return start, datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    if match := YEAR.search(text):
        year = int(match.group(1))
        return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    return None


def recall_window(question: str) -> tuple[float, float] | None:
    """Epoch seconds of the memories that belong to the time a question names (with some slack)."""
    period = named_time(question)
    if period is None:
        return None
    return (period[0] - SLACK_BEFORE).timestamp(), (period[1] + SLACK_AFTER).timestamp()


# "When did Caroline go to the support group?" is answered by a turn that says when ("I went yesterday",
# "last Friday", "in 2022"): on LoCoMo 78 % of the evidence for a when-question holds such words, against
# 11 % of all turns. English only, like the rest of this module.
ASKS_WHEN = re.compile(
    r"^\s*(?:when\b|what (?:date|day|month|year|time)\b|how long ago\b|in which (?:month|year)\b|since when\b)"
)
SAYS_WHEN = re.compile(
    r"\b(?:yesterday|today|tonight|tomorrow|ago|since|(?:last|this|next) (?:week|weekend|month|year|night|morning"
    r"|summer|winter|spring|fall|autumn|monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    r"|(?:19|20)\d\d|january|february|march|april|may|june|july|august|september|october|november|december"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
    re.IGNORECASE,
)


def asks_when(question: str) -> bool:
    """Whether a question asks for a time ("When did…", "What year…", "How long ago…")."""
    return ASKS_WHEN.search(question.lower()) is not None


def says_when(text: str) -> bool:
    """Whether a memory's text tells a time ("yesterday", "last week", "in May", "2022")."""
    return SAYS_WHEN.search(text) is not None
