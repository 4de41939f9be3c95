"""The pipelined run: every entry passes the same stages, and a show is planned, stored and
posted as soon as its entries' mappings and its season list are known, while the next entries
are still being resolved and the next shows' lists read.

Trakt limits reads (1,000 GETs per 5 minutes) and writes (1 POST a second) separately, so a
run that read every list first and posted afterwards took the sum of both; reading in a
thread of its own while this one posts takes the slower of the two.

The plan is made per Trakt show: every entry mapped to one show is planned together, because
two entries landing on the same Trakt episode post it once and the episodes two entries both
claim are held for both, and neither can be decided from one entry. So the entries are put in
`resolution_groups` by the ids known before any request (the rule in `syncer.sync.resolving`),
the thread (`Resolving`) takes the groups in the order of their first event (resolving the
entries without a usable saved mapping, then reading the season lists of the group's shows),
and the run's thread plans each show in the order of its first event once the groups of its
entries are taken over. An entry that Trakt's answer puts on a show already planned is left to
the next run (`LATE`), never planned on it. A preview goes through the same loop and posts
nothing, so it stores the same items in the same order as the run.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connections

from logs.context import current_run_id, log_to_run
from syncer.http import unobserved
from syncer.sync.events import WatchEvent

READING = "Reading Trakt seasons"
RESOLVING = "Resolving mappings"
POSTING = "Posting to Trakt"
# The steps of a pipelined run. The page and the CLI name the step and count the plays from
# the run's rows, so no step carries a count of its own there.
STEPS = (READING, RESOLVING, POSTING)
# The reason of an entry resolved onto a show this run had already planned (see `resolution_groups`).
LATE = "resolved to Trakt {kind} {trakt_id} after this run had planned it: synced by the next run"


@dataclass
class ShowGroup:
    """The events of one Trakt show (or of one unmapped entry, or one movie)."""
    key: tuple
    trakt_show: int | None  # the show whose season list the plan needs; None for the others
    events: list[WatchEvent] = field(default_factory=list)

    @property
    def anilist_ids(self) -> list[int]:
        return list(dict.fromkeys(e.anilist_id for e in self.events))


class Stopped(Exception):
    """The run no longer wants the reads (raised before a request or a retry goes out)."""


class SeasonReader:
    """Reads (`read(item, before_send=...)`) in a thread of its own, item after item, and puts
    each result on a queue in order. The thread leaves the database to the caller (which stores
    what it reads), so every write of the run stays in the run's own thread and transaction
    rules.

    A read's error is handed over like a result, to be raised in the caller's thread.
    `stop()` (also on leaving the `with` block) makes the thread give up before its next read
    or retry, and leaving the block waits for it: a run that ends, fails or loses its lease
    leaves no thread behind still asking Trakt (and logging its retries)."""

    def __init__(self, items: Sequence, *, read: Callable[..., object]):
        self._todo = list(items)
        self._read = read
        self._results: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name="season-reader", daemon=True)
        self.done = 0  # items read so far (the reading stream of the progress line)
        self._run_id = current_run_id.get()  # the thread's log lines belong to the run too

    def __enter__(self) -> SeasonReader:
        if self._todo:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        if self._thread.is_alive():
            self._thread.join(settings.HTTP_TIMEOUT_SECONDS + 5)  # at most one request is in flight

    def stop(self) -> None:
        self._stop.set()

    @property
    def total(self) -> int:
        return len(self._todo)

    def _work(self) -> None:
        try:
            # This thread writes nothing: the outcome of its reads is not recorded as the
            # service's status (that row may be locked by the run's thread, which waits on us).
            with unobserved(), log_to_run(self._run_id):
                self._read_all()
        finally:
            # The HTTP layer's log lines (a retry, a 429) may reach the database log handler,
            # which opens a connection of this thread's own: it ends with the thread.
            connections.close_all()

    def _read_all(self) -> None:
        for item in self._todo:
            if self._stop.is_set():
                return
            try:
                result = self._read(item, before_send=self._go_on)
            except Stopped:
                return
            except Exception as exc:  # noqa: BLE001 - raised again in the run's thread, where it is recorded
                self._results.put((item, exc))
                return
            self.done += 1  # only this thread writes it
            self._results.put((item, result))

    def _go_on(self) -> None:
        if self._stop.is_set():
            raise Stopped()


def resolution_groups(entries: Sequence[int], tokens: dict[int, set]) -> list[list[int]]:
    """The entries whose Trakt show is resolved (or confirmed) together, in the order of each
    group's first entry: two entries sharing any token (a dataset's or a saved mapping's TMDB,
    TVDB, IMDb or Trakt id) are in one group, directly or through others. An entry without a
    token is a group of its own."""
    parent = {e: e for e in entries}
    position = {e: n for n, e in enumerate(entries)}

    def root(e):
        while parent[e] != e:
            parent[e] = parent[parent[e]]
            e = parent[e]
        return e

    owner: dict = {}
    for entry in entries:
        for token in tokens.get(entry, ()):
            other = owner.setdefault(token, entry)
            first, second = sorted((root(other), root(entry)), key=position.__getitem__)
            parent[second] = first
    groups: dict = {}
    for entry in entries:
        groups.setdefault(root(entry), []).append(entry)
    return list(groups.values())


class Resolving(SeasonReader):
    """Takes the `resolution_groups` one after the other in a thread of its own (`resolve(n,
    before_send=...)` for group n: its entries resolved, its shows' season lists read) and hands
    each outcome over in order (`wait`). What the thread needs from the database (the air
    dates it fetches once, the mapped relatives of an entry) it asks of the run's thread
    (`ask`), which answers while it waits for a group; the thread itself touches no database.
    Outcomes and questions share one queue, so a question is answered only after every group
    resolved before it is taken over (a relative resolved earlier in the run is saved by then)."""

    def __init__(self, count: int, *, resolve: Callable, absorb: Callable[[int, object], None]):
        super().__init__(list(range(count)), read=resolve)
        self._thread.name = "mapping-resolver"
        self._absorb = absorb
        self.absorbed = 0  # groups handed over to the run's thread, in order

    def ask(self, question: Callable[[], object]):
        """In the reading thread: `question()` answered by the run's thread."""
        answer: queue.Queue = queue.Queue(maxsize=1)
        self._results.put((_ASKED, (question, answer)))
        while True:
            self._go_on()
            try:
                ok, value = answer.get(timeout=0.1)
            except queue.Empty:
                continue
            if ok:
                return value
            raise value

    def wait(self, index: int, *, waiting: Callable[[], None], every: float = 1.0) -> None:
        """In the run's thread: until group `index` is taken over, with every outcome that
        arrived before it returns; `waiting()` each time nothing arrives for `every` seconds,
        so the caller can post meanwhile."""
        while True:
            try:
                got, result = self._results.get(block=self.absorbed <= index, timeout=every)
            except queue.Empty:
                if self.absorbed > index:
                    return
                waiting()
                continue
            if got is _ASKED:
                question, answer = result
                try:
                    answer.put((True, question()))
                except Exception as exc:  # noqa: BLE001 - raised again in the reading thread
                    answer.put((False, exc))
            elif isinstance(result, Exception):
                raise result
            else:
                self._absorb(got, result)
                self.absorbed = got + 1


_ASKED = object()  # marks a question on the results queue


def step(*, read: int, to_read: int, reading: str = READING) -> str:
    """The step a pipelined run is in, in words: the reading stream's while it still reads (the
    posts go on meanwhile), then posting."""
    return reading if to_read and read < to_read else POSTING
