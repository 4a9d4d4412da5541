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

    sudo scripts/try-production.py --hosts  (or `make try-production-hosts`; not part of `make test`)

Several web hosts: four containers, db-host, web1, web2 and lb, boot on a bridge of their own
(10.0.0.0/24, the README's example network, fixed addresses, every name in each /etc/hosts) and
follow "Setting up several web hosts" as written: PostgreSQL on db-host, Running in production on
both web hosts at once (with the README's differences for web hosts: their migrations take
turns), nginx as the balancer on lb. What differs from real machines: this machine routes the
bridge to Debian's and PyPI's mirrors (NAT; the bridge, the rule and IP forwarding are undone
afterwards); a self-signed certificate stands in for certbot on the balancer, and each web host's
health check reaches its own nginx; `flask demo` makes the customers, products and an order
waiting for a bank transfer; a Python mail sink on db-host stands in for the mail provider; the
tick runs every 5 s (JOBS_TICK_SECONDS) so the new leader's first one shows quickly. A browser on
this machine then goes through the balancer (which host served a request is found by its request
id in the hosts' journals) and it checks: both hosts serve and one scheduler leads; the owner
signs in on one host and is served signed in by the other; a customer's top-up through the
sandbox and an order paid from the funds; a picture uploaded on one host served by the other; a
reminder batch run by both hosts at once (`flask reminders run --at` a window ahead, the
schedulers stopped meanwhile) reaches the mail sink once each; the leader's `flask jobs`
SIGKILLed, the other host leading within seconds and ticking, the killed one back as a standby; a
pg_dump backup restored into an empty database with `flask restore --into`; one host's shop
stopped while the balancer keeps serving. Takes about 6 minutes after copying the four systems
(2026-12-07, a busy 2-core machine). The containers' files are deleted afterwards unless --keep.
"""

import argparse
import concurrent.futures
import contextlib
import datetime
import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse
import zoneinfo
from html.parser import HTMLParser
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORK = Path("/var/tmp/shop-try-production")
BASE = WORK / "debian12-base"  # a pristine debootstrap, reused between runs
DOMAIN = "shop.test"
OWNER = "owner@shop.test"
LATER = "made-after-the-backup@shop.test"
PASSWORD = "try-production-password"
DB_PASSWORD = "try-production-database-password"


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


def adapt(block, rule=None):
    """The block as it runs here: each replaced line is printed with what replaces it."""
    out = []
    for line in block.splitlines():
        line = line.replace("<the shop's repository>", "/repo").replace("your.domain", DOMAIN)
        line = line.replace("<database password>", DB_PASSWORD)
        replaced = (rule or replacement)(line)
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
    def __init__(self, root, keep, machine="shop-vps", options=(), repo=REPO):
        self.root, self.keep, self.process, self.pid = root, keep, None, None
        self.machine, self.options, self.repo = machine, list(options), repo

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
                f"--bind-ro={self.repo}:/repo",
                f"--machine={self.machine}",
                *self.options,
            ],
            stdout=open(WORK / f"console-{self.machine}.log", "w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.time() + 60
        while time.time() < deadline and self.pid is None:
            time.sleep(0.5)
            self.pid = container_init(self.process.pid)
        if self.pid is None:
            sys.exit(f"the container did not start; see {WORK / f'console-{self.machine}.log'}")
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


def fresh_debian(name="vps"):
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
    root = WORK / name
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
    parser.add_argument("--hosts", action="store_true", help="several web hosts: four containers (README)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root (it boots a container)")
    if args.hosts:
        return main_hosts(args)
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


# Several web hosts (--hosts) ------------------------------------------------------------------

SUBNET = "10.0.0"  # the README's example private network
BRIDGE = "shop-hosts"
HOSTS = {"db-host": 2, "web1": 3, "web2": 4, "lb": 5}  # name: last byte of its address
WEBS = ("web1", "web2")
CUSTOMER = "dan@demo.shop"  # `flask demo`'s customer with an address and an order waiting for a transfer
DEMO_PASSWORD = "demo-password"
SINK = "journalctl -u smtp-sink -o cat"  # a message's lines as Python prints bytes: b'To: ...'


@contextlib.contextmanager
def private_network():
    """A bridge of the containers' own, with this machine as their router to Debian's and PyPI's
    mirrors (NAT), as a provider's private network with a gateway; all undone afterwards."""
    taken = subprocess.run(
        ["ip", "route", "show", "to", "match", f"{SUBNET}.1"], capture_output=True, text=True
    )
    if any(not line.startswith("default") for line in taken.stdout.splitlines()):
        sys.exit(f"{SUBNET}.0/24 is already routed here: {taken.stdout.strip()}")
    forwarding = Path("/proc/sys/net/ipv4/ip_forward")
    was_forwarding = forwarding.read_text()
    nat = ["POSTROUTING", "-t", "nat", "-s", f"{SUBNET}.0/24", "!", "-o", BRIDGE, "-j", "MASQUERADE"]
    subprocess.run(["ip", "link", "add", BRIDGE, "type", "bridge"], check=True)
    try:
        subprocess.run(["ip", "address", "add", f"{SUBNET}.1/24", "dev", BRIDGE], check=True)
        subprocess.run(["ip", "link", "set", BRIDGE, "up"], check=True)
        forwarding.write_text("1\n")
        subprocess.run(["iptables", "-A", *nat], check=True)
        yield
    finally:
        subprocess.run(["iptables", "-D", *nat], capture_output=True)
        forwarding.write_text(was_forwarding)
        subprocess.run(["ip", "link", "delete", BRIDGE], capture_output=True)


def fresh_host(name, keep, repo):
    """A bare Debian 12 on the private network, with a fixed address and every host's name."""
    root = fresh_debian(name)
    (root / "etc/hostname").write_text(f"{name}\n")
    # Read before Debian's 80-container-host0.network, which would ask for DHCP.
    (root / "etc/systemd/network/10-host0.network").write_text(
        f"[Match]\nName=host0\n\n[Network]\nAddress={SUBNET}.{HOSTS[name]}/24\nGateway={SUBNET}.1\n"
    )
    subprocess.run(
        ["systemctl", f"--root={root}", "enable", "systemd-networkd"], check=True, capture_output=True
    )
    with open(root / "etc/hosts", "a") as hosts:
        hosts.writelines(f"{SUBNET}.{byte} {host}\n" for host, byte in HOSTS.items())
    options = [f"--network-bridge={BRIDGE}", f"--hostname={name}"]
    return Container(root, keep, machine=f"shop-{name}", options=options, repo=repo)


def hosts_settings():
    """/etc/shop.env as the README writes it for every web host, its blanks filled for this trial,
    plus what the trial needs: a zone where the nightly backup is due, the mail sink on db-host, and
    a 5 s tick so the new leader's first tick shows soon after the takeover."""
    readme = (REPO / "README.md").read_text()
    written = re.search(r"```text\n\s*(SHOP_BASE_URL=https://your.domain\n.*?)```", readme, re.S).group(1)
    lines = [line.strip() for line in written.splitlines() if line.strip()]
    filled = "\n".join(lines).replace("your.domain", DOMAIN).replace("<database password>", DB_PASSWORD)
    filled = filled.replace("<the same key on every host>", SECRET).replace(
        "SMTP_HOST=…", "SMTP_HOST=db-host"
    )
    filled = filled.replace("MAIL_FROM=…", f"MAIL_FROM=shop@{DOMAIN}")
    return (
        filled
        + f"\nSHOP_TIMEZONE={shop_timezone()}\nSMTP_PORT=2525\nSMTP_SECURITY=none\nJOBS_TICK_SECONDS=5\n"
    )


SECRET = secrets.token_hex(32)


def web_host_rule(name, certificate):
    def rule(line):
        command = line.split("#")[0].strip()
        if command.startswith("certbot "):  # the README says so for web hosts
            return certificate
        if command.endswith("editor /etc/shop.env"):
            return (
                command.removesuffix("editor /etc/shop.env")
                + f"cat > /etc/shop.env <<'EOF'\n{hosts_settings()}EOF"
            )
        if command.startswith("deploy/shop-flask create-owner"):
            return replacement(line) if name == WEBS[0] else ": create-owner on the first host only"
        if command.startswith("curl -s https://"):  # the balancer isn't there yet: this host's own shop
            return after_reload(replacement(line))
        return line

    return rule


def after_reload(line):
    """The check right after `systemctl reload nginx`, which returns before nginx has reloaded:
    retried for a few seconds, as a person typing it would be a moment later."""
    if line.startswith("curl ") and "/healthz" in line:
        retried = "--retry 5 --retry-connrefused --retry-delay 1"
        command = line.split("#")[0].strip()
        return command.replace("curl -sk ", f"curl -sfk {retried} ").replace(
            "curl -sf ", f"curl -sf {retried} "
        )
    return line


def balancer_rule(line):
    command = line.split("#")[0].strip()
    if command.startswith(("certbot ", "curl -s https://")):
        return after_reload(replacement(line))
    return line


def walk_hosts(hosts, blocks):
    database, web_first, certificate, web_after, balancer = blocks["Setting up several web hosts"]
    install = blocks["Running in production"][0]
    print("\n== README, Several web hosts (adapted lines shown)")
    step("db-host: PostgreSQL for the web hosts", hosts["db-host"], adapt(database))
    step(
        "db-host: a mail sink on port 2525 (stands in for the mail provider)",
        hosts["db-host"],
        "apt-get install -y -qq python3 >/dev/null && systemd-run --unit=smtp-sink python3 -u -W ignore -m smtpd -n -c DebuggingServer 0.0.0.0:2525",
    )

    def web_host(name):
        script = "\n".join(
            [
                adapt(web_first),
                adapt(install, web_host_rule(name, adapt(certificate))),
                adapt(web_after, after_reload),
            ]
        )
        return step(f"{name}: Running in production, as the README says for web hosts", hosts[name], script)

    with concurrent.futures.ThreadPoolExecutor() as pool:  # both at once: the migrations take turns
        for future in [pool.submit(web_host, name) for name in WEBS]:
            future.result()
    step("lb: the load balancer", hosts["lb"], adapt(balancer, balancer_rule))

    webs = {name: hosts[name] for name in WEBS}
    client = Visitor(hosts["lb"].root / f"etc/letsencrypt/live/{DOMAIN}/fullchain.pem", webs)
    check_hosts_running(client, webs)
    step(
        "demo data: customers, products, an order waiting for payment",
        webs["web1"],
        "cd /srv/shop && deploy/shop-flask demo",
    )
    failed = []
    for name, checks in [
        ("a session on both hosts", lambda: check_session_on_both(client, webs)),
        # before Dan pays an order (no reminder after that)
        ("a reminder batch once", lambda: check_reminders_once(webs, hosts["db-host"])),
        ("a top-up and an order", lambda: check_top_up_and_order(client, webs, hosts["db-host"])),
        ("a picture on both hosts", lambda: check_picture(client, webs)),
        ("the leader killed", lambda: check_takeover(client, webs)),
        ("a backup restored", lambda: check_backup_restored(webs, hosts["db-host"])),
        ("a host down", lambda: check_host_down(client, webs)),
    ]:
        print(f"\n== {name}")
        try:
            checks()
        except Failed as failure:  # the next checks still tell something
            failed.append(f"{name}: {failure}")
    if failed:
        raise Failed("; ".join(failed))


def psql(db_host, sql, database="shop"):
    return db_host.run(
        f"runuser -u postgres -- psql -d {database} -tAc {shlex.quote(sql)}", quiet=True
    ).strip()


class BalancerConnection(http.client.HTTPSConnection):
    """HTTPS to the balancer's address, with the domain's name for TLS (the internet's DNS)."""

    def connect(self):
        sock = socket.create_connection((f"{SUBNET}.{HOSTS['lb']}", 443), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=DOMAIN)


class FormsOnPage(HTMLParser):
    """Every form of a page: its action, enctype and the values a browser would send."""

    def __init__(self):
        super().__init__()
        self.forms, self.form, self.select = [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.form = {"action": attrs.get("action", ""), "fields": {}}
            self.forms.append(self.form)
        elif self.form is None:
            return
        elif tag == "input" and attrs.get("name"):
            kind = attrs.get("type", "text")
            if (
                kind in ("checkbox", "radio")
                and "checked" not in attrs
                or kind in ("submit", "button", "file")
            ):
                return
            self.form["fields"][attrs["name"]] = attrs.get("value") or ""
        elif tag == "select" and attrs.get("name"):
            self.select = attrs["name"]
        elif tag == "option" and self.select:
            if self.select not in self.form["fields"] or "selected" in attrs:
                self.form["fields"][self.select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None


class Visitor:
    """A browser on the internet: cookies, forms and redirects, through the balancer. Each answer is
    looked up by its request id in the web hosts' journals to tell which host served it."""

    def __init__(self, cafile, webs):
        self.context = ssl.create_default_context(cafile=str(cafile))
        self.webs, self.cookies, self.path = webs, {}, "/"
        self.last = None  # the last answer: (status, headers, body, host)

    def request(self, method, path, body=None, content_type=None):
        headers = {"Accept-Language": "en"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = content_type or "application/x-www-form-urlencoded"
            headers["Referer"] = f"https://{DOMAIN}{self.path}"  # Flask-WTF's check over HTTPS
        connection = BalancerConnection(DOMAIN, 443, context=self.context, timeout=60)
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        self.path = path
        self.last = (response.status, response.headers, data, response.headers.get("X-Request-ID"))
        return response.status, response.headers, data

    def get(self, path):
        return self.follow(*self.request("GET", path))

    def follow(self, status, headers, data):
        while status in (301, 302, 303):
            location = urllib.parse.urlsplit(headers["Location"])
            status, headers, data = self.request(
                "GET", location.path + (f"?{location.query}" if location.query else "")
            )
        return status, data.decode("utf-8", "replace")

    def submit(self, page, action_pattern, files=None, **fields):
        """Send the page's first form whose action matches, as a click on its button would."""
        parser = FormsOnPage()
        parser.feed(page)
        form = next((f for f in parser.forms if re.search(action_pattern, f["action"])), None)
        check(form is not None, f"the page has a form to {action_pattern}")
        values = {**form["fields"], **fields}
        if files:
            body, content_type = multipart(values, files)
            answer = self.request("POST", form["action"], body, content_type)
        else:
            answer = self.request("POST", form["action"], urllib.parse.urlencode(values))
        self.posted = self.last
        return self.follow(*answer)

    def host_of(self, answer=None):
        """Which web host served an answer (the last one by default)."""
        request_id = (answer or self.last)[3]
        for _ in range(10):
            for name, host in self.webs.items():
                if (
                    host.run(
                        f"journalctl -u shop-web -o cat | grep -cF {request_id} || true", quiet=True
                    ).strip()
                    != "0"
                ):
                    return name
            time.sleep(0.5)
        raise Failed(f"no web host logged request {request_id}")


def multipart(fields, files):
    boundary = secrets.token_hex(16)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    for name, (filename, content, kind) in files.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        parts.append(f"{head}Content-Type: {kind}\r\n\r\n".encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def sign_in(client, email, password):
    client.cookies.clear()
    status, page = client.get("/sign-in")
    return client.submit(page, r"/sign-in$", email=email, password=password)


def check_hosts_running(client, webs):
    for name, host in webs.items():
        active = host.run("systemctl is-active shop-web shop-jobs nginx", quiet=True, check=False).split()
        check(active == ["active"] * 3, f"{name}: shop-web, shop-jobs and nginx active: {active}")
    status, page = client.get("/healthz")
    check(status == 200 and json.loads(page)["ok"], f"/healthz through the balancer: {status} {page[:80]}")
    served = set()
    for _ in range(8):  # each nginx worker takes its own turns: a few requests reach both
        if client.get("/sign-in")[0] == 200:
            served.add(client.host_of())
        if served == set(webs):
            break
    check(served == set(webs), f"the balancer sends requests to both hosts: {sorted(served)}")
    leaders = [name for name, host in webs.items() if "leading:" in jobs_log(host)]
    waiting = [name for name, host in webs.items() if "waiting to lead" in jobs_log(host)]
    check(
        len(leaders) == 1 and len(waiting) == 1,
        f"one scheduler leads ({leaders}), the other waits ({waiting})",
    )


def jobs_log(host):
    return host.run("journalctl -u shop-jobs -o cat | grep -E 'lead|scheduler' || true", quiet=True)


def leads(host):
    """Whether the host's scheduler said last that it leads (rather than waits or stopped)."""
    said = [line for line in jobs_log(host).splitlines() if "lead" in line]
    return bool(said) and "leading:" in said[-1]


def check_session_on_both(client, webs):
    """Signed in on one host (the POST), the next pages come from the other one, still signed in."""
    sign_in(client, OWNER, PASSWORD)
    signed_on = client.host_of(client.posted)
    hosts_seen = set()
    for _ in range(8):
        if hosts_seen - {signed_on}:
            break
        status, dashboard = client.get("/admin/")
        hosts_seen.add(client.host_of())
        check(status == 200 and "Held for customers" in dashboard, f"the owner's dashboard ({status})")
    others = hosts_seen - {signed_on}
    check(bool(others), f"signed in on {signed_on}, then served signed in by {sorted(others)} too")


def check_top_up_and_order(client, webs, db_host):
    sign_in(client, CUSTOMER, DEMO_PASSWORD)
    status, page = client.get("/account/funds")
    status, page = client.submit(page, r"/account/funds/top-up$", amount="60.00")
    status, page = client.submit(page, r"/sandbox/pay/", outcome="approve")
    top_ups = psql(
        db_host,
        f"select t.state, t.amount from top_up t join \"user\" u on u.id = t.user_id where u.email = '{CUSTOMER}'",
    )
    check(top_ups == "succeeded|6000", f"the top-up paid through the sandbox, credited once: {top_ups!r}")
    slug = psql(db_host, "select slug from product where active and stock > 0 order by price limit 1")
    status, page = client.get(f"/p/{slug}")
    client.submit(page, rf"/p/{re.escape(slug)}/add$", quantity="1")
    status, page = client.get("/checkout")
    status, page = client.submit(page, r"/checkout$", place="1")
    orders = psql(
        db_host,
        'select o.status, o.payment_method from "order" o join "user" u on u.id = o.user_id'
        f" where u.email = '{CUSTOMER}' order by o.id",
    ).splitlines()
    check(
        len(orders) == 4 and orders[-1].endswith("|funds"),
        f"an order placed and paid from the funds (after the demo's three): {orders[-1]!r} ({status})",
    )


def check_picture(client, webs):
    """The owner uploads a picture on one host; the other host serves it (pictures are in the database)."""
    sign_in(client, OWNER, PASSWORD)
    status, page = client.get("/admin/catalog/products/new")
    icon = ("mug.png", (REPO / "static/icons/icon-512.png").read_bytes(), "image/png")
    status, page = client.submit(
        page,
        r"/admin/catalog/products/new$",
        files={"image": icon},
        name="Two hosts mug",
        price="9.50",
        stock="3",
        slug="two-hosts-mug",
    )
    uploaded_on = client.host_of(client.posted)
    check(client.posted[0] == 303, f"the product and its picture saved on {uploaded_on} ({client.posted[0]})")
    status, page = client.get("/p/two-hosts-mug")
    picture = re.search(r"/pictures/[\w-]+-\d+\.webp", page)
    check(picture is not None, "the product page shows the picture")
    for _ in range(8):
        status, headers, data = client.request("GET", picture.group(0))
        served_by = client.host_of()
        if served_by != uploaded_on:
            break
    check(
        status == 200 and data[:4] == b"RIFF" and served_by != uploaded_on,
        f"uploaded on {uploaded_on}, the picture served by {served_by} ({status}, {len(data)} bytes)",
    )


def reminder_moment(host):
    """The next dispatch window at least three hours ahead, where Dan's waiting order is due."""
    for hours in range(3, 48):
        at = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=hours)).replace(
            minute=0, second=0
        )
        planned = json.loads(
            host.run(
                f"cd /srv/shop && deploy/shop-flask reminders plan --json --at {at.isoformat()}", quiet=True
            )
        )
        if planned.get("reminders"):
            return at.isoformat(), len(planned["reminders"])
    raise Failed(f"no reminder window within two days plans a reminder: {planned['excluded']}")


def mail_delivered(host):
    health = "curl -s --resolve shop.test:443:127.0.0.1 -k https://shop.test/healthz"
    for _ in range(60):
        if json.loads(host.run(health, quiet=True))["mail"]["waiting"] == 0:
            return
        time.sleep(1)
    raise Failed("the outbox did not empty within a minute")


def messages_to_customer(db_host):
    pattern = shlex.quote(f"^b'To: .*{CUSTOMER}'")
    return db_host.run(f"{SINK} | grep -c {pattern} || true", quiet=True).strip()


def check_reminders_once(webs, db_host):
    """Both hosts asked at once to send the same batch: each reminder goes once. The batch is a
    future window's (`--at`): the schedulers stop meanwhile, as their tick, at the real time,
    would cancel its reminders as too early; started again, the leader delivers them."""
    # The demo's waiting order is followed by a paid one (the re-order rule would spare it): the
    # owner's Settings turn that rule off (0 hours), here straight in the database.
    psql(db_host, "update reminder_settings set reorder_hours = 0")
    at, planned = reminder_moment(webs["web1"])
    mail_delivered(webs["web1"])  # the demo's emails to Dan are in the sink before counting
    before = messages_to_customer(db_host)
    for host in webs.values():
        host.run("systemctl stop shop-jobs")
    with concurrent.futures.ThreadPoolExecutor() as pool:
        runs = [
            pool.submit(host.run, f"cd /srv/shop && deploy/shop-flask reminders run --at {at}", True)
            for host in webs.values()
        ]
        said = [future.result().strip() for future in runs]
    for host in webs.values():
        host.run("systemctl start shop-jobs")
    queued = sum(int(re.match(r"(\d+)", line).group(1)) for line in said)
    check(queued == planned, f"{planned} reminder(s) planned at {at}; both hosts ran the batch: {said}")
    mail_delivered(webs["web1"])
    deadline = time.time() + 60
    while time.time() < deadline:
        after = messages_to_customer(db_host)
        if int(after) - int(before) >= planned:
            break
        time.sleep(2)
    time.sleep(10)  # a second copy would come within the mail job's next rounds
    after = messages_to_customer(db_host)
    check(
        int(after) - int(before) == planned,
        f"the mail sink got {int(after) - int(before)} reminder(s), once each",
    )


def check_takeover(client, webs):
    leader = next(name for name, host in webs.items() if leads(host))
    standby = next(name for name in webs if name != leader)
    before = jobs_log(webs[standby]).count("leading:")
    killed_at = time.time()
    webs[leader].run("kill -KILL $(systemctl show --property=MainPID --value shop-jobs)")
    while time.time() < killed_at + 60 and jobs_log(webs[standby]).count("leading:") == before:
        time.sleep(0.5)
    took = time.time() - killed_at
    check(took < 30, f"{leader}'s scheduler killed (SIGKILL): {standby} logs `leading` {took:.0f} s later")
    while time.time() < killed_at + 60:
        age = json.loads(client.get("/healthz")[1])["scheduler"]["last_tick_age_seconds"]
        if age is not None and age < time.time() - killed_at:
            break
        time.sleep(1)
    check(
        age is not None and age < time.time() - killed_at,
        f"the jobs go on: a tick {age} s ago, after the kill",
    )
    for _ in range(30):  # systemd starts the killed one again after 5 s
        back = [line for line in jobs_log(webs[leader]).splitlines() if "lead" in line][-1]
        if "waiting to lead" in back:
            break
        time.sleep(1)
    check("waiting to lead" in back, f"{leader}'s scheduler is back, standing by: {back}")


def check_backup_restored(webs, db_host):
    host = webs["web2"]
    said = step(
        "a backup by hand (pg_dump)", host, "cd /srv/shop && deploy/shop-flask backup instance/backups/"
    )
    dump = re.search(r"shop-[\w-]+\.dump", said)
    check(dump is not None, "the backup names its file")
    step("an empty database on db-host", db_host, "runuser -u postgres -- createdb -O shop shop_restored")
    target = f"postgresql://shop:{DB_PASSWORD}@db-host/shop_restored"
    step(
        "flask restore --into it",
        host,
        f"cd /srv/shop && deploy/shop-flask restore instance/backups/{dump.group(0)} --into '{target}'",
    )
    counts = [
        psql(db_host, 'select count(*) from "user"', database) for database in ("shop", "shop_restored")
    ]
    orders = [
        psql(db_host, 'select count(*) from "order"', database) for database in ("shop", "shop_restored")
    ]
    check(counts[0] == counts[1] and orders[0] == orders[1], f"restored: users {counts}, orders {orders}")


def check_host_down(client, webs):
    """web1's shop stopped (a host going away): the balancer serves every request from web2."""
    webs["web1"].run("systemctl stop shop-web")
    try:
        answers = [client.get("/sign-in")[0] for _ in range(6)]
        check(
            answers == [200] * 6,
            f"web1's shop stopped: six pages through the balancer, all served: {answers}",
        )
    finally:
        webs["web1"].run("systemctl start shop-web")


def main_hosts(args):
    WORK.mkdir(parents=True, exist_ok=True)
    repo = WORK / "shop.git"  # this checkout's committed HEAD, readable from the containers
    shutil.rmtree(repo, ignore_errors=True)
    subprocess.run(["git", "clone", "--quiet", "--bare", str(REPO), str(repo)], check=True)
    blocks = readme_blocks()
    started = time.time()
    with private_network():
        hosts = {name: fresh_host(name, args.keep, repo) for name in HOSTS}
        try:
            with concurrent.futures.ThreadPoolExecutor() as pool:
                list(pool.map(Container.boot, hosts.values()))
            walk_hosts(hosts, blocks)
        except Failed as failure:
            print(f"\nFAILED: {failure}")
            return 1
        finally:
            for host in hosts.values():
                host.stop()
    print(
        f"\nThe README's steps for several web hosts work in four containers ({time.time() - started:.0f} s)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
