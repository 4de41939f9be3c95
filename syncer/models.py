from django.db import models
from django.db.models.functions import Now


class SystemConfig(models.Model):
    """Small key/value settings kept by the original app (`system_config`).

    Keys that keep their meaning: `trakt:token`, `trakt:refresh_token`, `lastSyncTimestamp`,
    `status:sync:last-run`, `status:sync:last-run-auto`, `status:sync:completed:last-run`,
    `status:sync:watching:last-run`, `status:fribbs:last-sync`, `status:otaku:last-sync`.
    """

    key = models.TextField(primary_key=True)
    value = models.TextField()
    updated_at = models.DateTimeField(null=True, db_default=Now(), auto_now=True)

    class Meta:
        db_table = "system_config"
        verbose_name = "system setting"

    def __str__(self) -> str:
        return self.key


class SyncProgress(models.Model):
    """Highest AniList episode already written to Trakt, per AniList entry (`sync_progress`)."""

    anilist_id = models.IntegerField(primary_key=True)
    last_abs = models.IntegerField(default=0, db_default=0)
    updated_at = models.DateTimeField(null=True, db_default=Now(), auto_now=True)
    # Added by the rewrite (migration 0002). Rewatches are ledger rows (`LedgerItem.cycle`).
    title = models.TextField(default="", blank=True)

    class Meta:
        db_table = "sync_progress"
        verbose_name = "sync progress"
        verbose_name_plural = "sync progress"

    def __str__(self) -> str:
        return f"{self.anilist_id}: {self.last_abs}"


class SyncRun(models.Model):
    """One run of a sync mode, with its counts; every log line of the run points here."""

    class Mode(models.TextChoices):
        INCREMENTAL = "incremental"
        COMPLETED = "completed"
        WATCHING = "watching"
        SHOW = "show"
        # Every entry with progress, whatever its (synced) status: the first sync of an install.
        LIBRARY = "library"
        UNDO = "undo"  # takes back the plays another run posted (issue 13)
        # Finds the duplicate plays other tools left in Trakt history and removes them (issue 26).
        DOCTOR = "doctor", "History doctor"

    class Trigger(models.TextChoices):
        MANUAL = "manual"
        SCHEDULED = "scheduled"
        API = "api"
        CLI = "cli"

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        REFUSED = "refused"  # another run held the lock
        # Its process stopped (killed, or cut off from the database) without recording an end:
        # marked so by the next start (see syncer/sync/liveness.py).
        INTERRUPTED = "interrupted"

    mode = models.CharField(max_length=16, choices=Mode.choices)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.MANUAL)
    dry_run = models.BooleanField(default=False)
    anilist_id = models.IntegerField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The last time the run's process proved it was alive (every SYNC_HEARTBEAT_SECONDS).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    progress_done = models.IntegerField(default=0)
    progress_total = models.IntegerField(default=0)
    # The step a live run is in, in words (or a retry notice); its numbers are its rows'.
    progress_label = models.TextField(default="", blank=True)
    # While a run plans show by show: about how many plays it will post in all (an upper bound
    # until every show is planned); 0 when it has no guess. Pages label it as a guess.
    expected_posts = models.IntegerField(default=0)
    found = models.IntegerField(default=0)
    posted = models.IntegerField(default=0)
    already_synced = models.IntegerField(default=0)
    unmapped = models.IntegerField(default=0)
    not_found = models.IntegerField(default=0)
    errors = models.IntegerField(default=0)
    error = models.TextField(default="", blank=True)
    # An undo run: the run whose plays it removes from Trakt history.
    undo_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="undos")
    # A doctor run: its settings and what its history scan found (`syncer.sync.doctor.Scan`):
    # {"window", "scope", "preview" (the preview a repair carries out), "history", "limit", "reads"}.
    doctor = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "sync_run"
        ordering = ["-id"]
        indexes = [models.Index(fields=["mode", "dry_run", "-id"], name="sync_run_mode_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.mode} ({self.state})"

    @property
    def last_alive_at(self):
        """When the run last proved its process was alive (what an interrupted run shows)."""
        return self.heartbeat_at or self.started_at or self.created_at

    def summary(self) -> dict:
        """The counts in the original app's JSON words."""
        return {
            "found": self.found,
            "synced": self.posted,
            "alreadySynced": self.already_synced,
            "skippedUnmapped": self.unmapped,
            "notFound": self.not_found,
            "errors": self.errors,
        }


class TraktToken(models.Model):
    """The Trakt OAuth token pair (one row, id 1). Tokens are stored encrypted (see
    `syncer.trakt_connection.crypto`); `version` increases on every rotation so two concurrent refreshes cannot
    both save a pair made from the same single-use refresh token."""

    class State(models.TextChoices):
        CONNECTED = "connected"
        NEEDS_RECONNECT = "needs_reconnect"
        DISCONNECTED = "disconnected"

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    access_token = models.TextField(default="", blank=True)
    refresh_token = models.TextField(default="", blank=True)
    token_created_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    scope = models.TextField(default="", blank=True)
    username = models.TextField(default="", blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.DISCONNECTED)
    last_error = models.TextField(default="", blank=True)
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "trakt_token"

    def __str__(self) -> str:
        return f"Trakt token ({self.state})"


class TraktDeviceCode(models.Model):
    """One device-code connection attempt (shown as a user code + link, polled until done)."""

    class State(models.TextChoices):
        PENDING = "pending"
        CONNECTED = "connected"
        EXPIRED = "expired"
        DENIED = "denied"
        INVALID = "invalid"
        USED = "used"
        FAILED = "failed"

    device_code = models.TextField()  # encrypted, like the tokens
    user_code = models.CharField(max_length=32)
    verification_url = models.URLField()
    interval = models.PositiveIntegerField(default=5)
    expires_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    message = models.TextField(default="", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "trakt_device_code"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.user_code} ({self.state})"


class SyncBatch(models.Model):
    """The write-ahead record of one history POST: saved (and committed) before the POST, so a
    crash, a timeout or a 5xx that Trakt may have applied leaves a `pending`/`uncertain` row the
    next run reconciles against Trakt history instead of posting the plays again."""

    class State(models.TextChoices):
        PENDING = "pending"  # written, POST sent or about to be: outcome unknown after a crash
        UNCERTAIN = "uncertain"  # the POST timed out / got a 5xx: Trakt may have applied it
        CONFIRMED = "confirmed"  # Trakt answered; progress advanced for the accepted plays
        RECONCILED = "reconciled"  # checked against Trakt history; missing plays re-posted
        FAILED = "failed"  # definitely not applied (e.g. authentication refused)

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="batches")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    # [{"item": id, "anilist_id", "episode", "kind", "trakt_id", "season", "number", "watched_at"}]
    payload = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(default="", blank=True)

    class Meta:
        db_table = "sync_batch"
        ordering = ["id"]
        indexes = [models.Index(fields=["state"], name="sync_batch_state_idx")]

    def __str__(self) -> str:
        return f"batch #{self.pk} of run {self.run_id} ({self.state})"


class SyncRunItem(models.Model):
    """One line of a run's plan: an AniList episode and what the run does with it."""

    class Action(models.TextChoices):
        POST = "post"
        ALREADY_SYNCED = "already_synced"
        UNMAPPED = "unmapped"
        REMOVE = "remove"  # an undo run's line: a play of the undone run to take off Trakt
        # A play of ours whose place on Trakt changed (a remap): taken off by its history id
        # here (the line names the old place); the run's `post` line puts it where it belongs.
        MOVE = "move"
        RATE = "rate"  # SYNC_RATINGS: the AniList score sent as a Trakt rating (`rating`)
        WATCHLIST = "watchlist"  # SYNC_WATCHLIST: a PLANNING entry added to the Trakt watchlist
        UNWATCHLIST = "unwatchlist"  # ... and taken off it once it left PLANNING (ours only)
        KEEP = "keep"  # a doctor run's line: the play of a cluster of duplicates that stays

    class State(models.TextChoices):
        PLANNED = "planned"  # dry run, or the run stopped before reaching it
        PENDING = "pending"  # inside a write-ahead batch
        POSTED = "posted"
        NOT_FOUND = "not_found"
        FAILED = "failed"
        REMOVED = "removed"  # posted, then taken back by an undo run

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="items")
    position = models.IntegerField()
    # Null on a doctor run's lines: a play in Trakt history, whoever posted it.
    anilist_id = models.IntegerField(null=True, blank=True)
    title = models.TextField(default="", blank=True)
    anilist_episode = models.IntegerField(null=True, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    kind = models.CharField(max_length=8, default="", blank=True)  # episode | movie
    trakt_id = models.IntegerField(null=True, blank=True)
    season = models.IntegerField(null=True, blank=True)
    number = models.IntegerField(null=True, blank=True)
    watched_at = models.DateTimeField(null=True, blank=True)
    rewatch = models.BooleanField(default=False)
    activity_id = models.BigIntegerField(null=True, blank=True)
    reason = models.TextField(default="", blank=True)
    # The reason as a code (`syncer.sync.ledger.REASONS`): what code reads; `reason` is for people.
    reason_code = models.CharField(max_length=32, default="", blank=True)
    # The AniList entry's episode count when known (the watching preview's `totalEpisodes`).
    total_episodes = models.IntegerField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PLANNED)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)  # action rate: 1-10
    # Action rate: the rating Trakt held when this one was sent (0: none), so an undo puts it
    # back; null: not recorded (a run before it was).
    rating_before = models.PositiveSmallIntegerField(null=True, blank=True)
    # A doctor run's lines (keep/remove): the play's Trakt history id.
    history_id = models.BigIntegerField(null=True, blank=True)
    batch = models.ForeignKey(SyncBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="items")
    # A `move` line: the posted item whose play it takes off (an undo of the run puts it back).
    moved_item = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        db_table = "sync_run_item"
        ordering = ["run_id", "position"]
        indexes = [
            models.Index(fields=["run", "position"], name="sync_item_run_idx"),
            models.Index(fields=["activity_id"], name="sync_item_activity_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ep {self.anilist_episode}: {self.action}"


class SyncLease(models.Model):
    """Who may run a sync right now. Taken with a conditional UPDATE (works the same on SQLite
    and PostgreSQL), renewed while the run makes progress, and free again once it expires, so a
    killed process cannot block syncing forever."""

    name = models.CharField(max_length=32, primary_key=True)
    holder = models.CharField(max_length=64, default="", blank=True)
    run_id = models.BigIntegerField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "sync_lease"

    def __str__(self) -> str:
        return f"lease {self.name} ({self.holder or 'free'})"


class RemoveBatch(models.Model):
    """The write-ahead record of one `POST /sync/history/remove` of an undo run: committed
    before the POST, so a remove whose outcome is unknown is checked against history (are
    those history ids still there?) instead of being guessed."""

    class State(models.TextChoices):
        PENDING = "pending"
        UNCERTAIN = "uncertain"
        CONFIRMED = "confirmed"
        RECONCILED = "reconciled"
        FAILED = "failed"

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="remove_batches")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    # [{"item": undone SyncRunItem id, "undo_item": the undo run's item id, "history_id",
    #   "kind", "trakt_id", "watched_at"}]
    payload = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(default="", blank=True)

    class Meta:
        db_table = "sync_remove_batch"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"remove batch #{self.pk} of run {self.run_id} ({self.state})"


class NotifiedUnmapped(models.Model):
    """AniList entries already announced as unmapped, so each is announced once, not every run."""

    anilist_id = models.IntegerField(primary_key=True)
    notified_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "notified_unmapped"

    def __str__(self) -> str:
        return f"AniList {self.anilist_id} (notified)"


class RatingSent(models.Model):
    """The rating this app last set on a Trakt item. A Trakt rating that differs from it was
    set by hand and is left alone (unless SYNC_RATINGS_OVERWRITE)."""

    # "movie:<id>", "show:<id>" or "season:<show id>:<number>" (`ratings.RatingTarget.key`)
    target = models.CharField(max_length=40, primary_key=True)
    rating = models.PositiveSmallIntegerField()
    anilist_ids = models.JSONField(default=list)
    sent_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "rating_sent"

    def __str__(self) -> str:
        return f"{self.target}: {self.rating}"


class WorkerBeat(models.Model):
    """A django-q cluster (`manage.py qcluster`) proving it is alive: its worker processes stamp
    `beat_at` every third of `SYNC_WORKER_SILENT_SECONDS` (by the database's clock). A queued
    run whose task a cluster that stopped beating had taken is lost with it (see
    `syncer.sync.workers`)."""

    # The cluster's sentinel process: its unique name (or host:pid where it has none).
    cluster = models.CharField(max_length=80, primary_key=True)
    host = models.CharField(max_length=255, default="", blank=True)
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField()

    class Meta:
        db_table = "sync_worker_beat"

    def __str__(self) -> str:
        return f"worker {self.cluster} (last beat {self.beat_at})"


class LedgerItem(models.Model):
    """The engine's one truth about what this app writes to Trakt: a row per item (an AniList
    episode of an entry, per watch cycle; later a rating or a watchlist entry), with where it
    belongs on Trakt now, where it is, and, while the two differ, why (a reason code with
    parameters; `syncer.sync.ledger` renders the words). `SyncProgress.last_abs` is kept in
    step from these rows for the original app's readers. A watchlist row (`episode` 0) is an
    entry's place on the Trakt watchlist (`syncer.sync.watchlist`)."""

    class What(models.TextChoices):
        PLAY = "play"
        RATING = "rating"
        WATCHLIST = "watchlist"

    class State(models.TextChoices):
        WANTED = "wanted"  # belongs on Trakt and is not there (yet): `reason` says why
        PENDING = "pending"  # inside a write-ahead batch: the outcome is being settled
        POSTED = "posted"  # this app put it there (`run`, `history_id` once known)
        PRESENT = "present"  # already on Trakt, put there by the user or another app: never removed
        SKIPPED = "skipped"  # not to be written (Trakt does not know the target): `reason` says why
        REMOVED = "removed"  # a watchlist entry not there and wanted nowhere (taken off, or left PLANNING)

    what = models.CharField(max_length=10, choices=What.choices, default=What.PLAY)
    anilist_id = models.IntegerField()
    episode = models.IntegerField(default=0)
    # 0: the first watch; n: the n-th rewatch. A row of episode 0 in cycle n stands for the whole
    # cycle (rewatches counted before the ledger had cycles, or finished while they were off).
    cycle = models.IntegerField(default=0)
    # A rewatch play from an AniList activity: the activity, so reading it again finds its cycle.
    activity_id = models.BigIntegerField(null=True, blank=True)
    title = models.TextField(default="", blank=True)
    watched_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.WANTED)
    # Where it belongs now (the last plan that placed it): {"kind", "trakt_id", "season", "number"}.
    belongs = models.JSONField(null=True, blank=True)
    # Where it is (posted, pending or present): the Trakt target.
    kind = models.CharField(max_length=8, default="", blank=True)
    trakt_id = models.IntegerField(null=True, blank=True)
    season = models.IntegerField(null=True, blank=True)
    number = models.IntegerField(null=True, blank=True)
    history_id = models.BigIntegerField(null=True, blank=True)
    run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="ledger")
    item = models.ForeignKey(SyncRunItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Why it is not where it belongs: a code (`syncer.sync.ledger.REASONS`) and its parameters.
    reason = models.CharField(max_length=32, default="", blank=True)
    params = models.JSONField(default=dict, blank=True)
    attempts = models.IntegerField(default=0)  # passing reasons: tries so far (the backoff)
    retry_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "sync_ledger"
        constraints = [models.UniqueConstraint(fields=["what", "anilist_id", "episode", "cycle"],
                                               name="ledger_item_once")]
        indexes = [models.Index(fields=["state", "reason"], name="ledger_state_idx"),
                   models.Index(fields=["run"], name="ledger_run_idx")]

    def __str__(self) -> str:
        return f"AniList {self.anilist_id} ep {self.episode} ({self.cycle}): {self.state}"
