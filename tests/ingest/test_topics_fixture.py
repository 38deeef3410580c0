"""fixtures/topics.json: the starting topics, each a web-search query that finds seed articles.

The queries were also checked against PostgreSQL's websearch_to_tsquery('english', ...);
here a plain-Python reading of the same syntax keeps them meaningful without a database.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOPICS = ROOT / "fixtures" / "topics.json"
SEEDS = ROOT.parent / "shared" / "seeds"

# A quoted phrase, a word, either possibly negated with a leading "-".
QUERY_TERM = re.compile(r'-?"[^"]+"|-?[^\s"]+')


def load_topics() -> list[dict]:
    return json.loads(TOPICS.read_text(encoding="utf-8"))


def seed_texts() -> dict[str, str]:
    return {path.name[:3]: path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))}


def or_groups(query: str) -> list[list[str]]:
    """websearch semantics: terms separated by `or` form one group; groups are AND-ed."""
    groups: list[list[str]] = [[]]
    pending_or = False
    for term in QUERY_TERM.findall(query):
        if term.lower() == "or":
            pending_or = True
            continue
        if groups[-1] and not pending_or:
            groups.append([])
        groups[-1].append(term)
        pending_or = False
    return groups


def term_matches(term: str, text: str) -> bool:
    # A word matches as a prefix ("missile" finds "missiles"), as English stemming would.
    words = term.strip('-"').split()
    pattern = r"\b" + r"\w*\W+".join(re.escape(w) for w in words)
    return re.search(pattern, text, re.IGNORECASE) is not None


def query_matches(query: str, text: str) -> bool:
    for group in or_groups(query):
        positive = [t for t in group if not t.startswith("-")]
        negative = [t for t in group if t.startswith("-")]
        if any(term_matches(t, text) for t in negative):
            return False
        if positive and not any(term_matches(t, text) for t in positive):
            return False
    return True


def test_it_is_a_list_of_ten_topics_with_pks_1_to_10():
    topics = load_topics()
    assert [t["pk"] for t in topics] == list(range(1, 11))
    assert {t["model"] for t in topics} == {"articles.topic"}


def test_every_topic_has_exactly_the_model_fields():
    for topic in load_topics():
        assert set(topic["fields"]) == {"name", "slug", "description", "query"}
        assert all(isinstance(v, str) and v.strip() for v in topic["fields"].values())


def test_slugs_and_names_are_unique_and_slugs_are_slugs():
    fields = [t["fields"] for t in load_topics()]
    assert len({f["slug"] for f in fields}) == len(fields)
    assert len({f["name"] for f in fields}) == len(fields)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", f["slug"]) for f in fields)


@pytest.mark.parametrize("topic", load_topics(), ids=lambda t: t["fields"]["slug"])
def test_query_uses_only_websearch_syntax(topic):
    query = topic["fields"]["query"]
    assert query.strip()
    assert not set(query) & set("()&|!*:<>"), "websearch syntax has no operators or grouping"
    assert query.count('"') % 2 == 0, "unbalanced quotes"
    assert not re.search(r"(^|\s)or(\s+or)*\s*$|^\s*or\b|\bor\s+or\b", query, re.IGNORECASE)
    assert all(term.strip('-"') for term in QUERY_TERM.findall(query))


@pytest.mark.parametrize("topic", load_topics(), ids=lambda t: t["fields"]["slug"])
def test_query_finds_at_least_one_seed_article(topic):
    texts = seed_texts()
    assert any(query_matches(topic["fields"]["query"], text) for text in texts.values())


@pytest.mark.parametrize(
    "slug, seed",
    [
        ("military-aid-and-weapons", "000"),  # Leopard 2 and Abrams tank debate
        ("mercenaries-and-foreign-fighters", "000"),  # Wagner recruiting Serbian volunteers
        ("nuclear-risk", "001"),  # Putin's nuclear threats
        ("diplomacy-and-negotiations", "003"),  # ceasefire talks
        ("cyber-and-information-war", "004"),  # cyberattack on ministry website, state TV
        ("energy", "004"),  # LNG vessel, Gazprom
        ("sanctions-and-economy", "004"),  # sanctions on Putin
        ("civilians-and-humanitarian", "000"),  # missile outside a kindergarten
        ("missile-and-drone-strikes", "003"),  # ballistic missile hits a playground
        ("battlefield", "000"),  # Bakhmut, Soledar
    ],
)
def test_topic_tags_the_seed_it_is_about(slug, seed):
    query = next(t["fields"]["query"] for t in load_topics() if t["fields"]["slug"] == slug)
    # Tagging reads a live blog entry by entry, and a word the query excludes keeps
    # the topic off only the entry that has it (000's O.S.C.E. entry says "arms
    # control"), so the query is tried on each of the seed's paragraphs.
    paragraphs = seed_texts()[seed].split("\n\n")
    assert any(query_matches(query, paragraph) for paragraph in paragraphs)


def test_narrow_topics_do_not_tag_everything():
    texts = seed_texts()
    for slug in ("mercenaries-and-foreign-fighters", "nuclear-risk", "cyber-and-information-war"):
        query = next(t["fields"]["query"] for t in load_topics() if t["fields"]["slug"] == slug)
        assert not all(query_matches(query, text) for text in texts.values()), slug


def test_the_query_reader_follows_websearch_semantics():
    assert or_groups('tank or "military aid" HIMARS -drone') == [
        ["tank", '"military aid"'],
        ["HIMARS"],
        ["-drone"],
    ]
    assert query_matches("tank or jet", "Leopard tanks arrived")
    assert not query_matches("tank -Leopard", "Leopard tanks arrived")
    assert query_matches('"front line"', "along the front  lines")
