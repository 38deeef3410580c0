"""Keep an article's search vector in its own row.

PostgreSQL moves a row's largest values out to the TOAST table once the row passes
about 2 kB, and an article's vector alone is about that size, so matching and
ranking fetched most vectors chunk by chunk through the TOAST index. With the
vector's storage MAIN the body is moved out first, and the vector only when the
row would still outgrow a page. VACUUM FULL rewrites the rows already stored (it
cannot run inside a transaction, hence a non-atomic migration); the plain VACUUM
after it marks the new pages all-visible again, which index-only scans rely on.
docs/benchmarks.md has the figures."""

from django.db import migrations

# One statement each: several in one string would run as one transaction block.
KEEP_INLINE = [
    "ALTER TABLE articles_article ALTER COLUMN search_vector SET STORAGE MAIN",
    "VACUUM FULL articles_article",
    "VACUUM (ANALYZE) articles_article",
]
TOAST_AGAIN = [
    "ALTER TABLE articles_article ALTER COLUMN search_vector SET STORAGE EXTENDED",
    "VACUUM FULL articles_article",
    "VACUUM (ANALYZE) articles_article",
]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("articles", "0023_newest_index_holds_visibility"),
    ]

    operations = [migrations.RunSQL(KEEP_INLINE, TOAST_AGAIN)]
