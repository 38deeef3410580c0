"""The shared cache (settings.CACHES, articles/cache.py): Django's database cache
table, as `createcachetable` would make it, but UNLOGGED: cached pages need no
crash safety and should cost no WAL. One cache for every gunicorn worker and web
server, so a search computed by one is served by all."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("archive", "0001_ratelimit")]

    operations = [
        migrations.RunSQL(
            sql="""
                CREATE UNLOGGED TABLE archive_cache (
                    cache_key varchar(255) NOT NULL,
                    value text NOT NULL,
                    expires timestamptz NOT NULL,
                    CONSTRAINT archive_cache_pkey PRIMARY KEY (cache_key)
                );
                CREATE INDEX archive_cache_expires ON archive_cache (expires);
            """,
            reverse_sql="DROP TABLE archive_cache",
        ),
    ]
