"""Air dates in resolution, through the real clients against the loopback fakes: a dataset's
off-by-one start is corrected, an entry nothing agrees with is held, the cost in requests."""

from datetime import UTC, timedelta

import pytest

from mappings.manual import mapping_set_manual
from mappings.models import AiringScheduleCache, FribbEntry, Mapping
from mappings.services import mapping_resolve, mapping_resolve_many
from tests.mappings.support import broadcasts, media, schedule

REZERO = 104310
REZERO_TMDB = 65942
# Every Re:Zero cour in TMDB's S1: 25 from 2016-04-04, S2 Part 1 13 from 2020-07-08, S2 Part 2
# 12 from 2021-01-06, S3 16 from 2024-10-02 (as broadcast in Japan).
COURS = [broadcasts("2016-04-04", 25), broadcasts("2020-07-08", 13), broadcasts("2021-01-06", 12),
         broadcasts("2024-10-02", 16)]
S2_PART1 = 108632


def first_aired(days_later: int = 0) -> dict[tuple[int, int], str]:
    """Trakt's first_aired for S1E1-66: the broadcast in UTC, or TMDB's date a day later."""
    times = [t for cour in COURS for t in cour]
    return {(1, n): (t + timedelta(days=days_later)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            for n, t in enumerate(times, start=1)}


def rezero_on_trakt(fake_trakt, *, aired=None):
    fake_trakt.add_show(REZERO, title="Re:ZERO -Starting Life in Another World-", ids={"tmdb": REZERO_TMDB},
                        seasons={0: 11, 1: 66}, aired=first_aired() if aired is None else aired)


def fribb_says(anilist_id: int, offset: int) -> None:
    """Fribb's row as the datasets have it for Re:Zero S2 Part 1: TMDB S1, offset 26 (E27)."""
    FribbEntry.objects.create(anilist_id=anilist_id, kind="TV", tmdb_tv=REZERO_TMDB, tmdb_season=1,
                              tmdb_offset=offset, has_season_data=True)


@pytest.fixture
def s2_part1_dated(fake_anilist):
    fake_anilist.schedules[S2_PART1] = schedule(COURS[1])
    return fake_anilist


@pytest.mark.django_db
@pytest.mark.parametrize("days_later", [0, 1])
def test_fribbs_off_by_one_start_is_corrected_by_air_dates(fake_trakt, s2_part1_dated, days_later):
    rezero_on_trakt(fake_trakt, aired=first_aired(days_later))
    fribb_says(S2_PART1, 26)
    row = mapping_resolve(media=media(S2_PART1, format="TV", episodes=13))
    assert (row.trakt_id, row.start_season, row.start_episode) == (REZERO, 1, 26)
    assert row.source == f"fribb tmdb {REZERO_TMDB}; start fribb S1E27, corrected to S1E26 by air dates"
    assert row.placed_by_dates
    # One season-list read (as before, now with its dates) and one AniList request for the dates.
    assert len(fake_trakt.requests_to(rf"/shows/{REZERO}/seasons")) == 1
    assert fake_trakt.requests_to(rf"/shows/{REZERO}/seasons")[0].query["extended"] == "full,episodes"
    assert len(s2_part1_dated.graphql_requests("airingSchedule")) == 1


@pytest.mark.django_db
def test_a_start_the_dates_confirm_is_kept_as_the_dataset_gave_it(fake_trakt, s2_part1_dated):
    rezero_on_trakt(fake_trakt)
    fribb_says(S2_PART1, 25)
    row = mapping_resolve(media=media(S2_PART1, format="TV", episodes=13))
    assert (row.start_season, row.start_episode, row.source) == (1, 26, f"fribb tmdb {REZERO_TMDB}; start fribb")
    assert not row.placed_by_dates


@pytest.mark.django_db
def test_an_entry_no_run_of_trakt_episodes_agrees_with_is_held_with_the_reason(fake_trakt, fake_anilist):
    rezero_on_trakt(fake_trakt)
    fribb_says(S2_PART1, 26)
    fake_anilist.schedules[S2_PART1] = schedule(broadcasts("2019-07-10", 13))  # a year before anything
    row = mapping_resolve(media=media(S2_PART1, format="TV", episodes=13))
    assert row.trakt_id is None and row.held_trakt_id == REZERO
    assert row.unmapped_reason == (
        "fribb: air dates disagree with S1E27 (episode 1 aired 2019-07-10 on AniList, Trakt S1E27 on 2020-07-15) "
        "and no other run of Trakt episodes matches them: map it manually")


@pytest.mark.django_db
def test_without_trakt_dates_the_dataset_is_followed_and_anilist_is_not_asked(fake_trakt, s2_part1_dated):
    rezero_on_trakt(fake_trakt, aired={})
    fribb_says(S2_PART1, 26)
    row = mapping_resolve(media=media(S2_PART1, format="TV", episodes=13))
    assert (row.start_season, row.start_episode) == (1, 27)
    assert not s2_part1_dated.graphql_requests("airingSchedule")


@pytest.mark.django_db
def test_when_anilist_cannot_give_dates_the_dataset_is_followed_as_before(fake_trakt, s2_part1_dated):
    rezero_on_trakt(fake_trakt)
    fribb_says(S2_PART1, 26)
    s2_part1_dated.fail(r"/", status=500, times=None)
    row = mapping_resolve(media=media(S2_PART1, format="TV", episodes=13))
    assert (row.start_season, row.start_episode) == (1, 27)
    assert not AiringScheduleCache.objects.exists()


@pytest.mark.django_db
def test_schedules_are_asked_in_batches_and_cached(fake_trakt, fake_anilist):
    rezero_on_trakt(fake_trakt)
    from syncer.clients.anilist import SCHEDULE_BATCH

    medias = [media(S2_PART1, format="TV", episodes=13)] + [
        media(900_000 + i, format="TV", episodes=12) for i in range(SCHEDULE_BATCH)]
    fake_anilist.schedules[S2_PART1] = schedule(COURS[1])
    fribb_says(S2_PART1, 26)
    for m in medias[1:]:
        fribb_says(m.id, 0)
    mapping_resolve_many(medias=medias)
    assert len(fake_anilist.graphql_requests("airingSchedule")) == 2  # 51 entries, 50 per request
    assert AiringScheduleCache.objects.get(pk=S2_PART1).aired[0] == [1, int(COURS[1][0].timestamp())]
    mapping_resolve_many(medias=medias[:1], force=True)
    assert len(fake_anilist.graphql_requests("airingSchedule")) == 2  # a complete schedule is never asked again


@pytest.mark.django_db
def test_a_manual_mapping_is_never_corrected_by_air_dates(fake_trakt, s2_part1_dated):
    rezero_on_trakt(fake_trakt)
    fribb_says(S2_PART1, 26)
    mapping_set_manual(anilist_id=S2_PART1, trakt_id=REZERO, kind=Mapping.Type.SHOW, start_season=1, start_episode=27)
    row = mapping_resolve(media=media(S2_PART1, format="TV", episodes=13), force=True)
    assert (row.start_season, row.start_episode, row.source) == (1, 27, "manual")
    assert not s2_part1_dated.graphql_requests("airingSchedule")


@pytest.mark.django_db
def test_a_movie_follows_the_datasets_and_costs_no_dates(fake_trakt, s2_part1_dated):
    fake_trakt.add_movie(224301, title="Your Name", ids={"tmdb": 372058})
    FribbEntry.objects.create(anilist_id=21519, kind="MOVIE", tmdb_movies="372058")
    row = mapping_resolve(media=media(21519, format="MOVIE", episodes=1))
    assert (row.type, row.trakt_id) == ("movie", 224301)
    assert not s2_part1_dated.graphql_requests("airingSchedule")


@pytest.mark.django_db
def test_each_play_of_an_entry_the_dates_corrected_says_so_in_the_preview(fake_trakt, s2_part1_dated):
    from datetime import datetime

    from mappings.selectors import mapping_spec
    from syncer.sync.events import WatchEvent
    from syncer.sync.plan import POST, build_plan

    rezero_on_trakt(fake_trakt)
    fribb_says(S2_PART1, 26)
    row = mapping_resolve(media=media(S2_PART1, format="TV", episodes=13))
    watched = datetime(2024, 5, 1, tzinfo=UTC)
    items = build_plan(events=[WatchEvent(S2_PART1, 1, watched, "Re:Zero S2")], mappings={S2_PART1: mapping_spec(row)},
                       unmapped={}, seasons={}, overrides={}, progress={})
    assert [(i.action, i.target.season, i.target.number, i.reason) for i in items] == [
        (POST, 1, 26, "start fribb S1E27, corrected to S1E26 by air dates")]


# --- placing what no dataset knows yet --------------------------------------------------------

S2_PART2, S3 = 119661, 163134


def prequel_mapped() -> Mapping:
    return Mapping.objects.create(anilist_id=S2_PART2, title="Re:Zero S2 Part 2", type="show", trakt_id=REZERO,
                                  trakt_title="Re:ZERO -Starting Life in Another World-", trakt_slug="re-zero",
                                  start_season=1, start_episode=39, episodes=12,
                                  source=f"anibridge tmdb {REZERO_TMDB}; start anibridge")


@pytest.mark.django_db
def test_a_sequel_no_dataset_knows_is_placed_next_to_its_prequel_by_air_dates(fake_trakt, fake_anilist):
    rezero_on_trakt(fake_trakt)
    prequel_mapped()
    fake_anilist.schedules[S3] = schedule(COURS[3][:5])  # still airing: five episodes so far
    fake_anilist.relations[S3] = [(S2_PART2, "PREQUEL"), (21355, "PARENT"), (999, "SIDE_STORY")]
    row = mapping_resolve(media=media(S3, format="TV", episodes=16))
    assert (row.trakt_id, row.start_season, row.start_episode) == (REZERO, 1, 51)
    assert row.source == f"air dates S1E51 (prequel AniList {S2_PART2})"
    assert (row.trakt_slug, row.unmapped_reason, row.placed_by_dates) == ("re-zero", "", True)
    assert len(fake_trakt.requests_to(rf"/shows/{REZERO}/seasons")) == 1
    assert not fake_trakt.requests_to(r"/search/")  # nothing to search: no dataset knows it


@pytest.mark.django_db
def test_a_season_the_datasets_know_without_a_start_is_placed_on_their_show_by_air_dates(fake_trakt, fake_anilist):
    rezero_on_trakt(fake_trakt)
    FribbEntry.objects.create(anilist_id=S3, kind="TV", tmdb_tv=REZERO_TMDB)  # the show, no season yet
    fake_anilist.schedules[S3] = schedule(COURS[3])
    row = mapping_resolve(media=media(S3, format="TV", episodes=16))
    assert (row.trakt_id, row.start_season, row.start_episode) == (REZERO, 1, 51)
    assert row.source == f"fribb tmdb {REZERO_TMDB}; start air dates S1E51"


@pytest.mark.django_db
def test_a_sequel_dropped_on_one_day_stays_unmapped_with_the_reason(fake_trakt, fake_anilist):
    drop = broadcasts("2024-10-02", 16, every_days=0)
    aired = {**first_aired(), **{(1, 50 + n): t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
                                 for n, t in enumerate(drop, start=1)}}
    rezero_on_trakt(fake_trakt, aired=aired)
    prequel_mapped()
    fake_anilist.schedules[S3] = schedule(drop)
    fake_anilist.relations[S3] = [(S2_PART2, "PREQUEL")]
    row = mapping_resolve(media=media(S3, format="TV", episodes=16))
    assert row.trakt_id is None
    # S1E50 too: S2 Part 2's last episode, then fifteen of the drop (15 of 16 agree).
    assert row.unmapped_reason == (
        f"no source knows this entry; air dates: Trakt show {REZERO}: its air dates match several runs of "
        "Trakt episodes equally (S1E50, S1E51, S1E52, S1E53)")


@pytest.mark.django_db
def test_a_sequel_without_dates_or_without_a_mapped_relative_stays_unmapped_as_before(fake_trakt, fake_anilist):
    rezero_on_trakt(fake_trakt)
    prequel_mapped()
    fake_anilist.relations[S3] = [(S2_PART2, "PREQUEL")]  # announced, nothing aired yet
    assert mapping_resolve(media=media(S3, format="TV", episodes=16)).unmapped_reason == "no source knows this entry"
    fake_anilist.schedules[4242] = schedule(COURS[3])
    fake_anilist.relations[4242] = [(S2_PART2, "SIDE_STORY")]
    assert mapping_resolve(media=media(4242, format="TV", episodes=16)).unmapped_reason == "no source knows this entry"


@pytest.mark.django_db
def test_an_ova_or_movie_sequel_is_never_placed_by_dates(fake_trakt, fake_anilist):
    rezero_on_trakt(fake_trakt)
    prequel_mapped()
    fake_anilist.schedules[S3] = schedule(COURS[3])
    fake_anilist.relations[S3] = [(S2_PART2, "PREQUEL")]
    assert mapping_resolve(media=media(S3, format="OVA", episodes=16)).trakt_id is None


@pytest.mark.django_db
def test_a_dataset_that_later_knows_the_entry_takes_over_from_the_dates(fake_trakt, fake_anilist):
    rezero_on_trakt(fake_trakt)
    prequel_mapped()
    fake_anilist.schedules[S3] = schedule(COURS[3])
    fake_anilist.relations[S3] = [(S2_PART2, "PREQUEL")]
    assert mapping_resolve(media=media(S3, format="TV", episodes=16)).source.startswith("air dates")
    fribb_says(S3, 50)  # the next dataset refresh has the row
    row = mapping_resolve(media=media(S3, format="TV", episodes=16))
    assert (row.start_season, row.start_episode, row.source) == (1, 51, f"fribb tmdb {REZERO_TMDB}; start fribb")


# --- a first season no dataset knows: Trakt's text search, then the same unique match --------

FRIEREN = 198225


def frieren_media(anilist_id=154587, *, year=2023, fmt="TV"):
    from syncer.clients.anilist import AniListMedia, FuzzyDate

    return AniListMedia(id=anilist_id, id_mal=None, format=fmt, episodes=28, title_romaji="Sousou no Frieren",
                        title_english="Frieren: Beyond Journey's End", title_native=None, start_date=FuzzyDate(),
                        season_year=year)


def frieren_on_trakt(fake_trakt, trakt_id=FRIEREN, *, first="2023-09-29", year=2023):
    times = broadcasts(first, 28, doubles=(2, 3, 4))  # a four-episode premiere night
    fake_trakt.add_show(trakt_id, title="Frieren: Beyond Journey's End", year=year, seasons={1: 28},
                        aired={(1, n): t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
                               for n, t in enumerate(times, start=1)})
    return times


@pytest.mark.django_db
def test_a_first_season_no_dataset_knows_is_found_by_title_and_year_and_placed_by_dates(fake_trakt, fake_anilist):
    times = frieren_on_trakt(fake_trakt)
    fake_anilist.schedules[154587] = schedule(times)
    row = mapping_resolve(media=frieren_media())
    assert (row.trakt_id, row.start_season, row.start_episode) == (FRIEREN, 1, 1)
    assert row.source == "trakt search title \"Frieren: Beyond Journey's End\" 2023; start air dates S1E1"
    search = fake_trakt.requests_to(r"/search/show")[0]
    assert (search.query["query"], search.query["years"]) == ("Frieren: Beyond Journey's End", "2023")


@pytest.mark.django_db
def test_a_title_search_whose_shows_do_not_match_the_dates_places_nothing(fake_trakt, fake_anilist):
    frieren_on_trakt(fake_trakt)
    fake_anilist.schedules[154587] = schedule(broadcasts("2022-09-30", 28))  # another show of that title
    row = mapping_resolve(media=frieren_media())
    assert row.trakt_id is None
    assert row.unmapped_reason == (f"no source knows this entry; air dates: Trakt show {FRIEREN}: no run of Trakt "
                                   "episodes aired when its episodes did")


@pytest.mark.django_db
def test_two_shows_of_one_title_with_the_same_dates_place_nothing(fake_trakt, fake_anilist):
    times = frieren_on_trakt(fake_trakt)
    frieren_on_trakt(fake_trakt, trakt_id=FRIEREN + 1)  # a duplicate Trakt entry of the same broadcasts
    fake_anilist.schedules[154587] = schedule(times)
    row = mapping_resolve(media=frieren_media())
    assert row.trakt_id is None
    assert "its air dates match runs on several Trakt shows" in row.unmapped_reason


@pytest.mark.django_db
def test_a_sequel_whose_prequel_is_not_mapped_is_never_searched_by_title(fake_trakt, fake_anilist):
    times = frieren_on_trakt(fake_trakt)
    fake_anilist.schedules[154587] = schedule(times)
    fake_anilist.relations[154587] = [(1, "PREQUEL")]  # a prequel no one mapped
    assert mapping_resolve(media=frieren_media()).trakt_id is None
    assert not fake_trakt.requests_to(r"/search/show")


@pytest.mark.django_db
def test_no_title_search_without_dates(fake_trakt, fake_anilist):
    frieren_on_trakt(fake_trakt)
    assert mapping_resolve(media=frieren_media()).unmapped_reason == "no source knows this entry"
    assert not fake_trakt.requests_to(r"/search/show")


@pytest.mark.django_db
def test_a_first_season_found_by_title_yields_to_a_dataset_that_later_knows_it(fake_trakt, fake_anilist):
    times = frieren_on_trakt(fake_trakt)
    fake_trakt.shows[FRIEREN]["ids"]["tmdb"] = 209867
    fake_anilist.schedules[154587] = schedule(times)
    assert mapping_resolve(media=frieren_media()).source.startswith("trakt search title")
    FribbEntry.objects.create(anilist_id=154587, kind="TV", tmdb_tv=209867, tmdb_season=1, tmdb_offset=0,
                              has_season_data=True)
    row = mapping_resolve(media=frieren_media())
    assert (row.trakt_id, row.start_episode, row.source) == (FRIEREN, 1, "fribb tmdb 209867; start fribb")


@pytest.mark.django_db
def test_a_correction_that_would_run_into_the_next_season_is_held_instead(fake_trakt, fake_anilist):
    weeks = broadcasts("2022-01-08", 25)  # S1 13 episodes, S2 12 more straight after
    fake_trakt.add_show(500, ids={"tmdb": 5000}, seasons={1: 13, 2: 12},
                        aired={(1 if i < 13 else 2, i + 1 if i < 13 else i - 12): t.astimezone(UTC).strftime(
                            "%Y-%m-%dT%H:%M:%S.000Z") for i, t in enumerate(weeks)})
    FribbEntry.objects.create(anilist_id=77, kind="TV", tmdb_tv=5000, tmdb_season=1, tmdb_offset=0,
                              has_season_data=True)
    fake_anilist.schedules[77] = schedule(weeks[2:14])  # aired as S1E3-S2E1
    row = mapping_resolve(media=media(77, format="TV", episodes=12))
    assert row.trakt_id is None and row.held_trakt_id == 500
    assert row.unmapped_reason == ("fribb: air dates put it at S1E3, which runs into the next Trakt season: "
                                   "map it manually")

# Re:Zero S3 with its premiere shown a week early on AniList: 15 of 16 dates agree.


@pytest.mark.django_db
def test_a_start_whose_run_agrees_apart_from_an_early_premiere_is_kept_and_names_the_odd_date(
        fake_trakt, fake_anilist):
    rezero_on_trakt(fake_trakt)
    fribb_says(S3, 50)
    fake_anilist.schedules[S3] = schedule([COURS[3][0] - timedelta(days=7)] + COURS[3][1:])
    row = mapping_resolve(media=media(S3, format="TV", episodes=16))
    assert (row.trakt_id, row.start_season, row.start_episode) == (REZERO, 1, 51)
    assert row.source == (f"fribb tmdb {REZERO_TMDB}; start fribb; one date differs: episode 1 aired "
                          "2024-09-25 on AniList, Trakt S1E51 on 2024-10-02")
    assert row.placed_by == "fribb" and not row.placed_by_dates


@pytest.mark.django_db
def test_an_entry_fribb_puts_one_late_with_an_early_premiere_is_corrected_not_held(fake_trakt, fake_anilist):
    rezero_on_trakt(fake_trakt)
    fribb_says(S3, 51)
    fake_anilist.schedules[S3] = schedule([COURS[3][0] - timedelta(days=7)] + COURS[3][1:])
    row = mapping_resolve(media=media(S3, format="TV", episodes=16))
    assert (row.trakt_id, row.held_trakt_id, row.start_season, row.start_episode) == (REZERO, None, 1, 51)
