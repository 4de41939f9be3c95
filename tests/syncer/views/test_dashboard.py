"""The dashboard `/` and its partials."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from syncer.models import SyncProgress, SyncRun, SyncRunItem

pytestmark = pytest.mark.django_db


def test_it_shows_the_last_real_run_of_each_mode_with_counts(staff_client):
    run = SyncRun.objects.create(mode="completed", state="succeeded", found=9, posted=4, already_synced=5)
    for n in range(9):
        action, state = ("post", "posted") if n < 4 else ("already_synced", "planned")
        SyncRunItem.objects.create(run=run, position=n, anilist_id=1, anilist_episode=n + 1, action=action,
                                   state=state)
    SyncRun.objects.create(mode="completed", state="succeeded", dry_run=True, found=77)
    failed = SyncRun.objects.create(mode="watching", state="failed", error="Reconnect Trakt.")
    html = staff_client.get("/").content.decode()
    assert "9 found" in html and "4 posted" in html and "77 found" not in html
    assert "Reconnect Trakt." in html and f'href="/runs/{failed.id}/"' in html
    assert html.count("Never run.") == 3  # incremental, single show and library (issue 10)


def test_the_runs_section_polls_only_while_a_run_is_active(staff_client):
    html = staff_client.get("/dashboard/runs/").content.decode()
    assert "hx-trigger" not in html
    run = SyncRun.objects.create(mode="incremental", state="running", progress_label="Posting to Trakt",
                                 progress_done=3, progress_total=10)
    SyncRunItem.objects.bulk_create([SyncRunItem(run=run, position=n, anilist_id=1, anilist_episode=n + 1,
                                                 action="post", state="posted" if n < 3 else "planned")
                                     for n in range(5)])
    html = staff_client.get("/dashboard/runs/").content.decode()
    assert "hx-trigger" in html and "is running: Posting to Trakt · posted 3 of 5 planned so far." in html


def test_it_shows_the_next_scheduled_jobs(staff_client):
    Schedule.objects.create(name="Incremental sync", func="syncer.tasks.sync_incremental",
                            schedule_type=Schedule.CRON, cron="0 */6 * * *",
                            next_run=timezone.now() + timedelta(hours=2))
    html = staff_client.get("/").content.decode()
    assert "Incremental sync: next" in html


def test_the_progress_table_searches_by_title_or_anilist_id_and_pages(staff_client):
    SyncProgress.objects.bulk_create(
        [SyncProgress(anilist_id=1000 + n, title=f"Show {n}", last_abs=n) for n in range(60)]
        + [SyncProgress(anilist_id=16498, title="Attack on Titan", last_abs=25)]
    )
    html = staff_client.get("/dashboard/progress/?q=titan").content.decode()
    assert "Attack on Titan" in html and "Show 1<" not in html
    html = staff_client.get("/dashboard/progress/?q=16498").content.decode()
    assert "Attack on Titan" in html
    html = staff_client.get("/dashboard/progress/?page=3").content.decode()
    assert "Page 3 of 3 (61 entries)" in html
    assert "Nothing matches “zzz”." in staff_client.get("/dashboard/progress/?q=zzz").content.decode()


def test_the_run_page_shows_a_finished_previews_plan_and_filters_it(staff_client):
    from syncer.models import SyncRunItem

    run = SyncRun.objects.create(mode="completed", state="succeeded", dry_run=True,
                                 finished_at=timezone.now())
    SyncRunItem.objects.create(run=run, position=1, anilist_id=16498, title="Attack on Titan",
                               anilist_episode=1, action="post", kind="episode", trakt_id=1420,
                               season=1, number=1, watched_at=timezone.now())
    SyncRunItem.objects.create(run=run, position=2, anilist_id=99, title="Obscure OVA",
                               anilist_episode=1, action="unmapped", reason="no source knows it")
    html = staff_client.get(f"/runs/{run.id}/").content.decode()
    assert "S01E01" in html and "no source knows it" in html
    assert "nothing is written to Trakt" in html
    assert "hx-trigger" not in html  # finished: no polling
    html = staff_client.get(f"/runs/{run.id}/?action=unmapped").content.decode()
    assert "Obscure OVA" in html and "S01E01" not in html


def test_a_running_runs_status_polls_and_hides_the_plan(staff_client):
    run = SyncRun.objects.create(mode="completed", state="running", progress_done=2, progress_total=5)
    html = staff_client.get(f"/runs/{run.id}/status/").content.decode()
    assert "every 1s" in html and "<table" not in html


def test_an_unknown_run_is_a_404(staff_client):
    assert staff_client.get("/runs/999/").status_code == 404


def test_the_dashboard_takes_a_fixed_number_of_queries_whatever_the_data(staff_client, django_assert_num_queries):
    from logs.models import LogEntry
    from mappings.models import Mapping

    SyncProgress.objects.create(anilist_id=999_999, title="one")
    staff_client.get("/")  # warm the session
    # session, user, last runs, active runs, schedules, sources, unmapped rows, mapped show rows
    # (disputed episodes), progress count + page
    with django_assert_num_queries(10):
        staff_client.get("/")
    runs = SyncRun.objects.bulk_create([SyncRun(mode=m, state="succeeded") for m in ["completed", "watching"] * 20])
    SyncProgress.objects.bulk_create([SyncProgress(anilist_id=n, title=f"T{n}") for n in range(1, 300)])
    Mapping.objects.bulk_create([Mapping(anilist_id=n, unmapped_reason="x") for n in range(1, 40)])
    Mapping.objects.bulk_create([Mapping(anilist_id=1000 + n, trakt_id=7000 + n // 2, type="show", start_season=1,
                                         start_episode=1, episodes=12) for n in range(20)])  # ten overlapping pairs
    LogEntry.objects.bulk_create([LogEntry(message="m", run=runs[0]) for _ in range(50)])
    # + the unmapped count, now that there are more than are shown, + the overrides and cached
    # seasons of the shows with two entries (one query each, whatever their number), + the last
    # runs' counts (one grouped query over their rows)
    with django_assert_num_queries(14):
        staff_client.get("/")
    with django_assert_num_queries(4):
        staff_client.get("/dashboard/progress/?q=T1&page=2")
    with django_assert_num_queries(6):
        staff_client.get("/dashboard/runs/")


def test_a_missing_anilist_token_is_explained_with_the_steps_to_get_one(staff_client, settings):
    settings.ANILIST_ACCESS_TOKEN = ""
    html = staff_client.get("/dashboard/connections/").content.decode()
    assert "Not set up" in html and "ANILIST_ACCESS_TOKEN is not set" in html
    assert "https://anilist.co/settings/developer" in html and "response_type=token" in html


def test_missing_trakt_app_credentials_are_explained_instead_of_a_connect_button(staff_client, settings):
    settings.ANILIST_ACCESS_TOKEN = ""
    settings.TRAKT_CLIENT_ID = ""
    html = staff_client.get("/dashboard/connections/").content.decode()
    assert "TRAKT_CLIENT_ID and TRAKT_CLIENT_SECRET are not set" in html and "Connect Trakt</a>" not in html
    settings.TRAKT_CLIENT_ID, settings.TRAKT_CLIENT_SECRET = "id", "secret"
    html = staff_client.get("/dashboard/connections/").content.decode()
    assert "Connect Trakt</a>" in html and "Trakt is not connected." not in html  # said once, by the badge


def test_before_any_source_is_imported_the_dashboard_says_to_refresh_one(staff_client):
    from mappings.models import SourceStatus

    html = staff_client.get("/").content.decode()
    assert "No source has been imported yet" in html
    assert "Every entry is mapped" not in html and "No unmapped entries" not in html
    SourceStatus.objects.create(source="fribb", row_count=41_000, refreshed_at=timezone.now())
    html = staff_client.get("/").content.decode()
    assert "No source has been imported yet" not in html
    # Nothing mapped yet either: no green claim about entries no sync has looked at (issue 25).
    assert "No unmapped entries" not in html and "Nothing to show yet" in html
