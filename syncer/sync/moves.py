"""Moves: plays on Trakt whose episode belongs elsewhere now, whatever changed (a remap, a
corrected start, a dataset or air-date correction, an episode override).

The rule: a play's place is compared with where the plan's own placement
(`mappings.placement.place_episode`, the show's season list, the entry's overrides) puts its
episode now. Only plays whose entry's mapping or overrides were written after them are looked
at (`ledger.move_candidates`), so a run with nothing changed costs one query. A play moves
when it sits on another Trakt show or movie than the mapping names, or, on the same show, when
placement puts its episode at another place; never when the entry is unmapped now or its
episode cannot be placed on the same show (a season list lacking it: the play may be right).

A play this app posted is taken off by its history id (`undo.moves_apply`) and the run posts
it where it belongs; a play the user put there stays, and the new place is posted all the same.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from mappings.models import Mapping
from mappings.placement import MappingSpec, Target, place_episode
from mappings.seasons import cached_show_seasons, trakt_show_seasons
from mappings.selectors import mapping_spec, overrides_for
from syncer.http import ApiError
from syncer.models import LedgerItem
from syncer.sync import ledger

logger = logging.getLogger("syncer.sync")


@dataclass
class Moves:
    ours: list[tuple[LedgerItem, Target | None]] = field(default_factory=list)  # posted here: taken off
    theirs: list[tuple[LedgerItem, Target | None]] = field(default_factory=list)  # present: left there
    unmoved: list[LedgerItem] = field(default_factory=list)  # checked: where they belong

    @property
    def rows(self) -> list[LedgerItem]:
        return [row for row, _ in [*self.ours, *self.theirs]]


def moved(rows: Sequence[LedgerItem], *, specs: dict[int, MappingSpec], seasons: dict[int, list],
          overrides: dict[int, dict[int, tuple[int, int]]]) -> Moves:
    """Pure: which of `rows` (plays on Trakt) belong elsewhere now, and where."""
    out = Moves()
    for row in rows:
        spec = specs.get(row.anilist_id)
        if spec is None:
            continue  # unmapped now: nothing says where it belongs
        same = spec.trakt_id == row.trakt_id and (spec.kind == "movie") == (row.kind == "movie")
        shows = seasons.get(spec.trakt_id)
        if same and spec.kind == "show" and shows is None:
            continue  # no season list to place it with: left as it is, checked again next run
        target = place_episode(spec=spec, seasons=shows, overrides=overrides.get(row.anilist_id, {}),
                               episode=row.episode)
        if same and target is None:
            continue  # its episode is not in the season list: left as it is, checked again next run
        if same and (target.season, target.number) == (row.season, row.number):
            out.unmoved.append(row)
        else:
            (out.ours if row.state == LedgerItem.State.POSTED else out.theirs).append((row, target))
    return out


def moves_find(*, trakt) -> Moves:
    """The plays whose place changed: a handful of queries, and a season list read from Trakt
    only for a show whose list is not cached (once per show)."""
    rows = ledger.move_candidates()
    if not rows:
        return Moves()
    saved = Mapping.objects.in_bulk({r.anilist_id for r in rows})
    specs = {aid: spec for aid, row in saved.items() if (spec := mapping_spec(row)) is not None}
    shows = {spec.trakt_id for spec in specs.values() if spec.kind == "show"}
    seasons = cached_show_seasons(trakt_ids=shows)
    for trakt_id in sorted(shows - set(seasons)):
        try:
            seasons[trakt_id] = trakt_show_seasons(trakt_id=trakt_id, client=trakt)
        except ApiError as exc:
            logger.warning("Trakt show %s: its season list could not be read (%s): its plays are checked for "
                           "moves by the next run", trakt_id, exc)
    return moved(rows, specs=specs, seasons=seasons, overrides=overrides_for(anilist_ids=list(specs)))


def move_reason(target: Target | None, spec_of: Mapping | None) -> str:
    """The words of a `move` line (the line itself names the old place)."""
    if target is not None and target.kind == "episode":
        return f"belongs on Trakt show {target.trakt_id} S{target.season}E{target.number} now: taken off here, posted there"
    if target is not None:
        return f"belongs on Trakt movie {target.trakt_id} now: taken off here, posted there"
    where = f"Trakt {spec_of.type} {spec_of.trakt_id}" if spec_of is not None else "another Trakt item"
    return f"mapped to {where} now: taken off here"
