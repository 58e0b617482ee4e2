"""Target.jobs: the job ↔ target link, declared on the catalogue side over the existing table.

jobs 0004 removed ``Job.targets`` from the migration state; this adds the same relation back from
the other end with ``db_table="jobs_job_targets"`` and the same column names (job_id, target_id),
so neither migration touches the database.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0002_scale"),
        ("jobs", "0004_job_targets_to_catalog"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="target",
                    name="jobs",
                    field=models.ManyToManyField(
                        blank=True, db_table="jobs_job_targets", related_name="targets", to="jobs.job"
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
