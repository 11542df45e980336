"""Settings come from the environment; a bad value stops startup with a message naming it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.backend_free

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "a-real-secret-" + "x" * 50,
    "ALLOWED_HOSTS": "docent.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://docent.example.com",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY"}}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name, value", [
    ("DEBUG", "maybe"),
    ("MAX_UPLOAD_MB", "lots"),
    ("REDIS_URL", "localhost:6379"),
    ("DATABASE_URL", "nosuchdb://x"),
    ("DATABASE_REPLICA_URL", "replica.example.com"),
    ("DB_POOL_MAX_SIZE", "many"),
    ("VECTOR_BACKEND", "faiss-on-the-moon"),
    ("RELEVANCE_FLOOR", "high"),
    ("CSRF_TRUSTED_ORIGINS", "docent.example.com"),
    ("WEBHOOK_SECRET_KEYS", "not-a-fernet-key"),
])
def test_a_bad_value_stops_startup_naming_the_variable(name, value):
    result = manage("check", **{name: value})
    assert result.returncode != 0
    assert name in result.stderr


def test_secret_key_is_required_when_debug_is_off():
    result = manage("check", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_production_settings_pass_the_deploy_check():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr


def test_production_settings_collect_the_static_files(tmp_path):
    """WhiteNoise's manifest storage follows every file a stylesheet or script names (source maps
    too): one missing file stops a production deployment at collectstatic."""
    result = manage("collectstatic", "--noinput", DOCENT_VAR_DIR=str(tmp_path), **PRODUCTION)
    assert result.returncode == 0, result.stderr
    manifest = (tmp_path / "static" / "staticfiles.json").read_text()
    assert "vendor/chartjs-4.4.9/chart.umd.js" in manifest
