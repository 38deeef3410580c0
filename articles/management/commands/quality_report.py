"""`manage.py quality_report`: what curators should fix in entities and outlets.

The same lists as the staff-only admin page /admin/quality/ (articles/quality.py),
each finding with the admin address that fixes it."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from articles.quality import quality_report


class Command(BaseCommand):
    help = (
        "List entity kind conflicts, probable duplicate entities, one-off multi-word "
        "entities and outlets without a canonical name, with admin links to fix them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            default="",
            help="Prefix for the admin links, e.g. https://archive.example.org",
        )

    def handle(self, *args, base_url: str, **options):
        for section in quality_report():
            self.stdout.write(
                self.style.MIGRATE_HEADING(f"{section.title} ({len(section.findings)})")
            )
            for finding in section.findings:
                self.stdout.write(f"  {finding.subject}: {finding.detail}")
                self.stdout.write(f"    fix: {base_url.rstrip('/')}{finding.fix_url}")
            self.stdout.write("")
