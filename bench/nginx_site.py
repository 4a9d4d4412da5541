"""deploy/nginx-shop.conf served on loopback: for `nginx -t` in the tests and the load bench's nginx run.

The site file is used as shipped, with only what a loopback run needs changed: a throwaway
self-signed certificate, the listening ports, the upstream gunicorn port, the static folder of this
checkout, and (for the bench) the Host header with its port, since the client's port is not 443.
"""

import contextlib
import socket
import subprocess
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
SITE = PROJECT / "deploy" / "nginx-shop.conf"
NGINX = "/usr/sbin/nginx"
# What Debian 12's /etc/nginx/nginx.conf sets in `http` around the sites it includes: without the
# MIME types, stylesheets would go out as application/octet-stream and browsers (nosniff) refuse them.
DEBIAN_HTTP = """  sendfile on;
  tcp_nopush on;
  types_hash_max_size 2048;
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  ssl_prefer_server_ciphers on;
  gzip on;
"""


def throwaway_certificate(folder):
    certificate, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=shop.example.com", "-keyout", str(key), "-out", str(certificate)],
        check=True,
        capture_output=True,
    )
    return certificate, key


def write_config(folder, https_port=None, http_port=None, upstream_port=None):
    """nginx.conf in `folder` including the site; ports given move it to 127.0.0.1. Returns its path."""
    certificate, key = throwaway_certificate(folder)
    site = SITE.read_text()
    site = site.replace("/etc/letsencrypt/live/shop.example.com/fullchain.pem", str(certificate))
    site = site.replace("/etc/letsencrypt/live/shop.example.com/privkey.pem", str(key))
    if https_port:
        site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
        site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
        site = "\n".join(line for line in site.splitlines() if "listen [::]" not in line)
        site = site.replace(
            "proxy_pass http://127.0.0.1:8000;", f"proxy_pass http://127.0.0.1:{upstream_port};"
        )
        site = site.replace("root /srv/shop;", f"root {PROJECT};")
        site = site.replace("$host", "$http_host")
    (folder / "shop.conf").write_text(site)
    config = folder / "nginx.conf"
    config.write_text(
        f"pid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'};\nworker_processes 1;\n"
        f"daemon off;\nevents {{}}\n"
        f"http {{\n{DEBIAN_HTTP}  access_log {folder / 'access.log'};\n  include {folder / 'shop.conf'};\n}}\n"
    )
    return config


def check(folder):
    """`nginx -t` on the site: (exit code, what nginx said)."""
    config = write_config(folder)
    result = subprocess.run(
        [NGINX, "-t", "-p", str(folder), "-c", str(config)], capture_output=True, text=True
    )
    return result.returncode, result.stderr


def listening(port, process):
    for _ in range(100):
        if process.poll() is not None:
            return False
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


@contextlib.contextmanager
def running(folder, https_port, http_port, upstream_port):
    """nginx in front of gunicorn on 127.0.0.1:upstream_port, for as long as the block runs."""
    config = write_config(folder, https_port, http_port, upstream_port)
    with open(folder / "error.log", "a") as log:
        process = subprocess.Popen([NGINX, "-p", str(folder), "-c", str(config)], stderr=log)
    if not listening(https_port, process):
        process.kill()
        raise SystemExit(f"nginx did not start; see {folder / 'error.log'}")
    try:
        yield
    finally:
        process.terminate()
        process.wait(10)
