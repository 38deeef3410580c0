"""Tagging articles and sections with topics: a topic is a saved search, and a
text is tagged only when the topic is what it is about.

The topic's query must match, and its words must be salient in the text: they
occur at least MIN_HITS times and at least MIN_DENSITY times per 1,000
characters of body, or one of them is in the title, kicker, dek or heading and
they occur at least MIN_LEAD_DENSITY times per 1,000 characters, or they occur
at least MANY_HITS times however long the text. One passing word in a long story
is not what it is about; a word in its headline is. A live
blog is tagged entry by entry, and as a whole only when at least
MIN_LIVE_ENTRIES of its entries, and MIN_LIVE_SHARE of them, carry the topic.
A word or phrase the query excludes ("-\"arms control\"") keeps the topic off any
text that has it, wherever it stands in the query (in web search syntax it would
only qualify the term before it).
The thresholds were calibrated on the labelled set in tests/data/ (figures in
docs/quality.md).

Tags the rule makes are replaced on every run; tags a curator set (curated) are
never touched, and a curator's exclusion keeps the rule from re-adding the tag.
The normal loader, the bulk loader, the admin action and a reload all tag
through `tag_articles_with`, so they agree.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from contextlib import contextmanager

from django.db import connection, transaction

from articles import cache
from articles.models import Article, Topic
from articles.search_vectors import SEARCH_CONFIG

MIN_HITS = 2
MIN_DENSITY = 1.8
MIN_LEAD_DENSITY = 1.0
MANY_HITS = 8
MIN_LIVE_ENTRIES = 2
MIN_LIVE_SHARE = 0.1

# Changing the rule above changes this, so a reload re-tags what was tagged before.
RULE = (
    f"salience-2 {MIN_HITS} {MIN_DENSITY} {MIN_LEAD_DENSITY} {MANY_HITS} "
    f"{MIN_LIVE_ENTRIES} {MIN_LIVE_SHARE}"
)

# Articles re-tagged per statement when a topic is re-run over the whole archive.
RETAG_BATCH = 2000
# The advisory lock a re-tag of the whole archive holds (any number of the app's own).
RETAG_LOCK = 1_587_348_015

# Web search syntax: a quoted phrase or a word, either negated by a leading "-".
_QUERY_TERM = re.compile(r'-?"[^"]*"|-?[^\s"]+')


def query_terms(query: str) -> list[str]:
    """The words and phrases a topic's query looks for (not the ones it excludes)."""
    return _terms(query, excluded=False)


def excluded_terms(query: str) -> list[str]:
    """The words and phrases a topic's query excludes ("-word", "-\"a phrase\"")."""
    return _terms(query, excluded=True)


def _terms(query: str, excluded: bool) -> list[str]:
    terms = []
    for term in _QUERY_TERM.findall(query):
        if term.startswith("-") != excluded or term.lower() == "or":
            continue
        if term := term.lstrip("-").strip('"').strip():
            terms.append(term)
    return terms


def rule_fingerprint(topic: Topic) -> str:
    """What a topic's tags were made with: the rule and the topic's query."""
    return hashlib.sha256(f"{RULE}\n{topic.query}".encode()).hexdigest()[:16]


# Every place where a whole term starts in each owner's text: a word, or every word
# of a phrase in order (phrase offsets come from the term's own parse, so stop words
# inside it count as they do in the text). Weights say where: A the title, B the
# kicker, dek or an entry's heading, C the body.
_SALIENCE = """
WITH topic AS MATERIALIZED (
    SELECT t.id, websearch_to_tsquery(%(config)s::regconfig, t.query) AS query,
           websearch_to_tsquery(%(config)s::regconfig, x.excluded) AS excluded
    FROM articles_topic t
    LEFT JOIN unnest(%(excluding_topics)s::int[], %(excluded)s::text[]) AS x(topic_id, excluded)
           ON x.topic_id = t.id
    WHERE t.id = ANY(%(topics)s)
),
term AS MATERIALIZED (
    SELECT t.topic_id, t.term_no, u.lexeme,
           p.pos - min(p.pos) OVER (PARTITION BY t.topic_id, t.term_no) AS shift
    FROM unnest(%(term_topics)s::int[], %(term_nos)s::int[], %(terms)s::text[])
             AS t(topic_id, term_no, term),
         unnest(to_tsvector(%(config)s::regconfig, t.term)) AS u(lexeme, positions, weights),
         unnest(u.positions) AS p(pos)
),
word AS MATERIALIZED (
    SELECT o.id AS owner_id, u.lexeme, p.pos, p.weight
    FROM {owners} o,
         unnest(o.search_vector) AS u(lexeme, positions, weights),
         unnest(u.positions, u.weights) AS p(pos, weight)
    WHERE o.id = ANY(%(ids)s) AND u.lexeme IN (SELECT lexeme FROM term)
),
hit AS (
    SELECT first.owner_id, head.topic_id, first.pos, first.weight
    FROM word first
    JOIN term head ON head.lexeme = first.lexeme AND head.shift = 0
    JOIN term part ON part.topic_id = head.topic_id AND part.term_no = head.term_no
    LEFT JOIN word next ON next.owner_id = first.owner_id AND next.lexeme = part.lexeme
                       AND next.pos = first.pos + part.shift
    GROUP BY first.owner_id, head.topic_id, head.term_no, first.pos, first.weight
    HAVING count(next.pos) = count(*)
),
salience AS (
    SELECT owner_id, topic_id, count(DISTINCT pos) AS hits,
           count(DISTINCT pos) FILTER (WHERE weight IN ('A', 'B')) AS lead_hits
    FROM hit GROUP BY owner_id, topic_id
)
INSERT INTO {tags} ({owner}_id, topic_id, score, curated{extra_columns})
SELECT s.owner_id, s.topic_id, s.density, false{extra_values} FROM (
    SELECT s.owner_id, s.topic_id, s.hits, s.lead_hits,
           s.hits * 1000.0 / greatest(length(o.body), 1) AS density
    FROM salience s
    JOIN {owners} o ON o.id = s.owner_id
    JOIN topic t ON t.id = s.topic_id
    WHERE o.search_vector @@ t.query {only_plain}
      AND NOT (t.excluded IS NOT NULL AND o.search_vector @@ t.excluded)
) s
WHERE ((s.hits >= %(min_hits)s AND s.density >= %(min_density)s)
       OR (s.lead_hits >= 1 AND s.density >= %(min_lead_density)s)
       OR s.hits >= %(many_hits)s)
  AND NOT EXISTS (
      SELECT 1 FROM {tags} kept WHERE kept.{owner}_id = s.owner_id AND kept.topic_id = s.topic_id
  )
"""
_TAG_SECTIONS = _SALIENCE.format(
    owners="articles_section",
    tags="articles_sectiontopic",
    owner="section",
    extra_columns="",
    extra_values="",
    only_plain="",
)
_TAG_PLAIN_ARTICLES = _SALIENCE.format(
    owners="articles_article",
    tags="articles_articletopic",
    owner="article",
    extra_columns=", excluded",
    extra_values=", false",
    only_plain="AND o.kind <> %(live)s",
)
_TAG_LIVE_BLOGS = """
INSERT INTO articles_articletopic (article_id, topic_id, score, curated, excluded)
SELECT entry.article_id, tag.topic_id, count(*)::float / blog.entries, false, false
FROM articles_sectiontopic tag
JOIN articles_section entry ON entry.id = tag.section_id
JOIN (
    SELECT e.article_id, count(*) AS entries
    FROM articles_section e JOIN articles_article a ON a.id = e.article_id
    WHERE e.article_id = ANY(%(ids)s) AND a.kind = %(live)s
    GROUP BY e.article_id
) blog ON blog.article_id = entry.article_id
WHERE tag.topic_id = ANY(%(topics)s)
  AND NOT EXISTS (
      SELECT 1 FROM articles_articletopic kept
      WHERE kept.article_id = entry.article_id AND kept.topic_id = tag.topic_id
  )
GROUP BY entry.article_id, tag.topic_id, blog.entries
HAVING count(*) >= %(min_live_entries)s AND count(*) >= %(min_live_share)s * blog.entries
"""
_FORGET_SECTION_TAGS = """
DELETE FROM articles_sectiontopic tag USING articles_section entry
WHERE entry.id = tag.section_id AND entry.article_id = ANY(%(ids)s)
  AND tag.topic_id = ANY(%(topics)s) AND NOT tag.curated
"""
_FORGET_ARTICLE_TAGS = """
DELETE FROM articles_articletopic
WHERE article_id = ANY(%(ids)s) AND topic_id = ANY(%(topics)s) AND NOT curated
"""


def tag_articles_with(cursor, article_ids: list[int], topics: list[Topic]) -> int:
    """Replace the rule's tags on these articles and their sections for these
    topics, on the caller's cursor and transaction. Returns the article tags made."""
    if not article_ids or not topics:
        return 0
    params = _parameters(article_ids, topics)
    cursor.execute(_FORGET_SECTION_TAGS, params)
    cursor.execute(_FORGET_ARTICLE_TAGS, params)
    entry_ids = _entries(cursor, article_ids)
    cursor.execute(_TAG_SECTIONS, {**params, "ids": entry_ids})
    cursor.execute(_TAG_PLAIN_ARTICLES, params)
    made = cursor.rowcount
    cursor.execute(_TAG_LIVE_BLOGS, params)
    return made + cursor.rowcount


def _parameters(article_ids: list[int], topics: list[Topic]) -> dict:
    term_topics, term_nos, terms = [], [], []
    for topic in topics:
        for number, term in enumerate(query_terms(topic.query)):
            term_topics.append(topic.pk)
            term_nos.append(number)
            terms.append(term)
    excluding = [topic for topic in topics if excluded_terms(topic.query)]
    return {
        "config": SEARCH_CONFIG,
        # Each topic's excluded words as one query of alternatives: any of them vetoes.
        "excluding_topics": [topic.pk for topic in excluding],
        "excluded": [_any_of(excluded_terms(topic.query)) for topic in excluding],
        "live": Article.Kind.LIVE.value,
        "ids": article_ids,
        "topics": [topic.pk for topic in topics],
        "term_topics": term_topics,
        "term_nos": term_nos,
        "terms": terms,
        "min_hits": MIN_HITS,
        "min_density": MIN_DENSITY,
        "min_lead_density": MIN_LEAD_DENSITY,
        "many_hits": MANY_HITS,
        "min_live_entries": MIN_LIVE_ENTRIES,
        "min_live_share": MIN_LIVE_SHARE,
    }


def _any_of(terms: list[str]) -> str:
    return " or ".join(f'"{term}"' for term in terms)


def _entries(cursor, article_ids: list[int]) -> list[int]:
    """The sections tagged one by one: those of articles with several (a live blog's
    entries make its own tags, `_TAG_LIVE_BLOGS`). An article's only section is its
    whole text, which the article's own tags already judge."""
    cursor.execute(
        "SELECT id FROM articles_section WHERE article_id IN ("
        "  SELECT article_id FROM articles_section WHERE article_id = ANY(%s)"
        "  GROUP BY article_id HAVING count(*) > 1)",
        [article_ids],
    )
    return [row[0] for row in cursor.fetchall()]


@transaction.atomic
def tag_articles(article_ids: Iterable[int], topics: Iterable[Topic] | None = None) -> int:
    """(Re)tag the given articles with every topic (or the given ones). Returns tags made."""
    topics = list(Topic.objects.all() if topics is None else topics)
    with connection.cursor() as cursor:
        return tag_articles_with(cursor, list(article_ids), topics)


def retag_topic(topic: Topic) -> int:
    """Re-run one topic over the whole archive, e.g. after a curator edits its query."""
    return retag([topic])


def retag(topics: list[Topic]) -> int:
    """Re-run these topics over the whole archive. Returns the article tags made."""
    with _one_retag_at_a_time():
        return _retag(topics)


def retag_stale() -> list[Topic]:
    """Re-run the topics whose query, or the rule, changed since their tags were made
    (a load ends with this). Returns them."""
    with _one_retag_at_a_time():
        stale = stale_topics()  # read under the lock: another loader may have just done it
        _retag(stale)
    return stale


def stale_topics() -> list[Topic]:
    """Topics whose tags were made with another rule or query than today's."""
    return [
        topic for topic in Topic.objects.all() if topic.tags_made_with != rule_fingerprint(topic)
    ]


@contextmanager
def _one_retag_at_a_time():
    # Two loaders ending together would both re-tag the archive and insert the same
    # tags; the second waits and then finds nothing stale.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [RETAG_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [RETAG_LOCK])


def _retag(topics: list[Topic]) -> int:
    """A batch of articles per transaction; then note on each topic what its tags are
    now made with."""
    if not topics:
        return 0
    made = 0
    last_id = 0
    while batch := list(
        Article.objects.filter(pk__gt=last_id)
        .order_by("pk")
        .values_list("pk", flat=True)[:RETAG_BATCH]
    ):
        made += tag_articles(batch, topics)
        last_id = batch[-1]
    for topic in topics:
        Topic.objects.filter(pk=topic.pk, query=topic.query).update(
            tags_made_with=rule_fingerprint(topic)
        )
    cache.changed()
    return made
