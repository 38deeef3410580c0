"""Story signatures were made again here when shingles began to be hashed with
CRC-32. Migration 0018 now makes every article's band keys again in their own table,
so this one has nothing left to do: its index was dropped and rebuilt unchanged."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0016_story_bands_gin_without_fastupdate"),
    ]

    operations = []
