"""The ingest pipeline: plain functions from raw bytes to ArticleRecords.

read bytes -> decode -> extract (per format) -> clean -> split -> identify ->
enrich -> save. Every stage but ``save`` (articles/ingest/save.py) works on
the plain dataclasses in ``records.py`` and never touches the ORM.
"""
