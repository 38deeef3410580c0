"""Term statistics for BM25 ranking (articles/ranking.py): each lexeme's document
frequency and the archive's size and mean vector length, refreshed after each load.

Plain tables rather than models: only the ranking SQL reads them and only
`refresh_term_statistics` writes them, always whole."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("articles", "0007_content_version")]

    operations = [
        migrations.RunSQL(
            sql="""
                CREATE TABLE articles_termstat (
                    lexeme text NOT NULL,
                    df integer NOT NULL,
                    CONSTRAINT articles_termstat_pkey PRIMARY KEY (lexeme)
                );
                CREATE TABLE articles_corpusstat (
                    id integer NOT NULL,
                    n bigint NOT NULL,
                    avgdl double precision,
                    CONSTRAINT articles_corpusstat_pkey PRIMARY KEY (id),
                    CONSTRAINT articles_corpusstat_one_row CHECK (id = 1)
                );
            """,
            reverse_sql="DROP TABLE articles_termstat; DROP TABLE articles_corpusstat;",
        ),
    ]
