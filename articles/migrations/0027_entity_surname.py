"""A person's surname, the last word of the name, indexed: each search looks its
one-word terms up among them (articles/search/variants.py), which through the
trigram index over every name cost 0.4-0.6 ms at a million articles."""

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0026_outbox_entity_kind"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="entity",
            index=models.Index(
                django.db.models.functions.text.Upper(
                    models.Func(models.F("name"), models.Value(" ([^ ]+)$"), function="substring")
                ),
                condition=models.Q(("kind", "person")),
                name="articles_entity_surname",
            ),
        ),
    ]
