"""An article left without sections keeps its `has_entries` (migration 0028) until it
has sections again. A load that updates an article's text removes all its sections,
then writes the new ones. Each statement set the flag, so a live blog's went from
true to false and back. Each change rewrote the article's row and its index entries:
about 0.37 ms an article (docs/benchmarks.md, thirty-sixth session)."""

from django.db import migrations

# As 0028's, but a statement that leaves an article no section changes nothing.
REPLACE = """
CREATE OR REPLACE FUNCTION articles_article_has_entries() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    touched bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT article_id) INTO touched FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT article_id) INTO touched FROM old_rows;
    ELSE
        SELECT array_agg(article_id) INTO touched
        FROM (SELECT article_id FROM new_rows UNION SELECT article_id FROM old_rows) AS both_rows;
    END IF;
    UPDATE articles_article AS a SET has_entries = now.has_entries
    FROM (
        SELECT t.id, (
            SELECT count(*) > 1 OR bool_or(s.heading <> '')
            FROM articles_section AS s WHERE s.article_id = t.id
        ) AS has_entries
        FROM unnest(touched) AS t(id)
    ) AS now
    WHERE a.id = now.id AND now.has_entries IS NOT NULL  -- NULL: no section left
      AND a.has_entries <> now.has_entries;
    RETURN NULL;
END
$$;
"""
# 0028's function, for going back.
RESTORE = """
CREATE OR REPLACE FUNCTION articles_article_has_entries() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    touched bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT article_id) INTO touched FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT article_id) INTO touched FROM old_rows;
    ELSE
        SELECT array_agg(article_id) INTO touched
        FROM (SELECT article_id FROM new_rows UNION SELECT article_id FROM old_rows) AS both_rows;
    END IF;
    UPDATE articles_article AS a SET has_entries = now.has_entries
    FROM (
        SELECT t.id, (
            SELECT count(*) > 1 OR coalesce(bool_or(s.heading <> ''), false)
            FROM articles_section AS s WHERE s.article_id = t.id
        ) AS has_entries
        FROM unnest(touched) AS t(id)
    ) AS now
    WHERE a.id = now.id AND a.has_entries IS DISTINCT FROM now.has_entries;
    RETURN NULL;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0028_article_has_entries"),
    ]

    operations = [migrations.RunSQL(sql=REPLACE, reverse_sql=RESTORE)]
