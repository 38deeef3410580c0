"""A trigram index on the term statistics' lexemes: "did you mean" reads the
archive's words nearest a misspelt one (articles/search/suggest.py). GiST, not
GIN: it gives the nearest by trigram distance (ORDER BY <-> LIMIT) with no
similarity threshold to set."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("articles", "0013_stories")]

    operations = [
        migrations.RunSQL(
            sql="CREATE INDEX articles_termstat_lexeme_trgm ON articles_termstat "
            "USING gist (lexeme gist_trgm_ops)",
            reverse_sql="DROP INDEX articles_termstat_lexeme_trgm",
        ),
    ]
