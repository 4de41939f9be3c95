"""Ratings (`SYNC_RATINGS`): the AniList score of each entry a run reads becomes a Trakt rating.

The rules (docs/sync.md, "Ratings"):
- The score is read as `score(format: POINT_100)`: AniList converts every user's own format
  (100-point, 10-point decimal, 10-point, 5 stars, 3 smileys) to it. The Trakt rating is
  score / 10 rounded half up, at least 1 (85 → 9, 84 → 8, 5 → 1); 0 means unrated and sends
  nothing (a run never removes a Trakt rating).
- What is rated: a movie mapping rates the movie. A show mapping whose episodes all land in one
  regular season of a show with several rates that season (a sequel); otherwise (the whole
  series, several seasons, or the show's only season) it rates the show. An entry of specials
  only (season 0) rates nothing.
- Split cours: entries that rate the same Trakt item get the mean of their ratings, rounded
  half up (8 and 9 → 9; 7 and 8 and 8 → 8): the item stands for all of them.
- Only the difference is sent: what Trakt holds is read once per run with ratings to send.
  Trakt has none → rate; the same → nothing; another → ours to update only when it is the
  rating this app last set (`RatingSent`), else the user set it by hand and it stays, unless
  `SYNC_RATINGS_OVERWRITE`.
- Undo: each rating a run sent records the one it replaced (`SyncRunItem.rating_before`, 0:
  none); undoing the run puts that back (removes the rating where there was none), unless a
  later run's rating holds or the user changed it since (`holding`, `ratings_to_put_back`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from mappings.placement import MappingSpec, covered_episodes
from mappings.seasons import trakt_show_seasons
from mappings.selectors import mapping_spec
from mappings.services import mapping_resolve_many
from syncer.clients.trakt import rating_key, ratings_payload
from syncer.http import NotFound
from syncer.models import RatingSent, SyncRunItem
from syncer.sync import ledger

logger = logging.getLogger("syncer.sync")
RATE, SAME, KEPT = "rate", "same", "kept"


@dataclass(frozen=True)
class RatingTarget:
    kind: str  # movie | show | season
    trakt_id: int
    season: int | None = None

    @property
    def key(self) -> str:
        return rating_key(self.kind, self.trakt_id, self.season)


@dataclass(frozen=True)
class Wanted:
    """One entry's wish: rate `target` with `rating`."""

    anilist_id: int
    title: str
    target: RatingTarget
    rating: int


@dataclass(frozen=True)
class RatingDecision:
    target: RatingTarget
    rating: int
    anilist_ids: tuple[int, ...]
    title: str
    action: str  # rate | same | kept
    on_trakt: int | None
    reason: str


def _half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def trakt_rating(score_100: float | None) -> int | None:
    """A POINT_100 AniList score as a Trakt rating 1-10; None for unscored (0 or missing)."""
    if not score_100 or score_100 <= 0:
        return None
    return min(10, max(1, _half_up(Decimal(str(score_100)) / 10)))


def rating_target(spec: MappingSpec, seasons: Sequence | None) -> RatingTarget | None:
    """What an entry's rating lands on (see the module rules); None: nothing to rate."""
    if spec.kind == "movie":
        return RatingTarget("movie", spec.trakt_id)
    touched = {season for season, _ in covered_episodes(spec, seasons)}
    regular = {s.number for s in seasons or () if s.number >= 1}
    if spec.episodes is None and (spec.start_season or 0) >= 1:
        # Still airing, no episode count yet: it runs on to the show's end (One Piece is the show).
        touched = {n for n in regular if n >= spec.start_season} or touched
    if touched == {0}:
        return None
    if len(touched) == 1 and len(regular) > 1:
        return RatingTarget("season", spec.trakt_id, touched.pop())
    return RatingTarget("show", spec.trakt_id)


def combined(wanted: Iterable[Wanted]) -> dict[RatingTarget, list[Wanted]]:
    by_target: dict[RatingTarget, list[Wanted]] = {}
    for wish in wanted:
        by_target.setdefault(wish.target, []).append(wish)
    return by_target


def decide(*, wanted: Sequence[Wanted], on_trakt: dict[str, int], ours: dict[str, int],
           overwrite: bool) -> list[RatingDecision]:
    """Pure: per Trakt item, the rating to hold and whether to send it."""
    decisions = []
    for target, wishes in combined(wanted).items():
        rating = _half_up(Decimal(sum(w.rating for w in wishes)) / len(wishes))
        current = on_trakt.get(target.key)
        title = " + ".join(dict.fromkeys(w.title for w in wishes))
        if current is None:
            action, reason = RATE, ""
        elif current == rating:
            action, reason = SAME, "already rated so on Trakt"
        elif ours.get(target.key) == current:
            action, reason = RATE, f"AniList score changed (Trakt had {current})"
        elif overwrite:
            action, reason = RATE, f"replaces {current}, set on Trakt by hand (SYNC_RATINGS_OVERWRITE)"
        else:
            action, reason = KEPT, (f"rated {current} on Trakt by hand: left alone "
                                    "(SYNC_RATINGS_OVERWRITE=true replaces it)")
        if len(wishes) > 1:
            scores = ", ".join(str(w.rating) for w in wishes)
            reason = "; ".join(filter(None, [reason, f"mean of {len(wishes)} entries ({scores})"]))
        decisions.append(RatingDecision(target, rating, tuple(w.anilist_id for w in wishes), title, action,
                                        current, reason))
    return decisions


# --- reads and writes (the run's ratings phase)

def wanted_ratings(entries: Iterable, *, trakt) -> list[Wanted]:
    """The ratings the run's entries ask for: resolves their mappings, reads seasons (cached)."""
    scored = {e.media.id: (e, r) for e in entries if (r := trakt_rating(e.score))}
    if not scored:
        return []
    rows = mapping_resolve_many(medias=[e.media for e, _ in scored.values()])
    wanted = []
    for anilist_id, (entry, rating) in scored.items():
        spec = mapping_spec(rows[anilist_id]) if anilist_id in rows else None
        if spec is None:
            continue
        try:
            seasons = trakt_show_seasons(trakt_id=spec.trakt_id, client=trakt) if spec.kind == "show" else None
        except NotFound:
            continue
        if target := rating_target(spec, seasons):
            wanted.append(Wanted(anilist_id, entry.media.title, target, rating))
    return wanted


def ratings_plan(entries: Iterable, *, trakt, overwrite: bool) -> tuple[list[RatingDecision], list[Wanted]]:
    """Decisions for the run's entries, and the wishes of those entries. An item other entries
    rate too gets the mean of every entry on it: those the run did not read count with the
    wish the ledger recorded for them. Trakt's ratings are read only when there is one to hold."""
    wanted = wanted_ratings(entries, trakt=trakt)
    if not wanted:
        return [], []
    keys = {w.target.key for w in wanted}
    others = [Wanted(r.anilist_id, r.title, RatingTarget(r.kind, r.trakt_id, r.season), r.params["rating"])
              for r in ledger.rating_wishes(trakt_ids={w.target.trakt_id for w in wanted},
                                            besides={w.anilist_id for w in wanted})
              if RatingTarget(r.kind, r.trakt_id, r.season).key in keys and r.params.get("rating")]
    on_trakt = trakt.ratings()
    ours = dict(RatingSent.objects.values_list("target", "rating"))
    decisions = decide(wanted=wanted + others, on_trakt=on_trakt, ours=ours, overwrite=overwrite)
    for d in decisions:
        if d.action == KEPT:
            logger.info("Rating of %s not sent: %s", d.title, d.reason)
    return decisions, wanted


def ratings_record(*, wanted: Sequence[Wanted], held: set[str]) -> None:
    """A real run's wishes, in the ledger (`held`: keys of the items that hold what the ledger
    wants now, sent or already equal)."""
    ledger.ratings_wished([(w.anilist_id, w.title, w.target.kind, w.target.trakt_id, w.target.season, w.rating)
                           for w in wanted], on_trakt=held)


def ratings_send(*, trakt, decisions: Sequence[RatingDecision], size: int) -> tuple[list, list]:
    """POST the ratings to send, one `POST /sync/ratings` per batch of `size`; remember each as
    ours. Ratings already equal on Trakt are remembered as ours too (a lost answer of an
    earlier run). Setting a rating twice changes nothing, so no write-ahead batch is needed:
    a run that fails here simply compares again next time. Returns (sent, not found)."""
    _remember([d for d in decisions if d.action == SAME])
    todo = [d for d in decisions if d.action == RATE]
    sent, missing = [], []
    for start in range(0, len(todo), size):
        chunk = todo[start:start + size]
        answer = trakt.add_ratings(ratings_payload(
            (d.target.kind, d.target.trakt_id, d.target.season, d.rating) for d in chunk)) or {}
        unknown = _not_found_keys(answer)
        done = [d for d in chunk if _owner_key(d.target) not in unknown]
        _remember(done)
        sent += done
        missing += [d for d in chunk if _owner_key(d.target) in unknown]
    return sent, missing


def _owner_key(target: RatingTarget) -> tuple[str, int]:
    return ("movie" if target.kind == "movie" else "show", target.trakt_id)


def _not_found_keys(answer: dict) -> set[tuple[str, int]]:
    not_found = answer.get("not_found") or {}
    return ({("movie", (m.get("ids") or {}).get("trakt")) for m in not_found.get("movies") or []}
            | {("show", (s.get("ids") or {}).get("trakt")) for s in not_found.get("shows") or []})


def _remember(decisions: Sequence[RatingDecision]) -> None:
    for d in decisions:
        RatingSent.objects.update_or_create(target=d.target.key, defaults={
            "rating": d.rating, "anilist_ids": list(d.anilist_ids)})


# --- undo: put back the rating each of a run's rating writes replaced

def holding(writes: Sequence[tuple[int, int | None, bool]]) -> int | None:
    """Pure: what one Trakt item's writes of ours leave on it. `writes`: (rating sent, rating it
    replaced (0: none; None: not recorded), undone), oldest first. The newest write not undone
    holds, unless a newer one was undone: then what the oldest of those undone ones replaced (0:
    no rating). The answer depends only on which writes are undone, never on the order of the
    undos. None: not known (a replaced rating not recorded)."""
    live = [n for n, (_, _, undone) in enumerate(writes) if not undone]
    last = live[-1] if live else -1
    if last == len(writes) - 1:
        return writes[-1][0]
    return writes[last + 1][1]


@dataclass(frozen=True)
class PutBack:
    item: object  # the undone run's `rate` line
    target: RatingTarget
    now: int | None  # what our writes hold on Trakt before the undo
    after: int | None  # ... and after it (0: no rating; None: not known)
    on_trakt: int | None
    ours_after: bool  # what is left is a write of ours (an earlier run's rating)


def ratings_to_put_back(*, run, trakt) -> list[PutBack]:
    """For each rating `run` sent (still counted), what Trakt holds now and what the undo leaves."""
    Item = SyncRunItem
    mine = list(run.items.filter(action=Item.Action.RATE, state=Item.State.POSTED).order_by("position"))
    if not mine:
        return []
    writes: dict[str, list] = {}
    for w in Item.objects.filter(action=Item.Action.RATE, state__in=[Item.State.POSTED, Item.State.REMOVED],
                                 run__dry_run=False, trakt_id__in={i.trakt_id for i in mine}
                                 ).exclude(run__mode="undo").order_by("pk"):  # an undo's lines put back
        writes.setdefault(rating_key(w.kind, w.trakt_id, w.season), []).append(w)
    on_trakt = trakt.ratings()
    out = []
    for item in mine:
        target = RatingTarget(item.kind, item.trakt_id, item.season)
        chain = writes[target.key]
        undone = [w.state == Item.State.REMOVED for w in chain]
        now = holding([(w.rating, w.rating_before, gone) for w, gone in zip(chain, undone, strict=True)])
        undone = [gone or w.run_id == run.pk for w, gone in zip(chain, undone, strict=True)]
        after = holding([(w.rating, w.rating_before, gone) for w, gone in zip(chain, undone, strict=True)])
        live = [w for w, gone in zip(chain, undone, strict=True) if not gone]
        out.append(PutBack(item, target, now, after, on_trakt.get(target.key),
                           ours_after=bool(live) and live[-1].rating == after))
    return out


def ratings_put_back(*, trakt, changes: Sequence[PutBack]) -> None:
    """Send what an undo puts back (one POST for the ratings, one for the removals) and keep
    `RatingSent` true: the rating left is ours when a write of ours still holds, else none is."""
    put = [c for c in changes if c.after]
    drop = [c for c in changes if c.after == 0]
    if put:
        trakt.add_ratings(ratings_payload((c.target.kind, c.target.trakt_id, c.target.season, c.after) for c in put))
    if drop:
        trakt.remove_ratings(ratings_payload((c.target.kind, c.target.trakt_id, c.target.season, None) for c in drop))
    for c in changes:
        if c.ours_after:
            RatingSent.objects.update_or_create(target=c.target.key, defaults={"rating": c.after})
        else:
            RatingSent.objects.filter(target=c.target.key).delete()
