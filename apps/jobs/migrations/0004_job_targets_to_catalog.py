"""Job.targets becomes Target.jobs (catalog 0003): same table, so the database is untouched."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("jobs", "0003_job_parent"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.RemoveField(model_name="job", name="targets")],
            database_operations=[],
        ),
    ]
