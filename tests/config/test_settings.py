import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def settings_in_subprocess(env: dict, expression: str) -> str:
    """Import the settings in a clean process with exactly this environment."""
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; "
        "from django.conf import settings; " + f"print(repr(({expression})))"
    )
    base = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "ENV_FILE": "/dev/null"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_database_defaults_to_a_local_sqlite_file():
    out = settings_in_subprocess({}, "settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['NAME']")
    assert "sqlite3" in out and "db.sqlite3" in out


def test_a_postgres_url_uses_psycopg_with_its_parts():
    out = settings_in_subprocess(
        {"DATABASE_URL": "postgres://user:pw@db.example.com:5432/app"},
        "settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['HOST'], "
        "settings.DATABASES['default']['NAME'], settings.DATABASES['default'].get('OPTIONS', {})",
    )
    assert "django.db.backends.postgresql" in out
    assert "'db.example.com'" in out and "'app'" in out
    assert "prepare_threshold" not in out


def test_the_supabase_transaction_pooler_turns_prepared_statements_off():
    out = settings_in_subprocess(
        {"DATABASE_URL": "postgres://u:p@aws-0-eu.pooler.supabase.com:6543/postgres"},
        "settings.DATABASES['default']['OPTIONS'], settings.DATABASES['default']['DISABLE_SERVER_SIDE_CURSORS']",
    )
    assert "'prepare_threshold': None" in out and out.endswith("True)")


def test_service_urls_are_overridable_and_default_to_the_real_services():
    defaults = settings_in_subprocess({}, "settings.ANILIST_API_URL, settings.TRAKT_API_URL, settings.TMDB_API_URL")
    assert defaults == "('https://graphql.anilist.co', 'https://api.trakt.tv', 'https://api.themoviedb.org/3')"
    overridden = settings_in_subprocess({"TRAKT_API_URL": "http://127.0.0.1:9999"}, "settings.TRAKT_API_URL")
    assert overridden == "'http://127.0.0.1:9999'"


def test_production_settings_are_locked_down():
    out = settings_in_subprocess(
        {"DEBUG": "false"},
        "settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS > 0, settings.X_FRAME_OPTIONS",
    )
    assert out == "(True, True, True, 'DENY')"


def test_production_start_fails_naming_the_missing_secret():
    env = {"DEBUG": "false", "SECRET_KEY": "x" * 50, "TRAKT_CLIENT_ID": "id", "TRAKT_CLIENT_SECRET": "s"}
    result = subprocess.run(
        [sys.executable, "-c", "import config.wsgi"],
        cwd=ROOT, env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "ENV_FILE": "/dev/null", **env}, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "ANILIST_ACCESS_TOKEN" in result.stderr
    assert "TRAKT_CLIENT_ID" not in result.stderr.split("Missing required setting(s):")[-1].split(".")[0]


def test_debug_start_without_secrets_succeeds():
    result = subprocess.run(
        [sys.executable, "-c", "import config.wsgi; print('started')"],
        cwd=ROOT, env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "ENV_FILE": "/dev/null", "DEBUG": "true"}, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_only_supabase_rest_variables_produce_a_warning_at_start():
    result = subprocess.run(
        [sys.executable, "-c", "import config.wsgi"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "ENV_FILE": "/dev/null", "DEBUG": "true", "SUPABASE_URL": "https://x.supabase.co",
             "SUPABASE_SERVICE_ROLE_KEY": "service-role-key-value"},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "DATABASE_URL" in result.stderr and "Session pooler" in result.stderr
    assert "service-role-key-value" not in result.stderr


def test_a_request_timeout_as_long_as_the_sync_lease_is_refused_at_start(settings):
    from config.checks import lease_outlasts_a_request_check

    settings.HTTP_TIMEOUT_SECONDS, settings.SYNC_LEASE_SECONDS = 30.0, 60
    assert lease_outlasts_a_request_check(None) == []
    settings.SYNC_LEASE_SECONDS = 30
    [problem] = lease_outlasts_a_request_check(None)
    assert problem.id == "config.E002" and "SYNC_LEASE_SECONDS" in problem.msg
