from django.db import models
from django.db.models.functions import Now

from mappings.provenance import CORRECTED, PLACED


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
    # The original schema allows NULL in these text columns; adopted rows may hold it.
    imdb_id = models.TextField(null=True, blank=True)  # noqa: DJ001
    tvdb_id = models.IntegerField(null=True, blank=True)
    type = models.TextField(null=True, blank=True, choices=Type.choices)  # noqa: DJ001
    is_manual = models.BooleanField(default=False, db_default=False)
    updated_at = models.DateTimeField(null=True, db_default=Now(), auto_now=True)
    # Added by the rewrite (migration 0002).
    mal_id = models.IntegerField(null=True, blank=True)
    title = models.TextField(default="", blank=True)
    anilist_format = models.TextField(default="", blank=True)
    episodes = models.IntegerField(null=True, blank=True)
    start_season = models.IntegerField(null=True, blank=True)
    start_episode = models.IntegerField(null=True, blank=True)
    # How the mapping was found and placed, in words for people (the admin, the API); code reads
    # the codes below instead (`mappings.provenance` says what each means).
    source = models.TextField(default="", blank=True)
    found_by = models.CharField(max_length=16, default="", blank=True)
    placed_by = models.CharField(max_length=16, default="", blank=True)
    air_dates = models.CharField(max_length=16, default="", blank=True)
    provenance = models.JSONField(default=dict, blank=True)  # the codes' parameters
    trakt_title = models.TextField(default="", blank=True)
    trakt_slug = models.TextField(default="", blank=True)
    unmapped_reason = models.TextField(default="", blank=True)
    # Explicit per-season ranges for an entry the one-start rule cannot describe (AniBridge data
    # spanning specials and a season): [[from, to|null, season, first_episode], ...].
    episode_ranges = models.JSONField(default=list, blank=True)
    # The Trakt show the sources point at while the row is held back (two entries claiming the
    # same start), so the clash stays visible until a person decides.
    held_trakt_id = models.IntegerField(null=True, blank=True)
    # When the placement was last derived: a show's season list cached after it (new episodes,
    # new air dates) has the placement derived again (`mappings.services`). NULL: never since
    # air dates were read, so the next dated season list re-checks it.
    dates_checked_at = models.DateTimeField(null=True, blank=True)

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

    @property
    def placed_by_dates(self) -> bool:
        """Placed or corrected by air dates (mappings/airdates.py)."""
        return self.air_dates in (PLACED, CORRECTED)


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
    # When it was last written: a play posted before it may belong elsewhere now (the sync's
    # moves compare it with the play's time). NULL on rows from before the field: never newer.
    updated_at = models.DateTimeField(null=True, auto_now=True)

    class Meta:
        db_table = "anilist_episode_override"
        constraints = [
            models.UniqueConstraint(fields=["mapping", "anilist_episode"], name="override_unique_episode")
        ]
        ordering = ["mapping_id", "anilist_episode"]

    def __str__(self) -> str:
        return f"AniList {self.mapping_id} ep {self.anilist_episode} -> S{self.season}E{self.episode}"


# --- Mapping sources -------------------------------------------------------------------------
# One table per public dataset, replaced as a whole by each refresh (see `mappings.sources`).
# Only the fields the resolver reads are kept, with indexes on the ids it looks up by.


class OtakuEntry(models.Model):
    """One row of Otaku-Mappings' `anime` table (TVDB-based season data, sparse Trakt ids)."""

    mal_id = models.IntegerField(null=True, blank=True)
    anilist_id = models.IntegerField(null=True, blank=True)
    anidb_id = models.IntegerField(null=True, blank=True)
    tvdb_id = models.IntegerField(null=True, blank=True)
    tvdb_marker = models.TextField(default="", blank=True)  # "movie", "OVA", ... instead of an id
    tmdb_ids = models.TextField(default="", blank=True)  # "1429" or "968868,968870"
    imdb_id = models.TextField(default="", blank=True)
    trakt_id = models.IntegerField(null=True, blank=True)
    tvdb_season = models.IntegerField(null=True, blank=True)
    tvdb_absolute = models.BooleanField(default=False)  # thetvdb_season == 'a'
    tvdb_part = models.IntegerField(null=True, blank=True)
    media_type = models.TextField(default="", blank=True)  # anime_media_type: TV, MOVIE, OVA...
    global_media_type = models.TextField(default="", blank=True)  # namespace of trakt_id
    anime_start = models.IntegerField(null=True, blank=True)
    anime_end = models.IntegerField(null=True, blank=True)
    global_start = models.IntegerField(null=True, blank=True)
    global_end = models.IntegerField(null=True, blank=True)
    title = models.TextField(default="", blank=True)  # `mal_title` (files since Dec 2024)

    class Meta:
        db_table = "mapping_source_otaku"
        verbose_name = "Otaku mapping row"
        indexes = [
            models.Index(fields=["anilist_id"], name="src_otaku_anilist_idx"),
            models.Index(fields=["mal_id"], name="src_otaku_mal_idx"),
        ]

    def __str__(self) -> str:
        name = f"Otaku AniList {self.anilist_id} / MAL {self.mal_id}"
        return f"{name} ({self.title})" if self.title else name


class FribbEntry(models.Model):
    """One entry of Fribb's anime-lists JSON, any of its three format generations."""

    anilist_id = models.IntegerField(null=True, blank=True)
    mal_id = models.IntegerField(null=True, blank=True)
    anidb_id = models.IntegerField(null=True, blank=True)
    kind = models.TextField(default="", blank=True)  # TV, MOVIE, OVA, ONA, SPECIAL, ...
    tvdb_id = models.IntegerField(null=True, blank=True)
    tmdb_tv = models.IntegerField(null=True, blank=True)
    tmdb_movies = models.TextField(default="", blank=True)  # comma-separated TMDB movie ids
    imdb_ids = models.TextField(default="", blank=True)  # comma-separated
    tmdb_season = models.IntegerField(null=True, blank=True)
    tmdb_offset = models.IntegerField(null=True, blank=True)
    tvdb_season = models.IntegerField(null=True, blank=True)
    tvdb_offset = models.IntegerField(null=True, blank=True)
    has_season_data = models.BooleanField(default=False)  # the entry's format carries `season`

    class Meta:
        db_table = "mapping_source_fribb"
        verbose_name = "Fribb mapping entry"
        verbose_name_plural = "Fribb mapping entries"
        indexes = [
            models.Index(fields=["anilist_id"], name="src_fribb_anilist_idx"),
            models.Index(fields=["mal_id"], name="src_fribb_mal_idx"),
            models.Index(fields=["anidb_id"], name="src_fribb_anidb_idx"),
        ]

    def __str__(self) -> str:
        return f"Fribb AniList {self.anilist_id} / AniDB {self.anidb_id}"


class AniBridgeRange(models.Model):
    """One AniBridge v3 range: AniList episodes `source_start..source_end` of an entry are
    `target_start..target_end` of the target (`tmdb_show` season, `tmdb_movie`, ...)."""

    anilist_id = models.IntegerField()
    target_kind = models.TextField()  # tmdb_show, tvdb_show, tmdb_movie, imdb_movie, mal, anidb
    target_id = models.TextField()
    season = models.IntegerField(null=True, blank=True)
    source_start = models.IntegerField()
    source_end = models.IntegerField(null=True, blank=True)  # NULL: open-ended ("1089-")
    target_start = models.IntegerField(null=True, blank=True)  # NULL: explicitly unmapped
    target_end = models.IntegerField(null=True, blank=True)
    ratio = models.IntegerField(default=1)

    class Meta:
        db_table = "mapping_source_anibridge"
        verbose_name = "AniBridge range"
        indexes = [models.Index(fields=["anilist_id"], name="src_anibridge_anilist_idx")]
        ordering = ["anilist_id", "target_kind", "season", "source_start"]

    def __str__(self) -> str:
        return f"anilist:{self.anilist_id} -> {self.target_kind}:{self.target_id}:s{self.season}"


class SourceStatus(models.Model):
    """Per source: what the last good import holds and how the last attempt went."""

    class Source(models.TextChoices):
        OTAKU = "otaku"
        FRIBB = "fribb"
        ANIBRIDGE = "anibridge"

    source = models.CharField(max_length=16, primary_key=True, choices=Source.choices)
    row_count = models.IntegerField(default=0)
    # Last successful refresh: an import, or a check that found the file in use unchanged.
    refreshed_at = models.DateTimeField(null=True, blank=True)
    upstream_updated_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(default="", blank=True)  # empty after a successful refresh
    duration_seconds = models.FloatField(null=True, blank=True)
    # Rows of the last good import left out because a number did not fit the database.
    skipped_rows = models.IntegerField(default=0)
    # Rows of the last file refused by the shrink guard (None unless that is why it failed).
    refused_rows = models.IntegerField(null=True, blank=True)
    # The refresh queued from the dashboard, so its panel can stop waiting for a dead task.
    refresh_task_id = models.CharField(max_length=64, default="", blank=True)
    refresh_queued_at = models.DateTimeField(null=True, blank=True)
    # Where the rows in use were downloaded from and what the server said of that file: the next
    # refresh asks with If-None-Match / If-Modified-Since, and a file that has not changed (a 304,
    # or the same bytes) is not imported again. Empty after a file imported by hand.
    fetched_url = models.TextField(default="", blank=True)
    etag = models.TextField(default="", blank=True)
    last_modified = models.TextField(default="", blank=True)
    content_sha256 = models.CharField(max_length=64, default="", blank=True)
    # A refresh at work beats here (by the database's clock) until it ends, when it is cleared:
    # one that stopped beating was killed (`mappings.services.source_refreshes_interrupt_dead`).
    refresh_started_at = models.DateTimeField(null=True, blank=True)
    refresh_beat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "mapping_source_status"
        verbose_name = "mapping source status"
        verbose_name_plural = "mapping source statuses"

    def __str__(self) -> str:
        return f"{self.source}: {self.row_count} rows"

    @property
    def ok(self) -> bool:
        return not self.last_error


class AiringScheduleCache(models.Model):
    """When an AniList entry's first episodes aired (the air-date check, mappings/airdates.py).

    `aired` is small: [[episode, airingAt], ...] for at most the first 16 aired episodes, and
    `related` [[AniList id, relationType], ...] (a sequel is placed next to its prequel). A row
    with 16 episodes never changes; a shorter one (still airing) is asked again a day later.
    """

    anilist_id = models.IntegerField(primary_key=True)
    aired = models.JSONField(default=list)
    related = models.JSONField(default=list)
    fetched_at = models.DateTimeField()

    class Meta:
        db_table = "airing_schedule_cache"

    def __str__(self) -> str:
        return f"AniList {self.anilist_id}: {len(self.aired)} dated episodes"


class TraktSeasonCache(models.Model):
    """A Trakt show's seasons and their episode numbers, cached with a time-to-live.

    `seasons` is small: `[{"number": 1, "episodes": [1, 2, ...]}, ...]` (One Piece: ~6 KB).
    """

    trakt_id = models.IntegerField(primary_key=True)
    seasons = models.JSONField(default=list)
    fetched_at = models.DateTimeField()

    class Meta:
        db_table = "trakt_season_cache"

    def __str__(self) -> str:
        return f"Trakt show {self.trakt_id} seasons"
