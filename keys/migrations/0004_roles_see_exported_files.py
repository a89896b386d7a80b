from django.db import migrations

from keys.roles import sync_roles


def update_roles(apps, schema_editor):
    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [("keys", "0003_export_files")]

    operations = [migrations.RunPython(update_roles, migrations.RunPython.noop)]
