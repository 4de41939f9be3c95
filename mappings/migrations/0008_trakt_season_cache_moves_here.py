# The season cache moved from the syncer app to the mappings app (it serves the placement
# checks). The table stays where it is: only Django's picture of which app owns it changes.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mappings", "0007_mapping_dates_checked_at"),
        ("syncer", "0008_ratings_watchlist"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="TraktSeasonCache",
                    fields=[
                        ("trakt_id", models.IntegerField(primary_key=True, serialize=False)),
                        ("seasons", models.JSONField(default=list)),
                        ("fetched_at", models.DateTimeField()),
                    ],
                    options={"db_table": "trakt_season_cache"},
                ),
            ],
            database_operations=[],
        ),
    ]
