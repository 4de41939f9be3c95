"""django-q's broker: the database by default, Redis when REDIS_URL is set (a real connection)."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

ROUND_TRIP = """
import django, os
os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'
django.setup()
from django_q.brokers import get_broker
broker = get_broker('anilist-trakt-broker-test')
broker.purge_queue()
broker.enqueue('hello')
task = broker.dequeue()
body = task[0][1] if task else b''
print(type(broker).__name__, body.decode() if isinstance(body, bytes) else body)
broker.purge_queue()
"""


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    base = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "ENV_FILE": "/dev/null", "DEBUG": "true"}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**base, **env},
                          capture_output=True, text=True, timeout=60)


def redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


def test_the_database_is_the_broker_by_default():
    result = run_python("import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup(); "
                        "from django_q.conf import Conf; print(Conf.ORM, Conf.RETRY > Conf.TIMEOUT, Conf.CATCH_UP)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["default", "True", "False"]


def test_redis_url_makes_redis_the_broker_and_a_task_round_trips():
    if not redis_reachable():
        if os.environ.get("REQUIRE_REDIS"):
            pytest.fail("REQUIRE_REDIS is set but Redis does not answer on 127.0.0.1:6379")
        pytest.skip("needs Redis on 127.0.0.1:6379")
    result = run_python(ROUND_TRIP, REDIS_URL="redis://127.0.0.1:6379/15")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Redis", "hello"]
