# TCE.score (catalog 0002) starts as the triage default's newest probability per TCE; from here on
# apps.ml.services.scores_publish keeps it.

from django.db import migrations

PUBLISH_SQL = """
UPDATE catalog_tce t SET score = newest.probability
FROM (SELECT DISTINCT ON (p.tce_id) p.tce_id, p.probability
      FROM ml_prediction p JOIN ml_modelversion v ON v.id = p.model_version_id
      WHERE v.is_default AND v.task = 'triage'
      ORDER BY p.tce_id, p.created_at DESC, p.id DESC) newest
WHERE t.id = newest.tce_id
"""


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0002_scale'),
        ('ml', '0001_initial'),
    ]

    operations = [
        migrations.RunSQL(PUBLISH_SQL, migrations.RunSQL.noop),
    ]
