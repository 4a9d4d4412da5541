#!/usr/bin/env python3
"""Follow the README's production steps on a fresh Debian 12 and check the shop that results.

    sudo scripts/try-production.py          (or `make try-production`)

A bare Debian 12 (debootstrap) boots with its own systemd in a container (systemd-nspawn), on
this machine's network. The README's shell blocks run in it as written, in order: "Running in
production" (from apt-get to the health check), the restore, then "Moving to PostgreSQL". Only
what cannot happen here is replaced, and the replacement is printed: the repository is this one's
committed HEAD, the domain is shop.test (resolved to 127.0.0.1), `editor` writes the settings,
and certbot (Let's Encrypt cannot reach this machine) becomes a self-signed certificate in the
files certbot would write. Afterwards it checks what an owner would: services up and enabled,
HTTPS with the redirect and the static files from nginx, the request's JSON log line in the
journal, the owner signing in, the nightly backup made by the jobs process, a backup taken by hand
and restored (a later change gone), then the move to PostgreSQL with the owner signing in there.

Needs root, debootstrap and systemd-container (installed from Debian when missing), ports 80,
443, 8000 and 5432 free. Takes about 3 minutes.
The container is deleted afterwards unless --keep is given.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import zoneinfo
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORK = Path("/var/tmp/shop-try-production")
BASE = WORK / "debian12-base"  # a pristine debootstrap, reused between runs
DOMAIN = "shop.test"
OWNER = "owner@shop.test"
LATER = "made-after-the-backup@shop.test"
PASSWORD = "try-production-password"


def shop_timezone():
    """A zone where it is past 02:00 now, so the nightly backup is due as soon as the jobs start."""
    for zone in ("Europe/London", "Asia/Tokyo", "America/New_York"):
        if datetime.datetime.now(zoneinfo.ZoneInfo(zone)).hour >= 2:
            return zone
    raise AssertionError("one of three zones eight hours apart is past 02:00")


SETTINGS = f"""SHOP_BASE_URL=https://{DOMAIN}
SHOP_TIMEZONE={shop_timezone()}
TRUSTED_PROXIES=1
SMTP_HOST=127.0.0.1
SMTP_PORT=2525
MAIL_FROM=shop@{DOMAIN}
"""

SELF_SIGNED = (
    f"install -d /etc/letsencrypt/live/{DOMAIN} && openssl req -x509 -newkey rsa:2048 -nodes"
    f" -days 2 -subj /CN={DOMAIN} -addext subjectAltName=DNS:{DOMAIN}"
    f" -keyout /etc/letsencrypt/live/{DOMAIN}/privkey.pem"
    f" -out /etc/letsencrypt/live/{DOMAIN}/fullchain.pem 2>/dev/null"
)


def readme_blocks():
    """The README's sh blocks by the heading they sit under."""
    blocks, heading = {}, None
    for match in re.finditer(
        r"^(#+ [^\n]+)$|^ *```sh\n(.*?)^ *```", (REPO / "README.md").read_text(), re.M | re.S
    ):
        if match.group(1):
            heading = match.group(1).lstrip("# ").strip()
        else:
            lines = [line.strip() for line in match.group(2).splitlines()]
            blocks.setdefault(heading, []).append("\n".join(lines))
    return blocks


def adapt(block):
    """The block as it runs here: each replaced line is printed with what replaces it."""
    out = []
    for line in block.splitlines():
        line = line.replace("<the shop's repository>", "/repo").replace("your.domain", DOMAIN)
        replaced = replacement(line)
        if replaced != line:
            print(f"  README: {line}\n  here:   {replaced.splitlines()[0]}")
        out.append(replaced)
    return "\n".join(out)


def replacement(line):
    command = line.split("#")[0].strip()
    if command.startswith("certbot "):
        return SELF_SIGNED
    if command.startswith("curl ") and command.endswith("/healthz"):  # trusting the self-signed certificate
        return f"curl -sf --cacert /etc/letsencrypt/live/{DOMAIN}/fullchain.pem https://{DOMAIN}/healthz"
    if command.endswith("editor /etc/shop.env"):
        before = command.removesuffix("editor /etc/shop.env")
        if "DATABASE_URL=" in line:  # moving to PostgreSQL: the setting its comment names
            return before + f"echo '{line.split('# ')[1].strip()}' >> /etc/shop.env"
        return before + f"cat > /etc/shop.env <<'EOF'\n{SETTINGS}EOF"
    if command.startswith("deploy/shop-flask create-owner"):
        return f"echo {PASSWORD} | {command.replace('you@example.com', OWNER)} --password-stdin"
    return line


class Container:
    def __init__(self, root, keep):
        self.root, self.keep, self.process, self.pid = root, keep, None, None

    def boot(self):
        self.process = subprocess.Popen(
            [
                "systemd-nspawn",
                "-D",
                str(self.root),
                "-b",
                "--register=no",
                "--keep-unit",
                "--console=passive",
                f"--bind-ro={REPO}:/repo",
                "--machine=shop-vps",
            ],
            stdout=open(WORK / "console.log", "w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.time() + 60
        while time.time() < deadline and self.pid is None:
            time.sleep(0.5)
            self.pid = container_init(self.process.pid)
        if self.pid is None:
            sys.exit(f"the container did not start; see {WORK / 'console.log'}")
        self.run("systemctl is-system-running --wait >/dev/null || true", quiet=True)

    def run(self, script, quiet=False, check=True):
        """Run a shell script as root inside, as a login shell would; returns its output."""
        result = subprocess.run(
            [
                "nsenter",
                "-t",
                str(self.pid),
                "-a",
                "/usr/bin/env",
                "-i",
                "HOME=/root",
                "TERM=dumb",
                "LANG=C.UTF-8",
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "bash",
                "-euo",
                "pipefail",
                "-c",
                "cd /root\n" + script,
            ],
            stdin=subprocess.DEVNULL,  # nothing inside may wait for a prompt
            capture_output=True,
            text=True,
            timeout=900,
        )
        if not quiet and result.stdout.strip():
            print(indent(result.stdout))
        if check and result.returncode != 0:
            print(indent(result.stderr))
            raise Failed(f"exit {result.returncode}: {script.splitlines()[-1]}")
        return result.stdout

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        if self.pid and Path(f"/proc/{self.pid}").exists():
            os.kill(self.pid, signal.SIGKILL)  # the container's init: everything inside goes with it
            time.sleep(1)
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)


def container_init(nspawn_pid):
    """The container's systemd: nspawn's child that is process 1 in its own namespace."""
    children = subprocess.run(["pgrep", "-P", str(nspawn_pid)], capture_output=True, text=True).stdout.split()
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        if re.search(r"^NSpid:\s+\d+\s+1$", status, re.M):
            return int(pid)
    return None


class Failed(Exception):
    pass


def indent(text):
    return "\n".join("    " + line for line in text.rstrip().splitlines()[-40:])


def port_in_use(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def fresh_debian():
    """A fresh copy of a bare Debian 12 (what a VPS provider hands over, reached as root)."""
    missing = [tool for tool in ("debootstrap", "systemd-nspawn") if not shutil.which(tool)]
    if missing:
        subprocess.run(["apt-get", "install", "-y", "-qq", "debootstrap", "systemd-container"], check=True)
    if not (BASE / ".complete").exists():
        print("debootstrap bookworm (once; about a minute)")
        shutil.rmtree(BASE, ignore_errors=True)
        subprocess.run(
            [
                "debootstrap",
                "--include=systemd,systemd-sysv,dbus,openssl",
                "bookworm",
                str(BASE),
                "http://deb.debian.org/debian",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        (BASE / "etc/hostname").write_text("shop-vps\n")
        (BASE / ".complete").touch()  # an interrupted debootstrap is started again
    root = WORK / "vps"
    shutil.rmtree(root, ignore_errors=True)
    subprocess.run(["cp", "-a", str(BASE), str(root)], check=True)
    # This machine reaches Debian's archive and PyPI through its own resolver, apt settings and
    # certificate authorities (a VPS needs none of this).
    shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
    for conf in Path("/etc/apt/apt.conf.d").glob("99*"):
        shutil.copy(conf, root / "etc/apt/apt.conf.d" / conf.name)
    (root / "usr/local/share/ca-certificates").mkdir(parents=True, exist_ok=True)
    for authority in Path("/usr/local/share/ca-certificates").glob("*.crt"):
        shutil.copy(authority, root / "usr/local/share/ca-certificates" / authority.name)
    # pip's own certificate list lacks this machine's authorities; Debian's bundle has them.
    (root / "etc/pip.conf").write_text("[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n")
    with open(root / "etc/hosts", "a") as hosts:
        hosts.write(f"127.0.0.1 {DOMAIN}\n")
    return root


def step(title, container, script, **kwargs):
    print(f"\n== {title}")
    started = time.time()
    output = container.run(script, **kwargs)
    print(f"   ok ({time.time() - started:.0f} s)")
    return output


def https(container, path, *curl_args):
    return container.run(
        f"curl -s --cacert /etc/letsencrypt/live/{DOMAIN}/fullchain.pem {' '.join(curl_args)} "
        f"https://{DOMAIN}{path}",
        quiet=True,
    )


def check(condition, what):
    print(f"   {'ok' if condition else 'FAILED'}: {what}")
    if not condition:
        raise Failed(what)


def check_running_shop(container):
    health = json.loads(https(container, "/healthz"))
    check(health.get("ok") is True, f"/healthz over HTTPS says ok: {health}")
    active = container.run("systemctl is-active shop-web shop-jobs nginx", quiet=True, check=False).split()
    check(active == ["active"] * 3, f"shop-web, shop-jobs and nginx active: {active}")
    enabled = container.run("systemctl is-enabled shop-web shop-jobs nginx", quiet=True, check=False).split()
    check(enabled == ["enabled"] * 3, f"and they start again after a reboot (enabled): {enabled}")


def owner_signs_in(container):
    """The owner signs in through nginx as a browser would (cookies, CSRF token) and sees the dashboard."""
    jar = "-c /root/jar -b /root/jar"
    container.run("rm -f /root/jar", quiet=True)
    page = https(container, "/sign-in", jar)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    check(token is not None, "the sign-in page has its form")
    form = urllib.parse.urlencode({"csrf_token": token.group(1), "email": OWNER, "password": PASSWORD})
    status = https(
        container,
        "/sign-in",
        jar,
        f"-e https://{DOMAIN}/sign-in -d '{form}'",
        "-o /dev/null -w '%{http_code}'",
    )
    dashboard = https(container, "/admin/", jar)
    title = re.search(r"<title>(.*?)</title>", dashboard, re.S)
    check(
        status == "303" and "Held for customers" in dashboard,
        f"the owner signs in over HTTPS and sees the dashboard ({status}, {title and title.group(1).strip()})",
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the container's files afterwards")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root (it boots a container)")
    busy = [port for port in (80, 443, 8000, 5432) if port_in_use(port)]
    if busy:
        sys.exit(f"the container shares this machine's network and needs ports {busy} free")
    WORK.mkdir(parents=True, exist_ok=True)
    blocks = readme_blocks()
    container = Container(fresh_debian(), args.keep)
    started = time.time()
    try:
        container.boot()
        walk(container, blocks)
    except Failed as failure:
        print(f"\nFAILED: {failure}")
        return 1
    finally:
        container.stop()
    print(f"\nThe README's production steps work on a fresh Debian 12 ({time.time() - started:.0f} s).")
    return 0


def walk(container, blocks):
    install, restore = blocks["Running in production"]
    [move] = blocks["Moving to PostgreSQL"]
    [update] = blocks["Updating"]
    print("\n== README, Running in production (adapted lines shown)")
    step("install and start", container, adapt(install))
    check_running_shop(container)
    check_nginx(container)
    check_request_log(container)
    owner_signs_in(container)
    check_nightly_backup(container)

    backup = step("a backup by hand", container, "cd /srv/shop && deploy/shop-flask backup instance/backups/")
    name = re.search(r"shop-[\w-]+\.sqlite3", backup)
    check(name is not None, "the backup names its file")
    step(
        "an account made after the backup",
        container,
        f"cd /srv/shop && echo {PASSWORD} | deploy/shop-flask create-owner {LATER} --password-stdin",
    )
    restore = re.sub(r"shop-[\w-]+\.sqlite3", name.group(0), restore)
    step("README, Restore", container, adapt(restore))
    wait_healthy(container)
    check_running_shop(container)
    kept = container.run("ls /srv/shop/instance", quiet=True)
    check("before-restore" in kept, "the replaced database is kept beside it")
    later = container.run(
        f"sqlite3 /srv/shop/instance/shop.sqlite3 \"select count(*) from user where email = '{LATER}'\"",
        quiet=True,
    )
    check(later.strip() == "0", "the shop is as the backup had it (the later account is gone)")
    owner_signs_in(container)

    step("README, Updating (to the same commit)", container, adapt(update))
    wait_healthy(container)
    check_running_shop(container)

    step("README, Moving to PostgreSQL", container, adapt(move))
    wait_healthy(container)
    check_running_shop(container)
    owners = container.run(
        'runuser -u postgres -- psql -d shop -tAc "select email from \\"user\\" where role = \'owner\'"',
        quiet=True,
    ).split()
    check(owners == [OWNER], f"the owner's account is in PostgreSQL: {owners}")
    owner_signs_in(container)
    ledger = container.run("cd /srv/shop && deploy/shop-flask ledger check", quiet=True)
    check("passed" in ledger, "the ledger check passes on PostgreSQL")


def check_nightly_backup(container):
    """Past 02:00 shop time (SHOP_TIMEZONE is chosen so) the jobs process makes the day's backup as
    soon as it starts."""
    for _ in range(60):
        written = container.run(
            "journalctl -u shop-jobs -o cat | grep -F 'backup written' || true", quiet=True
        )
        if written:
            break
        time.sleep(1)
    files = container.run("ls /srv/shop/instance/backups 2>/dev/null || true", quiet=True).split()
    check(bool(written) and len(files) == 1, f"the jobs process backed the shop up by itself: {files}")


def check_nginx(container):
    redirect = container.run(
        f"curl -s -o /dev/null -w '%{{http_code}} %{{redirect_url}}' http://{DOMAIN}/", quiet=True
    )
    check(redirect.startswith("301 https://"), f"plain HTTP redirects to HTTPS: {redirect}")
    headers = https(container, "/static/css/shop.css", "-D -", "-o /dev/null")
    check(
        " 200" in headers.splitlines()[0] and "expires" in headers.lower(),
        "a static file comes from nginx with a cache lifetime",
    )


def check_request_log(container):
    headers = https(container, "/sign-in", "-D -", "-o /dev/null")
    request_id = re.search(r"(?im)^x-request-id: *(\S+)", headers)
    check(request_id is not None, "the response carries the request id nginx set")
    time.sleep(1)
    journal = container.run(
        f"journalctl -u shop-web -o cat | grep -F {request_id.group(1)} || true", quiet=True
    )
    lines = [json.loads(line) for line in journal.splitlines() if line.startswith("{")]
    check(
        any(line.get("status") == 200 for line in lines),
        f"the journal has the request's JSON line: {lines[:1]}",
    )


def wait_healthy(container):
    for _ in range(60):
        status = https(container, "/healthz", "-o /dev/null -w '%{http_code}'")
        if status == "200":
            return
        time.sleep(1)
    raise Failed("the shop did not come back within a minute")


if __name__ == "__main__":
    sys.exit(main())
