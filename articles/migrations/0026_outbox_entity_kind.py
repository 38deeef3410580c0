"""An entity filed under another kind sends its articles to the search outbox
(migration 0012): the tantivy index counts each kind of entity apart, so a curator's
new kind for an entity (a place taken for an organisation) must reach the facets, as
an entity merge does through its mentions. Only a change of kind: names, slugs and
aliases are not in the index."""

from django.db import migrations

CREATE = """
CREATE FUNCTION articles_outbox_entity_kind() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO articles_searchoutbox (article_id)
    SELECT DISTINCT m.article_id
    FROM new_rows n
    JOIN old_rows o ON o.id = n.id
    JOIN articles_mention m ON m.entity_id = n.id
    WHERE n.kind IS DISTINCT FROM o.kind;
    RETURN NULL;
END
$$;
CREATE TRIGGER articles_entity_outbox_update AFTER UPDATE ON articles_entity
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION articles_outbox_entity_kind();
"""
DROP = """
DROP TRIGGER articles_entity_outbox_update ON articles_entity;
DROP FUNCTION articles_outbox_entity_kind();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0025_body_query"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
