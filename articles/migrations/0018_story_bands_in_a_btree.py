"""Story band keys move from one bigint[] per article under a GIN index to one row
per key under a B-tree (articles/stories.py): a load's candidate lookup becomes one
index scan for the whole batch. Every article's keys are made again from its text,
which also replaces any kept from before migration 0017's change of hashing."""

import django.db.models.deletion
from django.db import migrations, models


def sign_again(apps, schema_editor):
    from articles.stories import sign_again

    sign_again()


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0017_story_signatures_of_hashed_shingles"),
    ]

    operations = [
        migrations.CreateModel(
            name="StoryBand",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "article",
                        "band",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("band", models.BigIntegerField(db_index=True)),
                (
                    "article",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="story_bands",
                        to="articles.article",
                    ),
                ),
            ],
        ),
        # Irreversible in substance: a reverse run leaves the old table empty.
        migrations.RunPython(sign_again, migrations.RunPython.noop),
        migrations.DeleteModel(name="StorySignature"),
    ]
