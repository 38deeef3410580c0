"""The archive's content version (articles/cache.py): one number that every change
to the archive's content moves on, so that cached pages know they are out of date."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("articles", "0006_mention_article_entity_index")]

    operations = [
        migrations.RunSQL(
            sql="""
                CREATE TABLE articles_contentversion (
                    id integer NOT NULL,
                    number bigint NOT NULL,
                    CONSTRAINT articles_contentversion_pkey PRIMARY KEY (id),
                    CONSTRAINT articles_contentversion_one_row CHECK (id = 1)
                );
                INSERT INTO articles_contentversion (id, number) VALUES (1, 0);
            """,
            reverse_sql="DROP TABLE articles_contentversion",
        ),
    ]
