"""Air dates against a dataset's start: confirmed, corrected by k, refused (mappings/airdates.py).

Dates are realistic: Re:Zero's cours as they aired in Japan (TMDB files them all in season 1),
a split cour resuming months later, a double-episode week, a season dropped on one day."""

from datetime import date, timedelta

import pytest

from mappings.airdates import day_of, place_by_dates, recheck_start, verify_start
from syncer.clients.trakt import Season
from tests.mappings.support import aired_season, broadcasts, schedule

# Re:Zero (TMDB S1 holds every cour): 25 from 2016-04-04, S2 Part 1 13 from 2020-07-08,
# S2 Part 2 12 from 2021-01-06 (the split cour, six months later), S3 16 from 2024-10-02.
REZERO_S1 = broadcasts("2016-04-04", 25)
REZERO_S2_P1 = broadcasts("2020-07-08", 13)
REZERO_S2_P2 = broadcasts("2021-01-06", 12)
REZERO_S3 = broadcasts("2024-10-02", 16)


def rezero(days_later: int = 0) -> list[Season]:
    return [Season(0, tuple(range(1, 12))),
            aired_season(1, REZERO_S1 + REZERO_S2_P1 + REZERO_S2_P2 + REZERO_S3, days_later=days_later)]


@pytest.mark.parametrize("what, start, entry, days_later, outcome, corrected", [
    ("Re:Zero S2 Part 1 where AniBridge puts it", (1, 26), REZERO_S2_P1, 0, "confirmed", None),
    ("Re:Zero S2 Part 1 where Fribb puts it (one late)", (1, 27), REZERO_S2_P1, 0, "corrected", (1, 26)),
    ("the same with TMDB dating each episode a day after Japan", (1, 27), REZERO_S2_P1, 1, "corrected", (1, 26)),
    ("Re:Zero S2 Part 2 one early, across the six-month break", (1, 38), REZERO_S2_P2, 0, "corrected", (1, 39)),
    ("Re:Zero S2 Part 2 where it is", (1, 39), REZERO_S2_P2, 1, "confirmed", None),
    ("Re:Zero S3 three late", (1, 54), REZERO_S3, 0, "corrected", (1, 51)),
])
def test_a_dataset_start_is_checked_against_when_the_episodes_aired(what, start, entry, days_later, outcome,
                                                                      corrected):
    verdict = verify_start(rezero(days_later), start, _days(schedule(entry)), len(entry))
    assert verdict.outcome == outcome, what
    assert verdict.start == (corrected or start)


def test_a_correction_says_which_episode_aired_when_on_each_side():
    verdict = verify_start(rezero(), (1, 27), _days(schedule(REZERO_S2_P1)), 13)
    assert verdict.reason == "episode 1 aired 2020-07-08 on AniList, Trakt S1E27 on 2020-07-15"


def test_a_double_episode_week_agrees_on_both_sides():
    # Episodes 1 and 2 air back to back on the first night; Trakt dates both that day.
    times = broadcasts("2023-01-07", 12, doubles=(2,))
    layout = [aired_season(1, broadcasts("2022-04-02", 12)), aired_season(2, times)]
    assert verify_start(layout, (2, 1), _days(schedule(times)), 12).outcome == "confirmed"
    late = verify_start(layout, (2, 2), _days(schedule(times)), 12)
    assert (late.outcome, late.start) == ("corrected", (2, 1))


def test_a_start_nothing_agrees_with_is_refused_with_a_reason_a_person_can_act_on():
    # Trakt dates the season a year after AniList's broadcasts: no run of it matches.
    times = broadcasts("2020-07-08", 13)
    layout = [aired_season(1, broadcasts("2021-07-07", 13))]
    verdict = verify_start(layout, (1, 1), _days(schedule(times)), 13)
    assert verdict.outcome == "refuted"
    assert verdict.start is None
    assert "air dates disagree with S1E1" in verdict.reason and "map it manually" in verdict.reason
    assert "episode 1 aired 2020-07-08 on AniList, Trakt S1E1 on 2021-07-07" in verdict.reason


def test_a_recap_trakt_counts_and_anilist_does_not_refutes_the_run_after_it():
    # TMDB files a recap as episode 7 (aired in the week AniList skipped); AniList's 12 episodes
    # then sit one Trakt episode further on from episode 7: half the run is a week off.
    anilist = broadcasts("2022-10-01", 13)
    del anilist[6]
    trakt = [aired_season(1, broadcasts("2022-10-01", 13))]
    verdict = verify_start(trakt, (1, 1), _days(schedule(anilist)), 12)
    assert verdict.outcome == "refuted"


def test_a_season_dropped_on_one_day_confirms_nothing():
    # Every episode on the same day: any start inside the season "agrees", so the dataset's
    # start stands as it did before (neither confirmed nor corrected).
    drop = broadcasts("2023-07-20", 10, every_days=0)
    layout = [aired_season(1, broadcasts("2021-07-22", 10, every_days=0)), aired_season(2, drop)]
    for start in ((2, 1), (2, 2)):
        verdict = verify_start(layout, start, _days(schedule(drop)), 10)
        assert (verdict.outcome, verdict.start) == ("unknown", start)


@pytest.mark.parametrize("what, seasons, entry", [
    ("too few episodes dated on AniList", rezero(), schedule(REZERO_S2_P1[:2])),
    ("Trakt has no dates", [Season(1, tuple(range(1, 67)))], schedule(REZERO_S2_P1)),
    ("no AniList dates at all", rezero(), {}),
])
def test_too_few_dates_say_nothing_and_the_dataset_is_followed(what, seasons, entry):
    verdict = verify_start(seasons, (1, 27), _days(entry), 13)
    assert verdict.outcome == "unknown", what
    assert verdict.start in (None, (1, 27))


def test_specials_are_never_checked():
    layout = [aired_season(0, REZERO_S2_P1), aired_season(1, REZERO_S1)]
    assert verify_start(layout, (0, 2), _days(schedule(REZERO_S2_P1)), 13).outcome == "unknown"


def test_a_sequel_with_no_dataset_start_is_placed_where_its_dates_match_one_run():
    assert place_by_dates(rezero(), _days(schedule(REZERO_S3)), 16) == ((1, 51), "")
    assert place_by_dates(rezero(1), _days(schedule(REZERO_S2_P2)), 12) == ((1, 39), "")


def test_an_airing_sequel_is_placed_from_the_episodes_aired_so_far():
    # Four episodes aired; Trakt already lists (undated) the rest of the season.
    layout = [aired_season(1, REZERO_S1), aired_season(2, REZERO_S3[:4] + [None] * 12)]
    assert place_by_dates(layout, _days(schedule(REZERO_S3[:4])), None) == ((2, 1), "")


def test_a_drop_day_season_or_a_dateless_show_places_nothing():
    drop = broadcasts("2023-07-20", 10, every_days=0)
    layout = [aired_season(1, broadcasts("2021-07-22", 10)), aired_season(2, drop + drop)]
    start, why = place_by_dates(layout, _days(schedule(drop)), 10)
    # S1E10 is one of them too: the season's last episode, then nine of the drop (9 of 10 agree).
    assert start is None and why.startswith("its air dates match several runs of Trakt episodes equally (")
    assert "S2E1," in why
    start, why = place_by_dates([Season(1, tuple(range(1, 13)))], _days(schedule(drop)), 10)
    assert start is None and why == "no run of Trakt episodes aired when its episodes did"


def test_dates_are_days_in_utc_whatever_form_they_come_in():
    assert day_of("2020-07-08T13:30:00.000Z") == date(2020, 7, 8).toordinal()
    assert day_of("2020-07-08") == date(2020, 7, 8).toordinal()
    assert day_of(1594215000) == date(2020, 7, 8).toordinal()  # 22:30 JST = 13:30 UTC
    assert day_of(None) is None and day_of("soon") is None


def _days(raw: dict[int, int]) -> dict[int, int]:
    return {e: day_of(t) for e, t in raw.items()}


# --- a start the dates gave, checked again on a newer season list ------------------------------

def test_a_start_the_dates_gave_is_confirmed_while_it_is_still_the_only_run_that_agrees():
    verdict = recheck_start(rezero(), (1, 51), _days(schedule(REZERO_S3)), 16)
    assert (verdict.outcome, verdict.start) == ("confirmed", (1, 51))


def test_a_start_the_dates_gave_moves_where_the_one_agreeing_run_is_now():
    # TMDB inserted a recap, aired the week before S3, as S1E51: S3 is S1E52-67 now.
    recap = broadcasts("2024-09-25", 1)
    layout = [aired_season(1, REZERO_S1 + REZERO_S2_P1 + REZERO_S2_P2 + recap + REZERO_S3)]
    verdict = recheck_start(layout, (1, 51), _days(schedule(REZERO_S3)), 16)
    assert (verdict.outcome, verdict.start, verdict.reason) == (
        "corrected", (1, 52), "only S1E52 aired when its episodes did now")


def test_a_start_the_dates_gave_is_refuted_once_two_runs_agree():
    # TMDB filed S3 as a season 2 of its own and kept it in S1 as well.
    layout = rezero() + [aired_season(2, REZERO_S3)]
    verdict = recheck_start(layout, (1, 51), _days(schedule(REZERO_S3)), 16)
    assert (verdict.outcome, verdict.start) == ("refuted", None)
    assert verdict.reason == "its air dates now match several runs of Trakt episodes equally (S1E51, S2E1)"


def test_a_start_the_dates_gave_is_refuted_when_no_run_agrees_any_more():
    layout = [Season(0, tuple(range(1, 12))),
              aired_season(1, REZERO_S1 + REZERO_S2_P1 + REZERO_S2_P2 + broadcasts("2025-10-01", 16))]
    verdict = recheck_start(layout, (1, 51), _days(schedule(REZERO_S3)), 16)
    assert verdict.outcome == "refuted"
    assert verdict.reason == ("no run of Trakt episodes aired when its episodes did any more (episode 1 aired "
                              "2024-10-02 on AniList, Trakt S1E51 on 2025-10-01)")


@pytest.mark.parametrize("what, dated", [("no AniList dates", 0), ("two dated episodes", 2)])
def test_a_start_the_dates_gave_stands_when_the_dates_say_nothing_now(what, dated):
    layout = rezero() + [aired_season(2, REZERO_S3)]  # would be ambiguous, were enough dates compared
    verdict = recheck_start(layout, (1, 51), _days(schedule(REZERO_S3[:dated])), 16)
    assert verdict.outcome == "unknown", what


# --- a run that agrees apart from one odd date ------------------------------------------------
# Re:Zero S3's 16 episodes, the first shown a week early on AniList (an advance premiere) while
# TMDB dates it with the broadcast: 15 of 16 dates agree, which is a run that agrees.
EARLY_PREMIERE = [REZERO_S3[0] - timedelta(days=7)] + REZERO_S3[1:]
ODD_DATE = "episode 1 aired 2024-09-25 on AniList, Trakt S1E51 on 2024-10-02"


def test_a_start_whose_run_agrees_apart_from_an_early_premiere_is_confirmed_and_the_odd_date_named():
    verdict = verify_start(rezero(), (1, 51), _days(schedule(EARLY_PREMIERE)), 16)
    assert (verdict.outcome, verdict.start, verdict.reason) == ("confirmed", (1, 51), ODD_DATE)


def test_a_start_one_off_is_corrected_to_the_run_that_agrees_apart_from_an_early_premiere():
    verdict = verify_start(rezero(), (1, 52), _days(schedule(EARLY_PREMIERE)), 16)
    assert (verdict.outcome, verdict.start) == ("corrected", (1, 51))


def test_an_entry_with_an_early_premiere_is_placed_by_dates_and_the_odd_date_named():
    assert place_by_dates(rezero(), _days(schedule(EARLY_PREMIERE)), 16) == ((1, 51), ODD_DATE)


def test_a_start_the_dates_gave_still_stands_with_an_early_premiere():
    verdict = recheck_start(rezero(), (1, 51), _days(schedule(EARLY_PREMIERE)), 16)
    assert (verdict.outcome, verdict.start) == ("confirmed", (1, 51))


def test_runs_that_each_agree_apart_from_one_date_are_still_several_runs():
    # S3 twice: as broadcast, and with the premiere's early date but episode 6 re-dated a month
    # later. Each run agrees apart from one date: the dates cannot choose.
    moved = EARLY_PREMIERE[:5] + [REZERO_S3[5] + timedelta(days=30)] + REZERO_S3[6:]
    layout = [aired_season(1, REZERO_S3), aired_season(2, moved)]
    start, why = place_by_dates(layout, _days(schedule(EARLY_PREMIERE)), 16)
    assert start is None and why.startswith("its air dates match several runs of Trakt episodes equally")
