"""DATABASE_REPLICA_URL and CACHE_URL turn into the right settings, and bad values stop start-up."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRINT_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({"databases": settings.DATABASES, "caches": settings.CACHES,
                  "routers": settings.DATABASE_ROUTERS, "middleware": settings.MIDDLEWARE}, default=str))
"""
PRIMARY = "postgres://app@db1.example.org:5432/tracker"


def settings_with(env_changes):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CACHE_URL"))}
    env.update({"DJANGO_DEBUG": "true", "DJANGO_SETTINGS_MODULE": "tracker.settings", **env_changes})
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS], cwd=ROOT, env=env, capture_output=True, text=True
    )


def loaded(env_changes):
    result = settings_with(env_changes)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_without_a_replica_there_is_one_database_and_no_router():
    found = loaded({"DATABASE_URL": PRIMARY})
    assert list(found["databases"]) == ["default"]
    assert found["routers"] == []
    assert "incidents.routers.ReplicaPinningMiddleware" not in found["middleware"]


def test_a_replica_url_adds_the_replica_its_router_and_the_pinning_middleware():
    found = loaded(
        {"DATABASE_URL": PRIMARY, "DATABASE_REPLICA_URL": "postgres://app@db2.example.org/tracker"}
    )
    replica = found["databases"]["replica"]
    assert (replica["HOST"], replica["NAME"], replica["TEST"]["MIRROR"]) == (
        "db2.example.org",
        "tracker",
        "default",
    )
    assert found["routers"] == ["incidents.routers.ReplicaRouter"]
    middleware = found["middleware"]
    pinning = middleware.index("incidents.routers.ReplicaPinningMiddleware")
    assert middleware[pinning - 1] == "django.contrib.auth.middleware.AuthenticationMiddleware"


def test_a_replica_needs_postgresql_on_both_sides():
    for env in (
        {"DATABASE_REPLICA_URL": "postgres://app@db2.example.org/tracker"},
        {"DATABASE_URL": PRIMARY, "DATABASE_REPLICA_URL": "sqlite:///replica.sqlite3"},
        {"DATABASE_URL": PRIMARY, "DATABASE_REPLICA_URL": "nonsense"},
    ):
        result = settings_with(env)
        assert result.returncode != 0
        assert result.stderr.startswith("Configuration error: DATABASE_REPLICA_URL"), result.stderr
        assert "Traceback" not in result.stderr


def test_the_shared_cache_is_the_database_table_by_default_on_postgresql():
    cache = loaded({"DATABASE_URL": PRIMARY})["caches"]["default"]
    assert cache["BACKEND"] == "incidents.cachebackend.DatabaseCache"


def test_sqlite_keeps_its_cache_in_each_process_so_reads_never_write_the_file():
    cache = loaded({"DATABASE_URL": "sqlite:///tmp/x.sqlite3"})["caches"]["default"]
    assert cache["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_a_redis_cache_url_selects_djangos_redis_backend():
    cache = loaded({"CACHE_URL": "redis://cache.example.org:6379/1"})["caches"]["default"]
    assert cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert cache["LOCATION"] == "redis://cache.example.org:6379/1"


def test_a_cache_url_that_is_not_redis_is_refused():
    result = settings_with({"CACHE_URL": "memcached://cache.example.org"})
    assert result.returncode != 0
    assert (
        result.stderr.strip()
        == "Configuration error: CACHE_URL must start with redis://, rediss:// or unix://"
    )


def test_postgresql_queries_run_without_parallel_workers_unless_asked():
    options = lambda env: loaded({"DATABASE_URL": PRIMARY, **env})["databases"]["default"]["OPTIONS"]  # noqa: E731
    assert options({})["options"] == "-c max_parallel_workers_per_gather=0"
    assert options({"DJANGO_PG_PARALLEL_WORKERS": "2"})["options"] == "-c max_parallel_workers_per_gather=2"
    with_own = loaded({"DATABASE_URL": PRIMARY + "?options=-c%20statement_timeout%3D5000"})
    assert with_own["databases"]["default"]["OPTIONS"]["options"] == (
        "-c statement_timeout=5000 -c max_parallel_workers_per_gather=0"
    )
