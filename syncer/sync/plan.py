"""The plan: what a run does with each watch event. Pure (no database, no network), so a preview
is this function's result and can never disagree with what a run posts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from mappings.placement import MappingSpec, Target, place_episode
from syncer.sync.events import NOT_REWATCHED, Rewatched, WatchEvent

POST = "post"
ALREADY_SYNCED = "already_synced"
UNMAPPED = "unmapped"
NO_MAPPING = "no mapping: resolve it or add a manual mapping"
# An ALREADY_SYNCED reason, not an action of its own: the pages and the API know three actions.
ON_TRAKT = "already on Trakt: watched there before, by hand or by another app"


@dataclass(frozen=True)
class PlanItem:
    event: WatchEvent
    action: str
    target: Target | None = None
    reason: str = ""
    on_trakt: bool = False  # skipped because Trakt already has a play of the target
    # Why it is not posted, as a code with parameters (`syncer.sync.ledger.REASONS`): what code
    # reads; `reason` is the same in words, for people.
    code: str = ""
    params: dict = field(default_factory=dict)


def build_plan(
    *,
    events: Iterable[WatchEvent],
    mappings: dict[int, MappingSpec],
    unmapped: dict[int, str],
    seasons: dict[int, Sequence | None],
    overrides: dict[int, dict[int, tuple[int, int]]],
    progress: dict[int, int],
    rewatched: dict[int, Rewatched] | None = None,
    on_trakt: frozenset[tuple] = frozenset(),
    held: dict[int, dict[tuple[int, int], str]] | None = None,
    done: dict[int, frozenset[int]] | None = None,
    unmapped_codes: dict[int, tuple[str, dict]] | None = None,
) -> list[PlanItem]:
    """One item per event, in event order.

    An episode posts once: not when it is at or below the stored progress, not twice in one run,
    and not when another AniList entry of this run already posts the same Trakt episode (a
    duplicate play is worse than a missing one), and not when Trakt already has a play of the
    target (`on_trakt`: keys `(kind, trakt_id, season, number)` as from `target_key`), and not
    when another entry claims the same Trakt episode (`held`: {AniList id: {(season, number):
    reason}}, both entries' share is held, every other episode of both posts), and not when the
    ledger has it on Trakt already above the stored progress (`done`: {AniList id: episodes}).
    Two episodes of one entry placed on one Trakt episode (overrides: a one-hour premiere) post
    it once. Rewatch
    events skip the progress and Trakt checks (they mean one more play) and post once per cycle
    and episode instead (`rewatched`: {AniList id: what the ledger has of its cycles}).
    """
    planned: dict[int, set[int]] = {}
    targets: dict[tuple, tuple[int, int]] = {}  # target -> (AniList id, episode) posting it
    rewatches: set[tuple] = set()  # (AniList id, cycle, episode) posted by this run
    items: list[PlanItem] = []
    for event in events:
        aid, episode = event.anilist_id, event.episode
        spec = mappings.get(aid)
        if spec is not None and spec.kind == "movie" and episode < (spec.episodes or 1):
            continue  # a movie is one play, when its last AniList episode is watched
        skip = _already_synced(event, progress, planned, rewatches, rewatched or {}, done or {})
        if skip:
            items.append(PlanItem(event, ALREADY_SYNCED, reason=skip))
            continue
        if spec is None:
            code, params = (unmapped_codes or {}).get(aid, ("no_mapping", {}))
            items.append(PlanItem(event, UNMAPPED, reason=unmapped.get(aid) or NO_MAPPING, code=code, params=params))
            continue
        target = place_episode(spec=spec, seasons=seasons.get(spec.trakt_id), overrides=overrides.get(aid, {}),
                               episode=episode)
        if target is None:
            items.append(PlanItem(event, UNMAPPED, reason=_missing_reason(spec, episode), code="episode_beyond_trakt",
                                  params={"kind": spec.kind, "trakt_id": spec.trakt_id, "episode": episode}))
            continue
        dispute = (held or {}).get(aid, {}).get((target.season, target.number)) if target.kind == "episode" else None
        if dispute:
            items.append(PlanItem(event, UNMAPPED, target, dispute, code="held_overlap",
                                  params={"season": target.season, "number": target.number}))
            continue
        key = target_key(target)
        owner = targets.get(key)
        if not event.rewatch and owner is not None and owner[0] != aid:
            items.append(PlanItem(event, ALREADY_SYNCED, target,
                                  f"same Trakt {target.kind} as AniList {owner[0]} in this run",
                                  code="shared_target", params={"kind": target.kind, "anilist_id": owner[0]}))
            continue
        if not event.rewatch and owner is not None and owner[1] != episode:
            planned.setdefault(aid, set()).add(episode)
            items.append(PlanItem(event, ALREADY_SYNCED, target,
                                  f"same Trakt {target.kind} as its episode {owner[1]}: one play",
                                  code="same_target", params={"episode": owner[1]}))
            continue
        if not event.rewatch and key in on_trakt:
            planned.setdefault(aid, set()).add(episode)
            items.append(PlanItem(event, ALREADY_SYNCED, target, ON_TRAKT, on_trakt=True))
            continue
        if event.rewatch:
            rewatches.add(_rewatch_key(event))
        else:
            planned.setdefault(aid, set()).add(episode)
            targets[key] = (aid, episode)
        items.append(PlanItem(event, POST, target, spec.note))  # "": the datasets placed it
    return items


def target_key(target: Target) -> tuple:
    return (target.kind, target.trakt_id, target.season, target.number)


def _rewatch_key(event: WatchEvent) -> tuple:
    return (event.anilist_id, event.cycle, event.episode)


def _already_synced(event, progress, planned, rewatches, rewatched, done) -> str:
    if event.rewatch:
        on_trakt = rewatched.get(event.anilist_id, NOT_REWATCHED).has(event.cycle or 0, event.episode)
        return "rewatch already synced" if on_trakt or _rewatch_key(event) in rewatches else ""
    last = progress.get(event.anilist_id, 0)
    if event.episode <= last:
        return f"already synced (up to episode {last})"
    if event.episode in done.get(event.anilist_id, ()):
        return "already synced"
    if event.episode in planned.get(event.anilist_id, ()):
        return "already in this run"
    return ""


def _missing_reason(spec: MappingSpec, episode: int) -> str:
    if spec.kind == "movie":
        return f"episode {episode} is past the movie's {spec.episodes or 1} episode(s)"
    return (f"episode {episode} does not exist on Trakt show {spec.trakt_id} "
            f"(mapped from S{spec.start_season}E{spec.start_episode}): check the mapping")
