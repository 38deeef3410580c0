"""Whether an article has entries of its own (more than one section, or a headed one),
kept by the database: a trigger on the sections sets it for the articles whose
sections a statement wrote, changed or removed, whoever ran it (a load, the admin, a
shell). The ranking reads it for every match it scores instead of counting the
article's sections (articles/ranking.py; docs/benchmarks.md, thirty-sixth session).

The articles that have entries are marked once here. The search outbox is not told
(its trigger on the articles is off meanwhile): the search index does not hold this."""

from django.db import migrations, models

# The articles a statement touched, and whether each has entries now: updated only
# where that changed (the loaders write it as it will be, so a load updates nothing).
CREATE = """
CREATE FUNCTION articles_article_has_entries() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER articles_section_entries_insert AFTER INSERT ON articles_section
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION articles_article_has_entries();
CREATE TRIGGER articles_section_entries_update AFTER UPDATE ON articles_section
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION articles_article_has_entries();
CREATE TRIGGER articles_section_entries_delete AFTER DELETE ON articles_section
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION articles_article_has_entries();
"""
DROP = """
DROP TRIGGER articles_section_entries_insert ON articles_section;
DROP TRIGGER articles_section_entries_update ON articles_section;
DROP TRIGGER articles_section_entries_delete ON articles_section;
DROP FUNCTION articles_article_has_entries();
"""
MARK = """
ALTER TABLE articles_article DISABLE TRIGGER articles_article_outbox_update;
UPDATE articles_article AS a SET has_entries = true
FROM (
    SELECT article_id FROM articles_section
    GROUP BY article_id HAVING count(*) > 1 OR bool_or(heading <> '')
) AS entries
WHERE a.id = entries.article_id;
ALTER TABLE articles_article ENABLE TRIGGER articles_article_outbox_update;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0027_entity_surname"),
    ]

    operations = [
        migrations.AddField(
            model_name="article",
            name="has_entries",
            field=models.BooleanField(db_default=False, default=False, editable=False),
        ),
        migrations.RunSQL(sql=CREATE, reverse_sql=DROP),
        migrations.RunSQL(sql=MARK, reverse_sql=migrations.RunSQL.noop),
    ]
