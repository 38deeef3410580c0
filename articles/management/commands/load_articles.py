"""`manage.py load_articles PATH...`: load articles from files and directories."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime

from articles import cache, overview
from articles.entities import recheck_entities
from articles.ingest.formats import FORMATS, ColumnMap
from articles.ingest.loader import Loader, LoadOptions, LoadReport
from articles.ingest.lock import load_lock


class Command(BaseCommand):
    help = (
        "Load articles from text, HTML, CSV, JSON/JSONL and WARC files or directories. "
        "Reloading the same inputs changes nothing. Exits 1 if any input failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path, help="Files or directories (recursive).")
        parser.add_argument("--outlet", default="", help="Outlet name for inputs that do not say.")
        parser.add_argument(
            "--published", default="", help="Publication date (YYYY-MM-DD or ISO datetime)."
        )
        parser.add_argument("--format", default="auto", choices=["auto", *FORMATS])
        parser.add_argument(
            "--dry-run", action="store_true", help="Parse and report; save nothing."
        )
        parser.add_argument(
            "--bulk",
            action="store_true",
            help="For large imports: parallel parsing, cached NER, COPY in batches. "
            "Same result as without it.",
        )
        parser.add_argument(
            "--ner-cache",
            type=Path,
            help="With --bulk: an SQLite file keeping entity spans per text between loads.",
        )
        for column in ColumnMap.__dataclass_fields__:
            parser.add_argument(
                f"--{column}-column",
                dest=f"{column}_column",
                default="",
                help=f"CSV/JSON column or key holding the {column}.",
            )

    def handle(self, *args, **options):
        progress = self._progress_bar(options)
        if options["bulk"]:
            from articles.ingest.bulk import BulkLoader

            loader = BulkLoader(
                self._load_options(options),
                progress=progress,
                ner_cache=options["ner_cache"],
                on_wait=self.stderr.write,
            )
        else:
            loader = Loader(
                self._load_options(options), progress=progress, on_wait=self.stderr.write
            )
        report = loader.load(options["paths"])
        if self._bar is not None:
            self._bar.close()
        rechecked = None
        if not options["dry_run"]:
            # What earlier loads made, checked with the rules and stop-lists in force now.
            # It merges and drops entities, which a load running meanwhile may be naming.
            with load_lock(alone=True, on_wait=self.stderr.write):
                rechecked = recheck_entities()
            cache.changed()
            overview.refresh()  # the home page's figures, so that no reader waits for them
        if options["verbosity"] >= 1:
            self._print_summary(report, options["dry_run"])
            if rechecked is not None:
                self.stdout.write(f"  entities checked:  {rechecked}")
        for failure in report.failures:  # even when quiet: each names the file and why
            self.stderr.write(f"FAILED {failure}")
        if report.failures:
            sys.exit(1)

    def _load_options(self, options) -> LoadOptions:
        columns = {
            name: options[f"{name}_column"]
            for name in ColumnMap.__dataclass_fields__
            if options[f"{name}_column"]
        }
        return LoadOptions(
            format=options["format"],
            outlet=options["outlet"],
            published_at=_parse_published(options["published"]),
            dry_run=options["dry_run"],
            max_bytes=settings.INGEST_MAX_BYTES,
            columns=ColumnMap(**columns) if columns else None,
        )

    def _progress_bar(self, options):
        self._bar = None
        if not sys.stderr.isatty() or options["verbosity"] < 1:
            return None
        from tqdm import tqdm

        self._bar = tqdm(unit="file", desc="Loading", file=sys.stderr)
        return lambda path: self._bar.update(1)

    def _print_summary(self, report: LoadReport, dry_run: bool) -> None:
        heading = "Dry run: nothing was saved." if dry_run else "Loaded."
        lines = [
            heading,
            f"  files read:        {report.files}",
            f"  articles created:  {report.created}",
            f"  articles updated:  {report.updated}",
            f"  unchanged:         {report.unchanged}",
            f"  sections:          {report.sections}",
            f"  entity mentions:   {report.mentions}"
            + (
                ""
                if dry_run
                else f" ({report.entities_after - report.entities_before} new entities)"
            ),
            f"  topic tags:        {report.topics}",
            f"  topics re-tagged:  {', '.join(report.retagged) or 'none'}",
            f"  failures:          {len(report.failures)}",
            f"  elapsed:           {report.elapsed:.1f} s ({report.rate:.1f} articles/s)",
        ]
        self.stdout.write("\n".join(lines))


def _parse_published(value: str) -> datetime | None:
    if not value:
        return None
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"--published {value!r}: use YYYY-MM-DD or an ISO datetime")
        moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment
