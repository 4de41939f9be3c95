from django.db import models
from django.db.models.functions import Now


class Mapping(models.Model):
    """AniList entry -> Trakt show (with start season/episode) or Trakt movie (`mappings`).

    An entry nobody could resolve keeps a row with `trakt_id` NULL and `unmapped_reason` set,
    so the dashboard can list it and one manual mapping fixes it.
    """

    class Type(models.TextChoices):
        SHOW = "show"
        MOVIE = "movie"

    anilist_id = models.IntegerField(primary_key=True)
    trakt_id = models.IntegerField(null=True, blank=True)
    tmdb_id = models.IntegerField(null=True, blank=True)
    imdb_id = models.TextField(null=True, blank=True)
    tvdb_id = models.IntegerField(null=True, blank=True)
    type = models.TextField(null=True, blank=True, choices=Type.choices)
    is_manual = models.BooleanField(default=False, db_default=False)
    updated_at = models.DateTimeField(null=True, db_default=Now(), auto_now=True)
    # Added by the rewrite (migration 0002).
    mal_id = models.IntegerField(null=True, blank=True)
    title = models.TextField(default="", blank=True)
    anilist_format = models.TextField(default="", blank=True)
    episodes = models.IntegerField(null=True, blank=True)
    start_season = models.IntegerField(null=True, blank=True)
    start_episode = models.IntegerField(null=True, blank=True)
    source = models.TextField(default="", blank=True)
    trakt_title = models.TextField(default="", blank=True)
    trakt_slug = models.TextField(default="", blank=True)
    unmapped_reason = models.TextField(default="", blank=True)

    class Meta:
        db_table = "mappings"
        indexes = [
            models.Index(fields=["trakt_id"], name="mappings_trakt_id_idx"),
            models.Index(fields=["mal_id"], name="mappings_mal_id_idx"),
        ]

    def __str__(self) -> str:
        return self.title or f"AniList {self.anilist_id}"

    @property
    def is_mapped(self) -> bool:
        return self.trakt_id is not None


class LegacyEpisodeOverride(models.Model):
    """The original app's overrides (`episode_override`), keyed by Trakt show and "absolute"
    episode. Two AniList seasons of one Trakt show collide on that key, so the rewrite converts
    each row it can attribute into an `EpisodeOverride` and keeps the rest visible here."""

    pk = models.CompositePrimaryKey("trakt_id", "abs")
    trakt_id = models.IntegerField()
    abs = models.IntegerField()
    season = models.IntegerField()
    episode = models.IntegerField()

    class Meta:
        db_table = "episode_override"
        verbose_name = "legacy episode override"

    def __str__(self) -> str:
        return f"Trakt {self.trakt_id} abs {self.abs} -> S{self.season}E{self.episode}"


class EpisodeOverride(models.Model):
    """AniList episode N of an entry is Trakt SxxEyy of the mapped show: wins over placement."""

    mapping = models.ForeignKey(
        Mapping, on_delete=models.CASCADE, related_name="overrides", db_column="anilist_id"
    )
    anilist_episode = models.PositiveIntegerField()
    season = models.PositiveIntegerField()
    episode = models.PositiveIntegerField()

    class Meta:
        db_table = "anilist_episode_override"
        constraints = [
            models.UniqueConstraint(fields=["mapping", "anilist_episode"], name="override_unique_episode")
        ]
        ordering = ["mapping_id", "anilist_episode"]

    def __str__(self) -> str:
        return f"AniList {self.mapping_id} ep {self.anilist_episode} -> S{self.season}E{self.episode}"
