"""Story signatures made again: shingles are now hashed with CRC-32 before MinHash
(articles/stories.py), so a signature stored before would share no band with a new
one. The GIN index is rebuilt once afterwards rather than updated row by row."""

import django.contrib.postgres.indexes
from django.db import migrations


def sign_again(apps, schema_editor):
    from articles.stories import sign_again

    sign_again()
    # The rows' foreign-key checks are deferred to the commit; the index cannot be
    # built while they are pending.
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0016_story_bands_gin_without_fastupdate"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="storysignature", name="articles_storysig_bands_gin"),
        # Irreversible in substance: the code before this version makes the old
        # signatures, and a reverse run keeps the new ones.
        migrations.RunPython(sign_again, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="storysignature",
            index=django.contrib.postgres.indexes.GinIndex(
                fastupdate=False, fields=["bands"], name="articles_storysig_bands_gin"
            ),
        ),
    ]
