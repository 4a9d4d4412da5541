"""The production files in deploy/: gunicorn's configuration loads the app as the service does."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_gunicorn_configuration_loads_the_app(tmp_path):
    environment = {
        **os.environ,
        "SHOP_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shop.sqlite3'}",
        "WEB_CONCURRENCY": "3",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    result = subprocess.run(
        [
            str(gunicorn),
            "--config",
            "deploy/gunicorn.conf.py",
            "--check-config",
            "--print-config",
            "shop:create_app()",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    settings = {
        name.strip(): value.strip()
        for name, value in (line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    }
    assert settings["workers"] == "3"
    assert settings["preload_app"] == "False"
    assert settings["bind"] == "['127.0.0.1:8000']"
    assert not (tmp_path / "shop.sqlite3").exists()  # loading the app opened no database
