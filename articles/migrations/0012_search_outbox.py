"""The search outbox (articles/search/outbox.py): triggers on the article, section,
topic and mention tables put the ids of changed articles in it, in the same
transaction as the change, so that an external search index can follow the database
whatever changed it (a load, the admin, an entity merge, a shell)."""

import django.db.models.functions.datetime
from django.db import migrations, models

# One row per changed article per statement (statement-level triggers read the
# changed rows as transition tables: a batch insert costs one insert here).
_FUNCTION = """
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO articles_searchoutbox (article_id) SELECT DISTINCT {column} FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO articles_searchoutbox (article_id) SELECT DISTINCT {column} FROM old_rows;
    ELSE
        INSERT INTO articles_searchoutbox (article_id)
        SELECT {column} FROM new_rows UNION SELECT {column} FROM old_rows;
    END IF;
    RETURN NULL;
END
$$;
"""

_TRIGGERS = """
CREATE TRIGGER {table}_outbox_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER {table}_outbox_update AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER {table}_outbox_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}();
"""

_TABLES = {
    "articles_article": "articles_outbox_article",
    "articles_section": "articles_outbox_part",
    "articles_articletopic": "articles_outbox_part",
    "articles_mention": "articles_outbox_part",
}

TRIGGERS = (
    _FUNCTION.format(name="articles_outbox_article", column="id")
    + _FUNCTION.format(name="articles_outbox_part", column="article_id")
    + "".join(_TRIGGERS.format(table=t, function=f) for t, f in _TABLES.items())
)

DROP_TRIGGERS = (
    "".join(
        f"DROP TRIGGER {table}_outbox_{event} ON {table};"
        for table in _TABLES
        for event in ("insert", "update", "delete")
    )
    + "DROP FUNCTION articles_outbox_article(); DROP FUNCTION articles_outbox_part();"
)


def let_curators_see_the_outbox(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("articles")
    app_config.models_module = True  # permissions are made after migrations otherwise
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view = Permission.objects.get(content_type__app_label="articles", codename="view_searchoutbox")
    for group in Group.objects.filter(name="curators"):
        group.permissions.add(view)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0011_topic_tags_made_with"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchOutbox",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("article_id", models.BigIntegerField()),
                (
                    "queued_at",
                    models.DateTimeField(db_default=django.db.models.functions.datetime.Now()),
                ),
            ],
        ),
        migrations.RunSQL(sql=TRIGGERS, reverse_sql=DROP_TRIGGERS),
        migrations.RunPython(let_curators_see_the_outbox, migrations.RunPython.noop),
    ]
