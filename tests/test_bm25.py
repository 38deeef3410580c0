"""BM25 ranking (articles/ranking.py): rare words weigh more than common ones,
the term statistics follow each load, and ranking works without them."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import BooleanField, F, Func

from articles.models import Article, Outlet
from articles.ranking import refresh_term_statistics
from articles.search.backends.postgres import SECTION_BONUS, by_relevance
from articles.search.variants import build_text_query
from tests.test_search import make_article, titles

pytestmark = pytest.mark.django_db

DESK = "bm25-desk"


@pytest.fixture
def desk():
    return Outlet.objects.create(name="BM25 Desk", slug=DESK)


def dated(day: int) -> dict:
    return {"published_at": datetime(2023, 2, day, tzinfo=UTC)}


def document_frequency(word: str) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT df FROM articles_termstat "
            "WHERE lexeme = ANY(tsvector_to_array(to_tsvector('archive_english', %s)))",
            [word],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def corpus_size() -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT n FROM articles_corpusstat")
        row = cursor.fetchone()
    return row[0] if row else None


def test_a_rare_word_weighs_more_than_a_common_one(client, desk):
    # The same sentence, one word apart: only the words' document frequencies differ.
    for day in (1, 2, 3):
        make_article(
            f"Report {day}", [f"Tanks were seen near the river on day {day}."], outlet=desk
        )
    common = make_article("Morning", ["Tanks were seen near the river at dawn."], outlet=desk)
    rare = make_article(
        "Evening", ["Herons were seen near the river at dawn."], outlet=desk, **dated(1)
    )
    refresh_term_statistics()
    assert document_frequency("herons") == 1 < document_frequency("tanks")

    found = titles(client, q="tanks or herons", outlet=DESK)

    assert found[:2] == [rare.title, common.title]  # though `common` is newer


def test_each_term_weighs_as_the_statistics_count_its_rarest_word(desk):
    # A search reads the statistics with its words: a word its own document
    # frequency, a phrase its rarest known word (a word the statistics do not know
    # leaves it to the others), a prefix its start as a word; and the archive's size.
    for day in (1, 2, 3):
        make_article(f"Report {day}", [f"Tanks crossed the river on day {day}."], outlet=desk)
    make_article("Evening", ["Herons and tanks were seen near the river."], outlet=desk)
    refresh_term_statistics()
    text_query = build_text_query('tanks "herons tanks" "herons zyxwvq" river*')
    words, both, unknown, prefix = text_query.wanted_terms
    assert document_frequency("herons") < document_frequency("tanks")
    assert text_query.document_frequency(words) == document_frequency("tanks")
    assert text_query.document_frequency(both) == document_frequency("herons")
    assert text_query.document_frequency(unknown) == document_frequency("herons")
    assert text_query.document_frequency(prefix) == document_frequency("river")
    assert text_query.corpus.articles == corpus_size() > 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT avgdl FROM articles_corpusstat")
        assert text_query.corpus.mean_length == cursor.fetchone()[0]


def test_a_load_refreshes_the_statistics(tmp_path):
    story = tmp_path / "quokkas.txt"
    story.write_text(
        "Quokkas on the front line\n\nSoldiers near Bakhmut adopted two quokkas, "
        "a regimental spokesman said.\n"
    )
    assert document_frequency("quokkas") is None

    call_command("load_articles", str(story), outlet="Reuters", verbosity=0)

    assert document_frequency("quokkas") == 1
    assert corpus_size() == Article.objects.count()


def test_rerunning_a_load_killed_before_its_refresh_refreshes_the_statistics(tmp_path, desk):
    story = tmp_path / "quokkas.txt"
    story.write_text("Quokkas on the front line\n\nTwo quokkas were adopted.\n")
    call_command("load_articles", str(story), outlet="Reuters", verbosity=0)
    # A later load committed its articles and was killed before refreshing.
    make_article("Quokkas again", ["A third quokka was adopted."], outlet=desk)
    assert document_frequency("quokkas") == 1

    call_command("load_articles", str(story), outlet="Reuters", verbosity=0)  # unchanged

    assert document_frequency("quokkas") == 2
    assert corpus_size() == Article.objects.count()


def test_a_dry_run_leaves_the_statistics_alone(tmp_path):
    story = tmp_path / "quokkas.txt"
    story.write_text("Quokkas on the front line\n\nTwo quokkas were adopted.\n")

    call_command("load_articles", str(story), outlet="Reuters", dry_run=True, verbosity=0)

    assert document_frequency("quokkas") is None


def test_ranking_works_without_statistics(client, desk):
    in_title = make_article("Herons return to the Dnipro", ["Birds were seen."], outlet=desk)
    in_body = make_article("Birds", ["Herons were seen near the river."], outlet=desk, **dated(3))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM articles_termstat")
        cursor.execute("DELETE FROM articles_corpusstat")

    assert titles(client, q="herons", outlet=DESK) == [in_title.title, in_body.title]
    assert titles(client, q="herons or river", outlet=DESK) == [in_body.title, in_title.title]


def test_an_excluded_word_does_not_score(client, desk):
    # Both match through `drones`; `with_excluded` also has the word excluded in the
    # other group. Scored, it would come first; unscored, the two tie and the newer wins.
    with_excluded = make_article(
        "Sightings north", ["Drones and herons were seen near the river."], outlet=desk, **dated(1)
    )
    without = make_article(
        "Sightings south", ["Drones and boats were seen near the river."], outlet=desk, **dated(2)
    )
    refresh_term_statistics()

    found = titles(client, q="tanks -herons or drones", outlet=DESK)

    assert found == [without.title, with_excluded.title]


def test_the_command_refreshes_the_statistics(desk):
    make_article("Quokkas", ["Quokkas were seen near the river."], outlet=desk)
    assert document_frequency("quokkas") is None

    call_command("refresh_search_statistics", verbosity=0)

    assert document_frequency("quokkas") == 1


@pytest.mark.django_db(transaction=True)
def test_two_refreshes_at_once_both_succeed(desk):
    # Two loads that end together: the second refresh starts while the first has
    # inserted its lexemes and not yet committed (CI caught this as a unique violation).
    make_article("Quokkas", ["Quokkas were seen near the river."], outlet=desk)
    errors: list[BaseException] = []

    def second_refresh():
        try:
            refresh_term_statistics()
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()  # this thread's own connection

    with transaction.atomic():
        refresh_term_statistics()
        other = threading.Thread(target=second_refresh)
        other.start()
        _wait_until_a_session_waits_on_a_lock()
    other.join(timeout=30)

    assert not other.is_alive() and errors == []
    assert document_frequency("quokkas") == 1
    assert corpus_size() == Article.objects.count()


def _wait_until_a_session_waits_on_a_lock(seconds: float = 10) -> None:
    """Block until another session is blocked on a lock (on the first refresh)."""
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return
            assert time.monotonic() < deadline, "the second refresh never waited"
            time.sleep(0.05)


def relevance(q: str, articles: list[Article]) -> list[float]:
    """Each of `articles`' relevance to `q`, as the postgres backend ranks it."""
    text_query = build_text_query(q)
    scored = by_relevance(Article.objects.filter(pk__in=[a.pk for a in articles]), text_query)
    score = dict(scored.annotate(score=F("rank")).values_list("pk", "score"))
    return [score[a.pk] for a in articles]


@pytest.mark.parametrize(
    ("q", "bonus_sections"),
    [("herons", (1, 1)), ("dnipro", (0, 0)), ("river", (1, 2))],
)
def test_a_plain_article_earns_what_its_one_section_would(desk, q, bonus_sections):
    # The same text as one section (ranked from the article's own vector alone) and
    # as two (ranked section by section): equal where both have as many matching
    # sections, and a bonus apart where the second has one more.
    first, second = "Herons were seen near the river.", "Boats sailed up the river at dawn."
    one = make_article("Birds of the Dnipro", [f"{first}\n\n{second}"], outlet=desk)
    two = make_article("Birds of the Dnipro", [first, second], outlet=desk)
    assert one.body == two.body
    refresh_term_statistics()

    one_score, two_score = relevance(q, [one, two])

    one_bonus, two_bonus = (SECTION_BONUS * m / (m + 3) for m in bonus_sections)
    assert two_score - one_score == pytest.approx(two_bonus - one_bonus, abs=1e-9)
    assert one_score > 0


def test_a_live_blog_scores_its_best_entry_alike_for_one_word_and_for_several(desk):
    # For one word the best entry is the one where the word counts most, found by its
    # frequency alone; with a second word, found nowhere, every entry is scored in
    # full. The heading of the second entry makes it outscore the blog's own text.
    blog = make_article(
        "Live: the Dnipro",
        ["A heron landed.", "Herons and herons: a heron colony on the bank.", "Boats sailed."],
        outlet=desk,
        kind="live",
        headings=["Morning", "A heron colony", "Evening"],
    )
    plain = make_article("Live: the Dnipro", [blog.body], outlet=desk)
    refresh_term_statistics()

    (alone,) = relevance("heron", [blog])
    (with_another,) = relevance("heron or quagga", [blog])

    assert alone == pytest.approx(with_another, abs=1e-12)
    # More than the same text as one section earns, bonus for the two matching entries aside.
    (as_one_section,) = relevance("heron", [plain])
    bonuses = SECTION_BONUS * 2 / (2 + 3) - SECTION_BONUS * 1 / (1 + 3)
    assert alone - bonuses > as_one_section


class _BodyPartMatches(Func):
    """The body part (weight C) copied out of the vector, then matched: what
    `archive_body_query` (migration 0025) tells without copying it."""

    template = "(ts_filter(%(expressions)s)"
    arg_joiner = ", '{c}') @@ "
    output_field = BooleanField()


class _BodyQueryMatches(Func):
    template = "(%(expressions)s))"
    arg_joiner = " @@ archive_body_query("
    output_field = BooleanField()


def matching(text: str, test: type[Func] | None = None) -> set[int]:
    """Ids of the articles matching `text` anywhere, or as `test` says."""
    query = build_text_query(text).search_query
    if test is None:
        articles = Article.objects.filter(search_vector=query)
    else:
        articles = Article.objects.alias(hit=test(F("search_vector"), query)).filter(hit=True)
    return set(articles.values_list("pk", flat=True))


def test_a_query_restricted_to_the_body_matches_where_the_body_part_does(desk):
    # Ranking gives an article a bonus when the query matches its body. The seed
    # archive, and two articles matching outside their bodies: a phrase running
    # from the title into the body, a word in the kicker only.
    spanning = make_article("Talks with the prime", ["Minister of energy met them."], outlet=desk)
    kicker = make_article("Birds", ["Seen at dawn."], outlet=desk, kicker="Heron watch")
    queries = [
        "Kyiv",
        "Zelensky",
        '"prime minister"',
        "negotiat*",
        "drone -Russia",
        "grain or wheat",
        "missile strike",
        "Kyiv -negotiat*",
        "heron or dawn",
    ]
    for text in queries:
        in_body = matching(text, _BodyQueryMatches)
        assert in_body == matching(text, _BodyPartMatches), text
        assert in_body <= matching(text), text
    phrase = '"prime minister"'
    assert spanning.pk in matching(phrase) - matching(phrase, _BodyQueryMatches)
    assert kicker.pk in matching("heron") - matching("heron", _BodyQueryMatches)
    assert kicker.pk in matching("heron or dawn", _BodyQueryMatches)
