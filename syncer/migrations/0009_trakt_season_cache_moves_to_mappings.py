# The season cache now belongs to the mappings app (mappings 0008); the table is kept.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("syncer", "0008_ratings_watchlist"),
        ("mappings", "0008_trakt_season_cache_moves_here"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="TraktSeasonCache")],
            database_operations=[],
        ),
    ]
