"""A query's words for word search: lower-cased, no stopwords, each once, safely quoted for FTS5."""

from __future__ import annotations

import re

WORD = re.compile(r"\w+", re.UNICODE)
# A standard English stopword list (the NLTK one): words that match almost every memory.
STOPWORDS = frozenset(
    """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers
    herself it its itself they them their theirs themselves what which who whom this that these those am is are
    was were be been being have has had having do does did doing a an the and but if or because as until while
    of at by for with about against between into through during before after above below to from up down in out
    on off over under again further then once here there when where why how all any both each few more most
    other some such no nor not only own same so than too very s t can will just don should now d ll m o re ve y
    ain aren couldn didn doesn hadn hasn haven isn ma mightn mustn needn shan shouldn wasn weren won wouldn
    """.split()  # noqa: SIM905  (a word list reads better as text)
)
MAX_TERMS = 32


def query_terms(query: str) -> list[str]:
    """The query's words worth searching for: lower-cased, no stopwords, each once, at most 32."""
    terms: list[str] = []
    for word in WORD.findall(query.lower()):
        if word not in STOPWORDS and word not in terms and (len(word) > 1 or word.isdigit()):
            terms.append(word)
    return terms[:MAX_TERMS]


def match_expression(query: str, joiner: str = " OR ") -> str:
    """An FTS5 MATCH expression: the query's words, quoted (no FTS5 syntax gets through), OR-ed."""
    return joiner.join(f'"{term}"' for term in query_terms(query))
