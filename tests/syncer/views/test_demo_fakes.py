"""`python -m tests.fakes.serve`: the fakes as standalone servers for trying the app by hand."""

import json

import httpx

from tests.fakes import serve


def test_it_prints_loopback_settings_and_stops_by_itself(tmp_path, capsys):
    env_file = tmp_path / "demo.env"
    assert serve.main(["--env-file", str(env_file), "--seconds", "0.05"]) == 0
    printed = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert printed == dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    for name in ("ANILIST_API_URL", "TRAKT_API_URL", "TRAKT_AUTH_URL", "TMDB_API_URL", "FRIBB_MAPPINGS_URL"):
        assert printed[name].startswith("http://127.0.0.1:"), name
    # The sources whose defaults are on the internet are switched off; nothing is connected yet.
    assert printed["OTAKU_MAPPINGS_URL"] == printed["ANIBRIDGE_MAPPINGS_URL"] == printed["TRAKT_ACCESS_TOKEN"] == ""
    try:
        httpx.get(printed["FRIBB_MAPPINGS_URL"], timeout=0.5)
        raise AssertionError("the fakes still answer after --seconds")
    except httpx.TransportError:
        pass


def test_the_demo_library_has_one_entry_no_source_knows_and_a_valid_fribb_list():
    from mappings.parsers import fribb_rows

    rows = fribb_rows(json.dumps(serve.fribb_list()).encode())
    known = {row["anilist_id"] for row in rows}
    library = {title.anilist_id for title in serve.LIBRARY}
    assert len(library) >= 12 and library - known == {171457}
    assert all(t.trakt_id in serve.TRAKT_SEASONS for t in serve.LIBRARY if t.fmt != "MOVIE" and t.in_fribb)


def test_connected_gives_a_token_the_fake_trakt_accepts():
    fakes, env = serve.start_all(connected=True)
    try:
        answer = httpx.get(f"{env['TRAKT_API_URL']}/users/settings", headers={
            "Authorization": f"Bearer {env['TRAKT_ACCESS_TOKEN']}", "trakt-api-key": env["TRAKT_CLIENT_ID"],
            "trakt-api-version": "2", "User-Agent": "test"})
        assert answer.json()["user"]["username"] == serve.VIEWER
    finally:
        for fake in fakes:
            fake.stop()
