"""The `curators` group: edit the archive's content, never users or groups."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "curators"
# Raw inputs are evidence: curators may read them, nobody edits or deletes them in admin.
READ_ONLY_MODELS = {"sourcedocument"}


def _ensure_permissions_exist(apps):
    # Permissions are normally created after all migrations ran (post_migrate);
    # on a fresh database they do not exist yet when this migration runs.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def create_curators(apps, schema_editor):
    _ensure_permissions_exist(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    permissions = [
        perm
        for perm in Permission.objects.filter(content_type__app_label="articles")
        if perm.content_type.model not in READ_ONLY_MODELS or perm.codename.startswith("view_")
    ]
    group.permissions.set(permissions)


def remove_curators(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0002_review_queue"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_curators, remove_curators)]
