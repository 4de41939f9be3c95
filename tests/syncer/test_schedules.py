import pytest
from django.core.management import call_command
from django_q.models import Schedule

from mappings.models import SourceStatus
from syncer.schedules import FIRST_IMPORT_NAME, interval_cron, schedules_setup

pytestmark = pytest.mark.django_db


def names() -> set[str]:
    return set(Schedule.objects.values_list("name", flat=True))


def test_it_schedules_the_sync_every_interval_the_weekly_refresh_and_the_daily_pruning(settings):
    settings.SYNC_INTERVAL_HOURS = 6
    schedules_setup()
    by_func = {s.func: s for s in Schedule.objects.exclude(name=FIRST_IMPORT_NAME)}
    assert by_func["syncer.tasks.sync_scheduled"].cron == "0 */6 * * *"
    assert by_func["syncer.tasks.sync_scheduled"].name == "Incremental sync (every 6 h)"
    assert by_func["mappings.tasks.refresh_all_sources"].cron == "41 4 * * 1"
    assert by_func["logs.tasks.prune_logs"].cron == "17 3 * * *"


def test_running_it_twice_changes_nothing():
    schedules_setup()
    before = sorted(Schedule.objects.values_list("name", "func", "cron"))
    schedules_setup()
    assert sorted(Schedule.objects.values_list("name", "func", "cron")) == before


def test_a_new_interval_replaces_the_old_sync_schedule_but_keeps_the_users_own(settings):
    Schedule.objects.create(name="My backup", func="myproject.backup", schedule_type=Schedule.DAILY)
    settings.SYNC_INTERVAL_HOURS = 6
    schedules_setup()
    settings.SYNC_INTERVAL_HOURS = 12
    result = schedules_setup()
    assert "Incremental sync (every 12 h)" in names() and "Incremental sync (every 6 h)" not in names()
    assert "My backup" in names()
    assert result["removed"] == 1


def test_a_fresh_install_imports_the_mapping_sources_once_right_away():
    call_command("setup_schedules", verbosity=0)
    first = Schedule.objects.get(name=FIRST_IMPORT_NAME)
    assert (first.func, first.schedule_type, first.repeats) == ("mappings.tasks.refresh_all_sources", Schedule.ONCE, -1)
    call_command("setup_schedules", verbosity=0)
    assert Schedule.objects.filter(name=FIRST_IMPORT_NAME).count() == 1


def test_an_install_with_imported_sources_queues_no_first_import():
    SourceStatus.objects.create(source="fribb", row_count=41234)
    schedules_setup()
    assert FIRST_IMPORT_NAME not in names()


@pytest.mark.parametrize(("hours", "cron"), [(6, "0 */6 * * *"), (1, "0 */1 * * *"), (24, "0 0 * * *"), (0, "0 */1 * * *")])
def test_interval_cron(hours, cron):
    assert interval_cron(hours) == cron
