"""The production files in deploy/: gunicorn's configuration loads the app as the service does."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from bench import nginx_site

ROOT = Path(__file__).resolve().parents[2]


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


def test_nginx_accepts_the_site(tmp_path):
    """deploy/nginx-shop.conf as Debian's nginx reads it, with a throwaway certificate in place."""
    returncode, said = nginx_site.check(tmp_path)
    assert returncode == 0, said
    assert "syntax is ok" in said


def load_walkthrough():
    """scripts/try-production.py, which runs the README's production blocks in a container."""
    spec = importlib.util.spec_from_file_location("try_production", ROOT / "scripts/try-production.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_walkthrough_finds_the_readmes_production_steps():
    walkthrough = load_walkthrough()
    blocks = walkthrough.readme_blocks()
    install, restore = blocks["Running in production"]
    [move] = blocks["Moving to PostgreSQL"]
    [update] = blocks["Updating"]
    assert "deploy/shop-flask migrate" in update
    assert "systemctl enable --now shop-web shop-jobs" in install
    assert "restore --yes" in restore
    assert "copy-to-postgres" in move
    # Only what cannot happen in the container is replaced: the editor, the password prompt,
    # Let's Encrypt and the real domain's health check.
    replaced = [line.split()[0] for line in install.splitlines() if walkthrough.replacement(line) != line]
    assert replaced == ["install", "deploy/shop-flask", "certbot", "curl"]
    ran = walkthrough.adapt(install)
    assert "certbot certonly" not in ran and "openssl req -x509" in ran
    assert "editor" not in ran and "SHOP_BASE_URL=https://shop.test" in ran
    assert "create-owner owner@shop.test --password-stdin" in ran
    assert "echo 'DATABASE_URL=postgresql://" in walkthrough.adapt(move)
