"""The production files in deploy/: gunicorn's configuration loads the app as the service does."""

import gzip
import hashlib
import http.server
import importlib.util
import os
import socket
import ssl
import subprocess
import sys
import threading
import urllib.error
import urllib.request
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


def test_nginx_compresses_text_and_serves_hashed_names_from_disk_for_a_year():
    site = (ROOT / "deploy/nginx-shop.conf").read_text()
    settings = [line.split("#")[0].strip() for line in site.splitlines()]
    assert "gzip on;" in settings and "gzip_vary on;" in settings
    types = " ".join(site.split("gzip_types", 1)[1].split(";", 1)[0].split())
    for kind in ("text/css", "application/javascript", "image/svg+xml", "application/manifest+json"):
        assert kind in types
    hashed = site.split('location ~ "^/static/.+\\.[0-9a-f]{8}\\.(css|js|svg|png|webmanifest)$" {', 1)[1]
    hashed = hashed.split("}", 1)[0]
    assert "gzip_static on;" in hashed
    assert 'add_header Cache-Control "public, max-age=31536000, immutable";' in hashed
    assert "try_files $uri @app;" in hashed  # no copy: the app serves the current file or 404s
    assert "location @app {" in site


def test_nginx_serves_the_copies_gzipped_with_the_long_cache(tmp_path):
    """The site as shipped, on loopback, in front of a stand-in app: a built copy comes from
    disk gzipped with the year's cache; a name with no copy goes to the app."""

    subprocess.run([sys.executable, "scripts/build-static.py"], cwd=ROOT, check=True, capture_output=True)
    shop_js = (ROOT / "static/js/shop.js").read_bytes()
    digest = hashlib.sha256(shop_js).hexdigest()[:8]

    class App(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the standard library's name
            self.send_response(404)
            self.send_header("X-From", "app")
            self.end_headers()

        def log_message(self, *args):
            pass

    def free_port():
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]

    app = http.server.HTTPServer(("127.0.0.1", 0), App)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    port = free_port()
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # the throwaway certificate

    def get(path):
        """(status, headers, body)."""
        request = urllib.request.Request(
            f"https://127.0.0.1:{port}{path}", headers={"Accept-Encoding": "gzip"}
        )
        try:
            response = urllib.request.urlopen(request, context=context, timeout=10)  # noqa: S310 - loopback
        except urllib.error.HTTPError as error:
            response = error
        with response:
            return response.status, response.headers, response.read()

    try:
        with nginx_site.running(tmp_path, port, free_port(), app.server_port):
            status, headers, body = get(f"/static/js/shop.{digest}.js")
            assert status == 200
            assert headers["Content-Encoding"] == "gzip"
            assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
            assert headers["Vary"] == "Accept-Encoding"
            assert gzip.decompress(body) == shop_js
            status, headers, _ = get("/static/js/shop.js")
            assert status == 200 and "immutable" not in headers.get("Cache-Control", "")
            status, headers, _ = get("/static/js/shop.00000000.js")
            assert status == 404 and headers["X-From"] == "app"
            status, headers, _ = get("/static/manifest.webmanifest")
            assert status == 200 and headers["Content-Type"] == "application/manifest+json"
            status, headers, _ = get("/static/css/shop.css")
            assert status == 200 and headers["Content-Type"] == "text/css"  # the standard types are kept
    finally:
        app.shutdown()
        app.server_close()


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


def test_the_walkthrough_finds_the_readmes_steps_for_several_hosts():
    walkthrough = load_walkthrough()
    database, web_first, certificate, web_after, balancer = walkthrough.readme_blocks()[
        "Setting up several web hosts"
    ]
    assert "10.0.0.0/24" in database  # the network the containers get (walkthrough.SUBNET)
    assert "postgresql-client" in web_first and "openssl req -x509" in certificate
    assert "nginx-balancer.conf" in balancer
    settings = walkthrough.hosts_settings()
    assert f"SECRET_KEY={walkthrough.SECRET}" in settings and "TRUSTED_PROXIES=2" in settings
    assert "DATABASE_URL=postgresql://shop:try-production-database-password@db-host/shop" in settings
    install = walkthrough.readme_blocks()["Running in production"][0]
    first, second = (
        walkthrough.adapt(install, walkthrough.web_host_rule(name, certificate)) for name in ("web1", "web2")
    )
    assert "certbot certonly" not in first and certificate in first
    assert (
        "create-owner owner@shop.test --password-stdin" in first and "shop-flask create-owner" not in second
    )


def test_the_readmes_web_host_step_passes_the_balancers_scheme_and_host_along(tmp_path):
    """The README's sed on a web host turns deploy/nginx-shop.conf's two lines into the two that
    "A load balancer in front of nginx" asks for (a change of the site would make it miss)."""
    walkthrough = load_walkthrough()
    sed = walkthrough.readme_blocks()["Setting up several web hosts"][3].splitlines()[0]
    site = tmp_path / "shop"
    site.write_text((ROOT / "deploy/nginx-shop.conf").read_text())
    subprocess.run(["sh", "-c", sed.replace("/etc/nginx/sites-available/shop", str(site))], check=True)
    readme = (ROOT / "README.md").read_text()
    for line in (
        'X-Forwarded-Proto "$http_x_forwarded_proto, $scheme";',
        'X-Forwarded-Host "$http_x_forwarded_host, $host";',
    ):
        assert f"proxy_set_header {line}" in readme
        assert f"    proxy_set_header {line}" in site.read_text()


def test_nginx_accepts_the_balancers_site(tmp_path):
    """deploy/nginx-balancer.conf as Debian's nginx reads it (the hosts' names made local)."""
    certificate, key = nginx_site.throwaway_certificate(tmp_path)
    site = (ROOT / "deploy/nginx-balancer.conf").read_text()
    site = site.replace("/etc/letsencrypt/live/shop.example.com/fullchain.pem", str(certificate))
    site = site.replace("/etc/letsencrypt/live/shop.example.com/privkey.pem", str(key))
    (tmp_path / "balancer.conf").write_text(
        site.replace("web1:", "127.0.0.1:").replace("web2:", "127.0.0.2:")
    )
    config = tmp_path / "nginx.conf"
    config.write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\nevents {{}}\n"
        f"http {{\n{nginx_site.DEBIAN_HTTP}  include {tmp_path / 'balancer.conf'};\n}}\n"
    )
    result = subprocess.run(
        [nginx_site.NGINX, "-t", "-p", str(tmp_path), "-c", str(config)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_the_jobs_service_comes_back_as_a_standby_after_losing_the_lead():
    """A leader that loses its lock exits with status 3 (jobs/scheduler.py): systemd must start it
    again, whatever the status, so the host stands by."""
    unit = (ROOT / "deploy" / "shop-jobs.service").read_text()
    assert "Restart=always" in unit.splitlines()
