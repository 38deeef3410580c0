"""The starting topic taxonomy (fixtures/topics.json), created once.

Topics are created only where their slug is missing, so a curator's edits to a
topic's name or query are never overwritten, and deleting one is respected by
later migrations of a fresh clone only.
"""

import json
from pathlib import Path

from django.db import migrations

TOPICS_FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "topics.json"


def create_topics(apps, schema_editor):
    Topic = apps.get_model("articles", "Topic")
    for record in json.loads(TOPICS_FIXTURE.read_text(encoding="utf-8")):
        fields = record["fields"]
        Topic.objects.get_or_create(
            slug=fields["slug"],
            defaults={
                "name": fields["name"],
                "description": fields.get("description", ""),
                "query": fields["query"],
            },
        )


class Migration(migrations.Migration):
    dependencies = [("articles", "0003_curators_group")]

    operations = [migrations.RunPython(create_topics, migrations.RunPython.noop)]
