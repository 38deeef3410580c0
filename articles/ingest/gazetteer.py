"""The domain gazetteer: names the statistical model misses or mislabels in war coverage.

Plain data plus lookups. `load_nlp()` turns the entries into EntityRuler patterns,
`enrich` resolves spellings to canonical names with `lookup()`, and search expands
query terms with `variants_of()`. No spaCy and no Django imports here.

Choices worth knowing:
- The Kremlin, the Pentagon, the White House and Downing Street are organisations,
  not places: in news prose they are metonyms for a government ("the Kremlin said",
  "a Pentagon spokesman"), and readers look for them next to NATO and the EU.
- Storm Shadow and SCALP are one entity: the same Franco-British missile under its
  British and French names.
- An unqualified "Leopard" is the Leopard 2: coverage of this war always writes out
  "Leopard 1" when it means the older tank.
- `any_case` entries also match lower-case and upper-case spellings ("kyiv", "KYIV",
  "Himars"). Only names that are never ordinary English words get it: "Patriot",
  "Javelin" or "Leopard" in lower case are not the weapons.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from functools import cache

from articles.ingest.records import ENTITY_KINDS


@dataclass(frozen=True)
class Entry:
    name: str  # canonical name, shown on the entity page
    kind: str  # one of ENTITY_KINDS
    variants: tuple[str, ...] = ()  # other spellings, matched exactly (or in any case, see below)
    any_case: bool = False  # also match "kyiv", "KYIV": only for names that are never plain words
    # People: the ruler also matches the bare surname ("Zelenskyy"). Otherwise a bare
    # surname is only resolved where the model finds it, so "Hunter Biden" stays whole.
    match_surname: bool = False


# Canonical -> spelling variants: Ukrainian vs Russian-derived transliterations and the
# house styles of English-language outlets (Zelensky / Zelenskyy / Zelenskiy).
# Every key is also a gazetteer entry below; its variants are merged into that entry.
TRANSLITERATION: dict[str, tuple[str, ...]] = {
    # places
    "Kyiv": ("Kiev", "Kyyiv", "Kiyv"),
    "Kharkiv": ("Kharkov",),
    "Zaporizhzhia": ("Zaporozhye", "Zaporizhia", "Zaporizhzhya", "Zaporozhzhia", "Zaporizhzhe"),
    "Mykolaiv": ("Nikolaev", "Nikolayev", "Mykolayiv"),
    "Luhansk": ("Lugansk",),
    "Donetsk": ("Donetske",),
    "Odesa": ("Odessa",),
    "Lviv": ("Lvov", "Lwow"),
    "Dnipro": ("Dnepr", "Dnipropetrovsk", "Dnepropetrovsk"),
    "Chernihiv": ("Chernigov",),
    "Kryvyi Rih": ("Krivoy Rog", "Kryvyy Rih", "Krivyi Rih", "Krivyy Rih", "Krivhy Rih"),
    "Sievierodonetsk": ("Severodonetsk", "Sieverodonetsk", "Syeverodonetsk"),
    "Lysychansk": ("Lisichansk",),
    "Sloviansk": ("Slovyansk", "Slavyansk"),
    "Izium": ("Izyum",),
    "Kupiansk": ("Kupyansk",),
    "Avdiivka": ("Avdeyevka", "Avdeevka", "Avdiyivka"),
    "Bakhmut": ("Artemovsk", "Artemivsk"),
    "Vuhledar": ("Ugledar",),
    "Hostomel": ("Gostomel",),
    "Chornobyl": ("Chernobyl",),
    "Donbas": ("Donbass",),
    "Marinka": ("Maryinka",),
    "Svitlodarsk": ("Svetlodarsk",),
    "Debaltseve": ("Debaltsevo",),
    # people
    "Volodymyr Zelensky": (
        "Volodymyr Zelenskyy",
        "Volodymyr Zelenskiy",
        "Volodymyr Zelenskyi",
        "Vladimir Zelensky",
        "Zelensky",
        "Zelenskyy",
        "Zelenskiy",
        "Zelenskyi",
        "Zelenski",
    ),
    "Dmytro Kuleba": ("Dmitry Kuleba", "Dmitro Kuleba", "Kuleba"),
    "Andriy Yermak": ("Andrii Yermak", "Andrei Yermak", "Yermak"),
    "Denys Shmyhal": ("Denys Shmygal", "Denis Shmygal", "Shmyhal", "Shmygal"),
    "Oleksii Reznikov": ("Oleksiy Reznikov", "Alexei Reznikov", "Reznikov"),
    "Rustem Umerov": ("Umerov",),
    "Valery Zaluzhny": (
        "Valerii Zaluzhnyi",
        "Valeriy Zaluzhnyi",
        "Valery Zaluzhnyi",
        "Zaluzhny",
        "Zaluzhnyi",
    ),
    "Oleksandr Syrsky": ("Oleksandr Syrskyi", "Alexander Syrsky", "Syrsky", "Syrskyi"),
    "Kyrylo Budanov": ("Kirill Budanov", "Budanov"),
    "Vitali Klitschko": ("Vitaliy Klitschko", "Vitali Klychko"),
    "Vladimir Putin": ("Vladimir Vladimirovich Putin", "Putin"),
    "Dmitry Peskov": ("Dmitri Peskov", "Dmitriy Peskov", "Peskov"),
    "Sergei Lavrov": ("Sergey Lavrov", "Lavrov"),
    "Sergei Shoigu": ("Sergey Shoigu", "Shoigu"),
    "Sergei Ryabkov": ("Sergey Ryabkov", "Ryabkov"),
    "Yevgeny Prigozhin": ("Evgeny Prigozhin", "Yevgeniy Prigozhin", "Prigozhin"),
    "Valery Gerasimov": ("Valeriy Gerasimov", "Valeri Gerasimov", "Gerasimov"),
    "Sergei Surovikin": ("Sergey Surovikin", "Surovikin"),
    "Dmitry Medvedev": ("Dmitri Medvedev", "Medvedev"),
    "Maria Zakharova": ("Mariya Zakharova", "Zakharova"),
    "Alexander Lukashenko": (
        "Aleksandr Lukashenko",
        "Alyaksandr Lukashenka",
        "Lukashenko",
        "Lukashenka",
    ),
    "Alexei Navalny": ("Aleksei Navalny", "Alexey Navalny", "Navalny"),
    # The composer whose music concert halls drop or keep: the model takes him for a place.
    "Pyotr Tchaikovsky": (
        "Pyotr Ilyich Tchaikovsky",
        "Peter Tchaikovsky",
        "Tchaikovsky",
        "Chaikovsky",
    ),
}

WEAPONS: tuple[Entry, ...] = (
    Entry(
        "Leopard 2",
        "weapon",
        ("Leopard", "Leopard II", "Leopard 2A4", "Leopard 2A5", "Leopard 2A6", "Leopard 2A7"),
    ),
    Entry("Leopard 1", "weapon", ("Leopard 1A5", "Leopard I")),
    Entry(
        "M1 Abrams",
        "weapon",
        ("Abrams", "M1A1 Abrams", "M1A2 Abrams", "M1A1", "M1A2", "M-1 Abrams"),
    ),
    Entry("Challenger 2", "weapon", ("Challenger II",)),
    Entry("HIMARS", "weapon", ("M142 HIMARS", "M142"), any_case=True),
    Entry("ATACMS", "weapon", ("MGM-140 ATACMS",), any_case=True),
    Entry("Storm Shadow", "weapon", ("SCALP", "SCALP-EG", "Scalp", "Storm Shadow/SCALP")),
    Entry("Patriot", "weapon", ("MIM-104 Patriot", "PAC-3", "Patriot PAC-3")),
    Entry("IRIS-T", "weapon", ("IRIS-T SLM", "Iris-T SLM"), any_case=True),
    Entry("NASAMS", "weapon", (), any_case=True),
    Entry("Javelin", "weapon", ("FGM-148 Javelin",)),
    Entry("NLAW", "weapon", (), any_case=True),
    Entry("Stinger", "weapon", ("FIM-92 Stinger",)),
    Entry("Stryker", "weapon", ("M1126 Stryker",)),
    Entry("Bradley", "weapon", ("M2 Bradley", "M2A2 Bradley", "Bradley Fighting Vehicle")),
    Entry("Marder", "weapon", ("Marder 1A3",)),
    Entry("CV90", "weapon", ("CV-90",), any_case=True),
    Entry("Gepard", "weapon", ("Flakpanzer Gepard",)),
    Entry("Caesar", "weapon", ("CAESAR",)),
    Entry("M777", "weapon", ("M-777",), any_case=True),
    Entry("Harpoon", "weapon", ("RGM-84 Harpoon",)),
    Entry("Neptune", "weapon", ("R-360 Neptune", "R-360")),
    Entry("Brimstone", "weapon", ()),
    Entry("Taurus", "weapon", ("Taurus KEPD 350", "KEPD 350")),
    Entry("Switchblade", "weapon", ()),
    Entry("Phoenix Ghost", "weapon", ()),
    Entry("F-16", "weapon", ("F16", "F-16 Fighting Falcon"), any_case=True),
    Entry("MiG-29", "weapon", ("MiG 29", "Mig-29"), any_case=True),
    Entry("Bayraktar TB2", "weapon", ("Bayraktar", "TB2", "Bayraktar TB-2"), any_case=True),
    Entry("Shahed", "weapon", ("Shahed-136", "Shahed 136", "Shahed-131", "Geran-2"), any_case=True),
    Entry("Iskander", "weapon", ("Iskander-M", "Iskander-K"), any_case=True),
    Entry("Kinzhal", "weapon", ("Kh-47M2 Kinzhal", "Kh-47M2"), any_case=True),
    Entry("Kalibr", "weapon", ("3M-54 Kalibr",), any_case=True),
    Entry("Oreshnik", "weapon", (), any_case=True),
    Entry("Sarmat", "weapon", ("RS-28 Sarmat",), any_case=True),
    Entry("Zircon", "weapon", ("Tsirkon", "3M22 Zircon")),
    Entry("Grad", "weapon", ("BM-21 Grad", "BM-21")),
    Entry("S-300", "weapon", (), any_case=True),
    Entry("S-400", "weapon", (), any_case=True),
    Entry(
        "MRAP",
        "weapon",
        (
            "MRAPs",
            "Mine-Resistant Ambush-Protected Vehicles",
            "Mine-Resistant Ambush-Protected vehicles",
            "Mine-Resistant Ambush Protected Vehicles",
            "Mine Resistant Ambush Protected Vehicles",
        ),
    ),
)

GROUPS: tuple[Entry, ...] = (
    Entry(
        "Wagner Group",
        "group",
        ("Wagner", "Wagner group", "PMC Wagner", "Wagner PMC", "Wagner private military company"),
    ),
    Entry(
        "Azov Regiment",
        "group",
        ("Azov", "Azov regiment", "Azov Battalion", "Azov battalion", "Azov Brigade"),
    ),
    Entry("Kadyrovites", "group", ("Kadyrovtsy", "Kadyrovtsi"), any_case=True),
    Entry("Russian Volunteer Corps", "group", ("RDK",)),
    Entry("Freedom of Russia Legion", "group", ("Legion of Free Russia",)),
    Entry(
        "International Legion",
        "group",
        ("International Legion of Territorial Defense of Ukraine", "Foreign Legion of Ukraine"),
    ),
    Entry("Storm-Z", "group", ("Storm Z",)),
    Entry("Africa Corps", "group", ()),
)

ORGANISATIONS: tuple[Entry, ...] = (
    Entry(
        "NATO", "organisation", ("N.A.T.O.", "North Atlantic Treaty Organization"), any_case=True
    ),
    Entry("Pentagon", "organisation", ()),
    Entry("Kremlin", "organisation", (), any_case=True),
    Entry("White House", "organisation", ()),
    Entry("Downing Street", "organisation", ()),
    Entry(
        "State Department",
        "organisation",
        ("U.S. State Department", "US State Department", "Department of State"),
    ),
    Entry("European Union", "organisation", ("EU", "E.U.")),
    Entry("United Nations", "organisation", ("UN", "U.N.")),
    Entry(
        "UN Security Council",
        "organisation",
        ("U.N. Security Council", "United Nations Security Council"),
    ),
    Entry("UN General Assembly", "organisation", ("U.N. General Assembly",)),
    Entry("IAEA", "organisation", ("I.A.E.A.", "International Atomic Energy Agency")),
    Entry(
        "OSCE",
        "organisation",
        (
            "O.S.C.E.",
            "Organization for Security and Co-operation in Europe",
            "Organization for Security and Cooperation in Europe",
            "Organisation for Security and Co-operation in Europe",
            "Organisation of Security and Cooperation in Europe",
        ),
    ),
    Entry("CIA", "organisation", ("C.I.A.", "Central Intelligence Agency")),
    Entry("FSB", "organisation", ("F.S.B.", "Federal Security Service")),
    Entry("SBU", "organisation", ("Security Service of Ukraine",)),
    Entry("International Criminal Court", "organisation", ("ICC",)),
    Entry(
        "Red Cross",
        "organisation",
        ("ICRC", "International Committee of the Red Cross", "Red Crescent"),
    ),
    Entry("G7", "organisation", ("Group of Seven", "G-7")),
    Entry("IMF", "organisation", ("International Monetary Fund",)),
    Entry("World Bank", "organisation", ()),
    Entry("State Duma", "organisation", ("Duma",)),
    Entry("Verkhovna Rada", "organisation", ("Rada",)),
    # Platforms: the model takes "on Twitter" for a person.
    Entry("Twitter", "organisation", ()),
    Entry("Telegram", "organisation", ()),
    Entry("Facebook", "organisation", ()),
    Entry("YouTube", "organisation", ("Youtube",)),
    Entry("TikTok", "organisation", ("Tiktok",)),
    Entry("VKontakte", "organisation", ()),
    Entry("Gazprom", "organisation", (), any_case=True),
    Entry("Naftogaz", "organisation", (), any_case=True),
    Entry("Rosatom", "organisation", (), any_case=True),
    Entry("Energoatom", "organisation", (), any_case=True),
    Entry("Ukrenergo", "organisation", (), any_case=True),
    Entry(
        "Ukraine Defense Contact Group",
        "organisation",
        (
            "Ukraine Defence Contact Group",
            "Ukraine defence contact group",
            "Ukraine defense contact group",
            "Ramstein group",
            "Ramstein format",
        ),
    ),
)

# Places default to any_case: Ukrainian and Russian place names are never English words.
PLACES: tuple[Entry, ...] = tuple(
    Entry(name, "place", variants, any_case=True)
    for name, variants in (
        ("Kyiv", ()),
        ("Kharkiv", ()),
        ("Zaporizhzhia", ()),
        ("Mykolaiv", ()),
        ("Luhansk", ()),
        ("Donetsk", ()),
        ("Odesa", ()),
        ("Lviv", ()),
        ("Dnipro", ()),
        ("Chernihiv", ()),
        ("Sumy", ()),
        ("Poltava", ()),
        ("Kherson", ()),
        ("Kryvyi Rih", ()),
        ("Bakhmut", ()),
        ("Soledar", ()),
        ("Avdiivka", ("Avdiika",)),
        ("Mariupol", ()),
        ("Melitopol", ()),
        ("Berdiansk", ("Berdyansk",)),
        ("Enerhodar", ("Energodar",)),
        ("Nova Kakhovka", ("Kakhovka",)),
        ("Kakhovka dam", ("Kakhovka Dam", "Nova Kakhovka dam")),
        ("Kramatorsk", ()),
        ("Sloviansk", ()),
        ("Sievierodonetsk", ()),
        ("Lysychansk", ()),
        ("Izium", ()),
        ("Kupiansk", ()),
        ("Lyman", ()),
        ("Vuhledar", ()),
        ("Pokrovsk", ()),
        ("Toretsk", ()),
        ("Chasiv Yar", ()),
        ("Klishchiivka", ()),
        ("Marinka", ()),
        ("Krasnohorivka", ()),
        ("Svitlodarsk", ()),
        ("Debaltseve", ()),
        ("Irpin", ()),
        ("Bucha", ()),
        ("Hostomel", ()),
        ("Borodianka", ()),
        ("Chornobyl", ()),
        ("Robotyne", ("Robotyno",)),
        ("Kursk", ()),
        ("Belgorod", ()),
        ("Bryansk", ()),
        ("Rostov-on-Don", ("Rostov",)),
        ("Krasnodar", ()),
        ("Crimea", ("Crimean Peninsula",)),
        ("Sevastopol", ()),
        ("Kerch Bridge", ("Crimean Bridge", "Kerch Strait Bridge")),
        ("Sea of Azov", ("Azov Sea",)),
        ("Black Sea", ()),
        ("Snake Island", ("Zmiinyi Island",)),
        ("Azovstal", ("Azovstal steel plant", "Azovstal steelworks", "Azovstal plant")),
        ("Donbas", ()),
        ("Transnistria", ("Transdniestria",)),
        ("Kaliningrad", ()),
        ("Donetsk People's Republic", ("DPR", "DNR")),
        ("Luhansk People's Republic", ("LPR", "LNR")),
        (
            "Zaporizhzhia nuclear power plant",
            (
                "Zaporizhzhia Nuclear Power Plant",
                "Zaporizhzhia nuclear plant",
                "Zaporizhzhia NPP",
                "Zaporizhia nuclear power plant",
                "Zaporizhia nuclear plant",
                "Zaporozhye nuclear power plant",
                "Zaporozhye nuclear plant",
                "ZNPP",
            ),
        ),
        ("Ramstein Air Base", ("Ramstein", "Ramstein air base", "Ramstein Airbase")),
        ("Hostomel Airport", ("Antonov Airport",)),
        ("Boryspil Airport", ("Boryspil International Airport",)),
    )
) + (
    # Country names that outlets spell several ways; the model finds them but not as one entity.
    # "America" is left out: it would also match inside "Latin America" and "North America".
    Entry("United States", "place", ("U.S.", "US", "USA", "U.S.A.", "United States of America")),
    Entry("United Kingdom", "place", ("UK", "U.K.", "Britain", "Great Britain")),
    Entry("Russia", "place", ("Russian Federation",)),
    Entry("Ukraine", "place", ()),
    Entry("Belarus", "place", ("Byelorussia",)),
    Entry("Czech Republic", "place", ("Czechia",)),
    Entry("Turkey", "place", ("Türkiye", "Turkiye")),
    Entry("North Korea", "place", ("DPRK",)),
)

# People match case-sensitively: "trump" and "duda" are words too.
# Ukrainian and Russian names, variants from TRANSLITERATION. The ruler matches their bare
# surnames: spelling variety makes the model miss "Zelenskyy", and these surnames are
# gendered (Olena Zelenska, Yulia Navalnaya), so relatives rarely share the exact form.
TRANSLITERATED_PERSONS: tuple[Entry, ...] = tuple(
    Entry(name, "person", match_surname=True)
    for name in (
        "Volodymyr Zelensky",
        "Dmytro Kuleba",
        "Andriy Yermak",
        "Denys Shmyhal",
        "Oleksii Reznikov",
        "Rustem Umerov",
        "Valery Zaluzhny",
        "Oleksandr Syrsky",
        "Kyrylo Budanov",
        "Vitali Klitschko",
        "Vladimir Putin",
        "Dmitry Peskov",
        "Sergei Lavrov",
        "Sergei Shoigu",
        "Sergei Ryabkov",
        "Yevgeny Prigozhin",
        "Valery Gerasimov",
        "Sergei Surovikin",
        "Dmitry Medvedev",
        "Maria Zakharova",
        "Alexander Lukashenko",
        "Alexei Navalny",
        "Pyotr Tchaikovsky",
    )
)

# Other people with distinctive surnames; a bare "Biden" is resolved where the model finds
# it. Never "Austin", "Johnson", "Sullivan": those resolve from the full name used in the
# same article.
PERSONS: tuple[Entry, ...] = TRANSLITERATED_PERSONS + tuple(
    Entry(name, "person", variants)
    for name, variants in (
        ("Joe Biden", ("Biden", "Joseph Biden", "Joseph R. Biden", "Joseph R. Biden Jr.")),
        ("Donald Trump", ("Trump", "Donald J. Trump")),
        ("Antony Blinken", ("Blinken", "Anthony Blinken")),
        ("Olaf Scholz", ("Scholz",)),
        ("Boris Pistorius", ("Pistorius",)),
        ("Emmanuel Macron", ("Macron",)),
        ("Jens Stoltenberg", ("Stoltenberg",)),
        ("Mark Rutte", ("Rutte",)),
        ("Ursula von der Leyen", ("von der Leyen", "Von der Leyen")),
        ("Josep Borrell", ("Borrell",)),
        ("Rafael Grossi", ("Grossi", "Rafael Mariano Grossi")),
        ("Antonio Guterres", ("Guterres", "António Guterres")),
        ("Recep Tayyip Erdogan", ("Erdogan", "Erdoğan")),
        ("Viktor Orban", ("Orban", "Orbán")),
        ("Aleksandar Vucic", ("Vucic", "Vučić")),
        ("Andrzej Duda", ("Duda",)),
        ("Kaja Kallas", ("Kallas",)),
        ("Rishi Sunak", ("Sunak",)),
        ("Keir Starmer", ("Starmer",)),
        ("Mark Milley", ("Milley",)),
        ("Pete Hegseth", ("Hegseth",)),
        ("Steve Witkoff", ("Witkoff",)),
        ("Xi Jinping", ()),
        # His father Akhmat and son Adam are in the news too: no bare "Kadyrov".
        ("Ramzan Kadyrov", ()),
    )
)

EVENTS: tuple[Entry, ...] = (
    Entry("World War II", "event", ("Second World War", "WWII", "World War Two", "WW2")),
    Entry("World War I", "event", ("First World War", "WWI", "World War One")),
    Entry("Minsk agreements", "event", ("Minsk accords", "Minsk II", "Minsk Agreements")),
    Entry("Normandy Format", "event", ("Normandy format", "Normandy Four")),
    Entry("Euromaidan", "event", ("Maidan", "Revolution of Dignity", "Maidan revolution")),
)

GAZETTEER: tuple[Entry, ...] = WEAPONS + GROUPS + ORGANISATIONS + PLACES + PERSONS + EVENTS


def spelling_key(text: str) -> str:
    """The form two spellings share when they differ only in case, accents, apostrophe or
    spacing: "Vučić" and "VUCIC", "People’s" and "People's"."""
    text = text.replace("\u2019", "'")
    if text.isascii():  # most names: the same key, without decomposing them
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


@cache
def entries() -> tuple[Entry, ...]:
    """Gazetteer entries with their transliteration variants merged in."""
    return tuple(_with_transliterations(entry) for entry in GAZETTEER)


def _with_transliterations(entry: Entry) -> Entry:
    extra = tuple(v for v in TRANSLITERATION.get(entry.name, ()) if v not in entry.variants)
    if not extra:
        return entry
    return replace(entry, variants=entry.variants + extra)


def spellings(entry: Entry) -> tuple[str, ...]:
    """The declared spellings of an entry, canonical name first, without duplicates."""
    return tuple(dict.fromkeys((entry.name, *entry.variants)))


def matched_forms(entry: Entry) -> tuple[str, ...]:
    """Every form the ruler should match: declared spellings, plurals, both apostrophes."""
    forms: list[str] = []
    for spelling in spellings(entry):
        forms.append(spelling)
        if entry.kind == "weapon" and _takes_plural_s(spelling):
            forms.append(spelling + "s")  # "Leopards", "F-16s", "Shaheds"
    forms += [f.replace("'", "\u2019") for f in forms if "'" in f]
    return tuple(dict.fromkeys(forms))


def _takes_plural_s(spelling: str) -> bool:
    # "HIMARS", "ATACMS" and "Abrams" are the same word in the plural.
    return not spelling.endswith(("s", "S"))


@cache
def _index() -> dict[str, Entry]:
    index: dict[str, Entry] = {}
    for entry in entries():
        for form in matched_forms(entry):
            index.setdefault(spelling_key(form), entry)
    return index


def lookup(text: str) -> Entry | None:
    """The entry a spelling belongs to ("kiev" -> Kyiv), or None. Case-insensitive."""
    return _index().get(spelling_key(text))


def variants_of(term: str) -> set[str]:
    """All known spellings of a term, the term itself included. Case-insensitive.

    Search uses it to expand a query: "Kiev" -> {"Kiev", "Kyiv", "Kyyiv", "Kiyv"}.
    A term the gazetteer does not know comes back alone.
    """
    entry = lookup(term)
    if entry is None:
        return {term}
    return {term, *spellings(entry)}


def check_gazetteer() -> None:
    """Raise ValueError when the data is inconsistent (run by the tests)."""
    owners: dict[str, str] = {}
    for entry in entries():
        if entry.kind not in ENTITY_KINDS:
            raise ValueError(f"{entry.name}: unknown kind {entry.kind!r}")
        for form in matched_forms(entry):
            owner = owners.setdefault(spelling_key(form), entry.name)
            if owner != entry.name:
                raise ValueError(f"spelling {form!r} belongs to both {owner} and {entry.name}")
    names = {entry.name for entry in GAZETTEER}
    missing = sorted(set(TRANSLITERATION) - names)
    if missing:
        raise ValueError(f"TRANSLITERATION keys without a gazetteer entry: {missing}")
