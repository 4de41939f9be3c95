"""Unicode digits and NULs in what a person types give a form error or a 400, never a 500.

`str.isdigit()` accepts "²" (which `int()` refuses: a 500) and "١" (Arabic-Indic one, which
`int()` reads as 1); PostgreSQL refuses a NUL even in a search. Every id or number a person
gives is ASCII digits only (`syncer.refs`); a NUL in any parameter is refused at the door.
"""

import pytest
from django.test import Client

from mappings.models import Mapping
from syncer.models import SyncRun
from syncer.refs import AsciiIntegerField, ascii_id, parse_anilist_id, parse_trakt_ref
from tests.callers import API_TOKEN

pytestmark = pytest.mark.django_db

SUPERSCRIPT_TWO, ARABIC_ONE, NUL = "²", "١", "\x00"
UNICODE_DIGITS = [SUPERSCRIPT_TWO, ARABIC_ONE, f"1{ARABIC_ONE}", "１"]  # the last: fullwidth one


@pytest.fixture
def staff_browser(django_user_model):
    """A superuser's session (the admin too) that gets a 500 as a response to look at, not as a
    raised exception."""
    browser = Client(raise_request_exception=False)
    browser.force_login(django_user_model.objects.create_superuser(username="root", password="pw-123456789"))
    return browser


@pytest.fixture
def some_rows():
    Mapping.objects.create(anilist_id=1, trakt_id=11, type="show", title="One", source="manual", is_manual=True)


# --- the one parser ------------------------------------------------------------------------


@pytest.mark.parametrize("text", UNICODE_DIGITS + ["", " 1", "+1", "-1", "1.0", "0", "2147483648"])
def test_an_id_is_ascii_digits_in_the_id_columns_range_and_nothing_else(text):
    assert ascii_id(text) is None


@pytest.mark.parametrize("text", UNICODE_DIGITS + [f"https://anilist.co/anime/{ARABIC_ONE}/", "1" + NUL])
def test_no_anilist_id_is_read_from_unicode_digits_or_a_nul(text):
    with pytest.raises(ValueError):
        parse_anilist_id(text)


@pytest.mark.parametrize("text", [*UNICODE_DIGITS, f"https://trakt.tv/shows/x/seasons/{ARABIC_ONE}"])
def test_no_trakt_id_or_season_is_read_from_unicode_digits(text):
    ref = parse_trakt_ref(text)
    assert ref is None or not ref.is_id


@pytest.mark.parametrize("text", UNICODE_DIGITS)
def test_a_number_field_refuses_unicode_digits(text):
    field = AsciiIntegerField(required=False)
    with pytest.raises(Exception, match="whole number"):
        field.clean(text)
    assert field.clean("12") == 12 and field.clean("") is None


# --- pages: search text and filters --------------------------------------------------------

SEARCHES = ["/", "/dashboard/progress/", "/mappings/", "/admin/mappings/mapping/", "/logs/"]


@pytest.mark.parametrize("path", SEARCHES)
@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, ARABIC_ONE])
def test_a_search_for_unicode_digits_is_a_search_not_a_500(staff_browser, some_rows, path, value):
    response = staff_browser.get(path, {"q": value})
    assert response.status_code == 200


@pytest.mark.parametrize("path, param", [
    ("/", "q"), ("/dashboard/progress/", "q"), ("/mappings/", "q"), ("/mappings/", "source"),
    ("/mappings/", "origin"), ("/admin/mappings/mapping/", "q"), ("/admin/mappings/mapping/", "from"),
    ("/admin/mappings/mapping/", "mapped"), ("/dashboard/sources/", "task"), ("/dashboard/sources/", "source"),
    ("/logs/", "level"), ("/runs/1/", "action"), ("/manual/", "anilist"),
])
def test_a_nul_in_a_page_parameter_is_a_400(staff_browser, some_rows, path, param):
    response = staff_browser.get(path, {param: f"a{NUL}b"})
    assert response.status_code == 400
    assert b"NUL" in response.content


def test_a_nul_in_a_parameter_name_is_a_400_too(staff_browser):
    assert staff_browser.get("/mappings/?a%00b=1").status_code == 400


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, ARABIC_ONE])
def test_the_mapping_list_finds_no_id_in_unicode_digits(staff_client, some_rows, value):
    # "١" must not find AniList 1.
    response = staff_client.get("/mappings/", {"q": value})
    assert b"One" not in response.content.split(b"<tbody")[-1]


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, ARABIC_ONE])
def test_the_log_page_treats_a_unicode_run_number_as_no_filter(staff_browser, value):
    assert staff_browser.get("/logs/", {"run": value, "before": value}).status_code == 200


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, ARABIC_ONE])
def test_a_page_number_in_unicode_digits_is_the_first_page(staff_browser, some_rows, value):
    assert staff_browser.get("/mappings/", {"page": value}).status_code == 200


# --- pages: forms ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, ARABIC_ONE])
def test_sync_start_refuses_a_unicode_anilist_id_and_starts_nothing(staff_browser, value):
    response = staff_browser.post("/sync/start/", {"mode": "show", "dry_run": "on", "anilist": value})
    assert response.status_code == 400
    assert b"Enter an AniList anime id" in response.content
    assert not SyncRun.objects.exists()


def test_sync_start_refuses_a_nul_in_the_anilist_id(staff_browser):
    response = staff_browser.post("/sync/start/", {"mode": "show", "dry_run": "on", "anilist": f"1{NUL}"})
    assert response.status_code == 400
    assert not SyncRun.objects.exists()


@pytest.mark.parametrize("field, value, error", [
    ("trakt", SUPERSCRIPT_TWO, b"Enter a Trakt id"),
    ("trakt", ARABIC_ONE, b"Enter a Trakt id"),
    ("anilist", SUPERSCRIPT_TWO, b"Enter an AniList anime id"),
    ("anilist", ARABIC_ONE, b"Enter an AniList anime id"),
    ("start_season", ARABIC_ONE, b"Enter a whole number"),
    ("start_episode", SUPERSCRIPT_TWO, b"Enter a whole number"),
])
def test_the_manual_mapping_form_answers_unicode_digits_with_a_form_error(staff_browser, field, value, error):
    data = {"anilist": "1", "trakt": "1420", "kind": "show", "start_season": "1", "start_episode": "1", field: value}
    response = staff_browser.post("/manual/", data)
    assert response.status_code == 200
    assert error in response.content
    assert not Mapping.objects.exists()


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, ARABIC_ONE])
def test_the_manual_mapping_page_opens_with_a_unicode_anilist_id_in_the_link(staff_browser, value):
    assert staff_browser.get("/manual/", {"anilist": value}).status_code == 200


def test_a_nul_in_a_manual_mapping_field_is_a_400(staff_browser):
    data = {"anilist": "1", "trakt": f"1420{NUL}", "kind": "show"}
    assert staff_browser.post("/manual/", data).status_code == 400
    assert not Mapping.objects.exists()


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, ARABIC_ONE])
def test_the_admin_mapping_form_refuses_unicode_digits(staff_browser, value):
    data = {"anilist_ref": value, "trakt_ref": "", "title": "x", "type": "show", "start_season": "1",
            "start_episode": "1", "source": "", "unmapped_reason": "",
            "overrides-TOTAL_FORMS": "0", "overrides-INITIAL_FORMS": "0"}
    response = staff_browser.post("/admin/mappings/mapping/add/", data)
    assert response.status_code == 200  # the form again, with its error
    assert not Mapping.objects.exists()


# --- the API -----------------------------------------------------------------------------------


@pytest.fixture
def machine():
    return Client(raise_request_exception=False, headers={"Authorization": f"Bearer {API_TOKEN}"})


@pytest.fixture(autouse=True)
def api_token(settings):
    settings.API_TOKEN = API_TOKEN


@pytest.mark.parametrize("query", [
    f"anilistId={SUPERSCRIPT_TWO}", f"anilistId={ARABIC_ONE}", "anilistId=%00", f"limit={SUPERSCRIPT_TWO}",
    f"limit={ARABIC_ONE}", "limit=%00",
])
def test_the_progress_route_refuses_unicode_digits_and_nuls_with_a_json_400(machine, query):
    response = machine.get(f"/api/progress?{query}")
    assert response.status_code == 400
    assert "error" in response.json()


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, ARABIC_ONE, "%00"])
def test_a_single_show_sync_refuses_a_unicode_or_nul_anilist_id_and_runs_nothing(machine, value):
    response = machine.get(f"/api/sync?anilistId={value}")
    assert response.status_code == 400
    assert not SyncRun.objects.exists()


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, ARABIC_ONE, NUL, "1" + NUL])
def test_manual_map_refuses_unicode_digits_and_nuls_in_the_body(machine, value):
    response = machine.post("/api/manual-map", {"anilistId": value, "traktId": 2}, content_type="application/json")
    assert response.status_code == 400
    assert not Mapping.objects.exists()


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, ARABIC_ONE, "%00"])
def test_a_run_page_of_the_api_refuses_a_unicode_or_nul_page_number(machine, value):
    SyncRun.objects.create(mode="completed")
    run = SyncRun.objects.get()
    response = machine.get(f"/api/runs/{run.pk}/items?page={value}")
    assert response.status_code == 400


# --- the path --------------------------------------------------------------------------------

NUL_PATHS = ["/admin/django_q/success/%00/change/", "/admin/django_q/failure/%00/delete/",
             "/admin/mappings/mapping/%00/change/", "/mappings/%00/", "/runs/1%00/"]


@pytest.mark.parametrize("path", NUL_PATHS)
def test_a_nul_in_the_path_of_a_page_or_the_admin_is_a_400(staff_browser, path):
    response = staff_browser.get(path)
    assert response.status_code == 400
    assert b"The address contains a NUL character" in response.content


def test_a_nul_in_an_api_path_is_a_json_400(machine):
    response = machine.get("/api/runs/%00")
    assert response.status_code == 400
    assert "NUL" in response.json()["error"]
