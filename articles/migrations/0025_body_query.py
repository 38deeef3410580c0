"""A query restricted to an article's body: `archive_body_query(q)`.

An article's vector holds its body with weight C (articles/search_vectors.py), and a
query matches the body alone when each of its words matches with that weight:
`vector @@ archive_body_query(q)` means what `ts_filter(vector, '{c}') @@ q` means
without copying the vector's body part first. PostgreSQL has no function that sets
a tsquery's weights, so this one adds the label to every lexeme of the query's
text form ('word' -> 'word':C, 'stem':* -> 'stem':*C; a quote inside a lexeme is
written doubled). It is immutable: given a constant query, PostgreSQL computes it
once when it plans the statement."""

from django.db import migrations

CREATE = r"""
CREATE FUNCTION archive_body_query(query tsquery) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN regexp_replace(query::text, '(''(?:[^'']|'''')*'')(?::(\*)?[A-D]*)?', '\1:\2C', 'g')::tsquery
"""
DROP = "DROP FUNCTION archive_body_query(tsquery)"


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0024_article_vectors_inline"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
