import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_with(env_changes):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(env_changes)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = run_with({"DJANGO_DEBUG": "false"})
    assert result.returncode != 0
    assert (
        result.stderr.strip()
        == "Configuration error: DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false"
    )


def test_it_starts_with_a_development_key_while_debugging():
    assert run_with({"DJANGO_DEBUG": "true"}).returncode == 0


@pytest.mark.parametrize("url", ["mysql://x@y/z", "postgres://", "nonsense"])
def test_a_bad_database_url_stops_start_up_with_one_line(url):
    result = run_with({"DJANGO_DEBUG": "true", "DATABASE_URL": url})
    assert result.returncode != 0
    assert result.stderr.startswith("Configuration error: DATABASE_URL")
    assert "Traceback" not in result.stderr


def test_a_bad_debug_value_is_refused():
    result = run_with({"DJANGO_DEBUG": "maybe"})
    assert "DJANGO_DEBUG must be true or false" in result.stderr
