import subprocess
from pathlib import Path

import pytest
from django.db import connection

from .factories import IncidentFactory

ROOT = Path(__file__).resolve().parent.parent


def database_url():
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_with_every_row(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump backups are for PostgreSQL")
    IncidentFactory.create_batch(5)
    result = subprocess.run(
        ["bash", "ops/backup_check.sh", database_url(), str(tmp_path / "backup.dump")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "incidents_incident=5" in result.stdout
    assert "incidents_county=3233" in result.stdout
