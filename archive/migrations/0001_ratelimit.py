"""The rate limiter's counters (archive/ratelimit.py): one row per client and
scope. UNLOGGED because counters need no crash safety and should cost no WAL."""

from django.db import migrations


class Migration(migrations.Migration):
    initial = True

    dependencies: list = []

    operations = [
        migrations.RunSQL(
            sql="""
                CREATE UNLOGGED TABLE archive_ratelimit (
                    key text NOT NULL,
                    window_start timestamptz NOT NULL,
                    hits integer NOT NULL,
                    CONSTRAINT archive_ratelimit_pkey PRIMARY KEY (key)
                )
            """,
            reverse_sql="DROP TABLE archive_ratelimit",
        ),
    ]
