"""Air-date properties over random shows (seeded, reproducible): a dated run shifted by a random
k is found again; a run that matches more than one place is never taken."""

import random
from datetime import date, timedelta

import pytest

from mappings.airdates import place_by_dates, verify_start
from syncer.clients.trakt import Season


def random_show(rng: random.Random) -> tuple[list[Season], list[tuple[int, int, int]]]:
    """1-5 regular seasons of weekly episodes (now and then a double-episode week), months
    apart, numbered from 1 per season; returns the seasons and the walking order with days."""
    day = date(2010, 1, 1).toordinal() + rng.randint(0, 3000)
    seasons, order = [], []
    for number in range(1, rng.randint(1, 5) + 1):
        count, aired = rng.randint(4, 26), []
        for n in range(1, count + 1):
            if not (n > 1 and rng.random() < 0.08):  # a double week: same day as the one before
                day += 7
            aired.append((n, day))
            order.append((number, n, day))
        seasons.append(Season(number, tuple(range(1, count + 1)), tuple(aired)))
        day += rng.randint(60, 400)
    return seasons, order


def entry_of(rng: random.Random, order, start: int, length: int) -> dict[int, int]:
    """The entry's AniList dates for that run: Japan's date, which TMDB may give a day later."""
    lag = rng.choice([0, 1])
    return {n: order[start + n - 1][2] - lag for n in range(1, length + 1)}


def distinct_days(order, start: int, length: int) -> bool:
    days = [d for _, _, d in order[start:start + length]]
    return len(set(days)) > 1


@pytest.mark.parametrize("seed", range(300))
def test_a_dated_run_shifted_by_a_random_k_is_found_again(seed):
    rng = random.Random(seed)
    layout, order = random_show(rng)
    while True:  # a run all on one day cannot be told from its neighbours (its own test)
        length = rng.randint(3, min(26, len(order)))
        start = rng.randint(0, len(order) - length)
        if distinct_days(order, start, length):
            break
    entry = entry_of(rng, order, start, length)
    truth = order[start][:2]
    shifts = [k for k in range(-start, len(order) - start - length + 1) if k]
    if not shifts:
        return  # the run is the whole show: there is nothing to shift it to
    wrong = order[start + rng.choice(shifts)][:2]
    verdict = verify_start(layout, wrong, entry, length)
    assert (verdict.outcome, verdict.start) == ("corrected", truth)
    assert verify_start(layout, truth, entry, length).outcome == "confirmed"
    assert place_by_dates(layout, entry, length) == (truth, "")


@pytest.mark.parametrize("seed", range(200))
def test_a_run_that_matches_two_places_is_never_taken(seed):
    # The same broadcasts listed twice (a rerun filed as a season of its own): two equally good
    # runs, so neither is placed, and a dataset start elsewhere is refused, not corrected.
    rng = random.Random(seed)
    layout, order = random_show(rng)
    last = layout[-1]
    rerun = Season(last.number + 1, last.episodes, last.aired)
    layout = layout + [rerun]
    order = order + [(rerun.number, n, d) for n, d in rerun.aired]
    length = min(len(last.episodes), rng.randint(3, 26))
    first = len(order) - 2 * len(last.episodes)
    entry = entry_of(rng, order, first, length)
    start, why = place_by_dates(layout, entry, length)
    assert start is None
    assert why.startswith("its air dates match several runs")
    elsewhere = [i for i in range(len(order)) if abs(order[i][2] - order[first][2]) > 1]
    if elsewhere:
        verdict = verify_start(layout, order[rng.choice(elsewhere)][:2], entry, length)
        assert verdict.outcome in ("refuted", "unknown")
        assert verdict.outcome != "corrected"


@pytest.mark.parametrize("seed", range(100))
def test_dates_from_another_year_never_place_or_correct_anything(seed):
    rng = random.Random(seed)
    layout, order = random_show(rng)
    length = rng.randint(3, min(26, len(order)))
    years_off = timedelta(days=rng.choice([-1, 1]) * 365 * rng.randint(30, 40)).days
    entry = {n: d + years_off for n, d in entry_of(rng, order, 0, length).items()}
    assert place_by_dates(layout, entry, length)[0] is None
    verdict = verify_start(layout, order[0][:2], entry, length)
    assert verdict.outcome == "refuted" and verdict.start is None
