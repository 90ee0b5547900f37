"""The statistics rollup (``CaseDayFigures``) and the indexes the statistics page and the
department inbox need at a million cases (see bench/README.md, ``services_cases``).

The case and rating indexes are partial or expression-free SQL indexes that the models
do not declare (they serve the statistics' live part only), created with IF NOT EXISTS
on PostgreSQL and SQLite alike.
"""

import django.db.models.deletion
from django.db import migrations, models


FINAL = "('refused', 'closed', 'withdrawn', 'terminated')"
INDEXES = [
    # The live part of the statistics: cases not final (or never closed), by submission
    # time; a few percent of all cases, as most are closed.
    ("services_case_open_submitted_idx",
     f"ON services_case (submitted_at) WHERE NOT (status IN {FINAL}) OR closed_at IS NULL"),
    # Bad ratings (不满意, 非常不满意): the few that may still change.
    ("services_rating_bad_idx", "ON services_rating (id) WHERE level < 3"),
]


def create_indexes(apps, schema_editor):
    for name, definition in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} {definition}")


def drop_indexes(apps, schema_editor):
    for name, _definition in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0004_sequence'),
        ('services', '0003_translations_material_kind'),
    ]

    operations = [
        migrations.CreateModel(
            name='CaseFiguresWatermark',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('settled_through', models.DateTimeField()),
                ('refreshed_at', models.DateTimeField()),
            ],
            options={
                'default_permissions': (),
            },
        ),
        migrations.CreateModel(
            name='CaseDayFigures',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('channel', models.CharField(choices=[('pc', 'Online (PC)'), ('mobile', 'Mobile'), ('window', 'Window'), ('post', 'Post'), ('self_service', 'Self-service terminal')], max_length=12)),
                ('cases', models.PositiveIntegerField(default=0)),
                ('immediate', models.PositiveIntegerField(default=0)),
                ('zero_visit', models.PositiveIntegerField(default=0)),
                ('decided', models.PositiveIntegerField(default=0)),
                ('overdue', models.PositiveIntegerField(default=0)),
                ('handled', models.PositiveIntegerField(default=0)),
                ('handling_us', models.BigIntegerField(default=0)),
                ('ratings', models.PositiveIntegerField(default=0)),
                ('satisfied', models.PositiveIntegerField(default=0)),
                ('bad', models.PositiveIntegerField(default=0)),
                ('bad_rectified', models.PositiveIntegerField(default=0)),
                ('department', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='core.orgunit')),
                ('intake_unit', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='core.orgunit')),
                ('matter', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='services.matter')),
            ],
            options={
                'default_permissions': (),
                'constraints': [models.UniqueConstraint(fields=('day', 'department', 'intake_unit', 'matter', 'channel'), name='case_day_figures_unique')],
            },
        ),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
