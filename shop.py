"""Shop: the customer side of a small online shop.

`create_app()` is the application factory (`flask --app shop …` finds it).
It never opens the database: connections are opened per request and per job,
so gunicorn can fork safely.
"""

import datetime
import os
import secrets
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from jobs import accounts
from jobs import backup
from jobs import ledger
from jobs import operations
from jobs import reminders
from jobs import scheduler
from models.base import bind_database
from models.base import is_postgres_url
from models.base import PostgresLimits
from models.reactions import connect as connect_reactions
from models.shop.mail import base_url_problem
from models.signing import key_list
from models.signing import signing_keys
from models.users import passwords
from payments import configuration_problems as payment_configuration_problems
from views import init_app as init_views


def create_app(test_config=None):
    instance_path = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("SHOP_INSTANCE_PATH")
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(default_config(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    if test_config:
        app.config.update(test_config)
    configure_secret_keys(app)

    problems = payment_configuration_problems(app.config)
    if problems:
        raise RuntimeError("The payment settings are not usable: " + " ".join(problems))
    if problem := base_url_problem(app.config["SHOP_BASE_URL"]):
        raise RuntimeError(problem)
    bind_database(
        app.config["DATABASE_URL"], app.config["DATABASE_BUSY_TIMEOUT"], postgres_limits(app.config)
    )
    connect_reactions()
    if app.config.get("PASSWORD_HASH_COST"):
        passwords.configure(**app.config["PASSWORD_HASH_COST"])
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    init_views(app)

    register_commands(app)
    return app


def postgres_limits(config):
    return PostgresLimits(
        pool_size=config["DATABASE_POOL_SIZE"],
        pool_wait=config["DATABASE_POOL_WAIT"],
        statement_timeout=config["DATABASE_STATEMENT_TIMEOUT"],
        lock_timeout=config["DATABASE_LOCK_TIMEOUT"],
    )


def configure_secret_keys(app):
    """SECRET_KEY signs, SECRET_KEY_FALLBACKS (older keys) still verify: the session (Flask),
    the CSRF tokens (Flask-WTF, given the same list) and the shop's own links (models/signing.py).

    On SQLite (one host) a key made on first start in instance/secret_key stands in for a missing
    SECRET_KEY. On PostgreSQL the shop may run on several hosts, which must share one key: a
    host's own file would make every other host's sessions, forms and links invalid there."""
    config = app.config
    config["SECRET_KEY_FALLBACKS"] = key_list(config.get("SECRET_KEY_FALLBACKS"))
    if not config.get("SECRET_KEY"):
        if is_postgres_url(config["DATABASE_URL"]):
            raise RuntimeError(
                "SECRET_KEY is not set. On PostgreSQL the shop may run on several hosts, and they"
                " must all sign sessions, forms and emailed links with the same key: set SECRET_KEY"
                " in the environment (/etc/shop.env) of every host, e.g. to the output of"
                " `python3 -c 'import secrets; print(secrets.token_hex(32))'`, or to the content"
                " of instance/secret_key to keep what the shop signed on SQLite valid."
                " (README, Secret keys and rotation.)"
            )
        config["SECRET_KEY"] = instance_secret_key(app.instance_path)
    if not config.get("WTF_CSRF_SECRET_KEY"):
        config["WTF_CSRF_SECRET_KEY"] = signing_keys(config)


# No inline scripts or styles, nothing from elsewhere (a payment provider's page adds its origins).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "manifest-src 'self'",
    ]
)


def default_config(instance_path):
    env = os.environ
    base_url = env.get("SHOP_BASE_URL", "http://127.0.0.1:5000")
    return {
        "SECRET_KEY": env.get("SECRET_KEY"),
        # Older keys that still verify what they signed, during a rotation (README, Secret keys).
        "SECRET_KEY_FALLBACKS": key_list(env.get("SECRET_KEY_FALLBACKS", "")),
        "DATABASE_URL": env.get("DATABASE_URL") or f"sqlite:///{os.path.join(instance_path, 'shop.sqlite3')}",
        "DATABASE_BUSY_TIMEOUT": float(env.get("DATABASE_BUSY_TIMEOUT", "10")),
        # PostgreSQL only (models.base.PostgresLimits; README, Several web hosts).
        "DATABASE_POOL_SIZE": int(env.get("DATABASE_POOL_SIZE", "4")),
        "DATABASE_POOL_WAIT": float(env.get("DATABASE_POOL_WAIT", "2")),
        "DATABASE_STATEMENT_TIMEOUT": float(env.get("DATABASE_STATEMENT_TIMEOUT", "30")),
        "DATABASE_LOCK_TIMEOUT": float(env.get("DATABASE_LOCK_TIMEOUT", "10")),
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", "0")),
        "PREFERRED_URL_SCHEME": "https" if base_url.startswith("https://") else "http",
        "SESSION_COOKIE_SECURE": base_url.startswith("https://"),
        "REMEMBER_COOKIE_SECURE": base_url.startswith("https://"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # The cookie is written when the session changes, not on every response: a request still in
        # flight with the old cookie (another tab, a polling page) can't put back a session that a
        # new password or a fresh sign-in has just ended. Its lifetime is the server's (sessions.py).
        "SESSION_REFRESH_EACH_REQUEST": False,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        # Sessions end after this long unused, or this long after sign-in (models/users/sessions.py).
        "SESSION_IDLE": datetime.timedelta(days=float(env.get("SESSION_IDLE_DAYS", "30"))),
        "SESSION_MAX": datetime.timedelta(days=float(env.get("SESSION_MAX_DAYS", "90"))),
        "STAFF_SESSION_IDLE": datetime.timedelta(hours=float(env.get("STAFF_SESSION_IDLE_HOURS", "12"))),
        "STAFF_SESSION_MAX": datetime.timedelta(days=float(env.get("STAFF_SESSION_MAX_DAYS", "7"))),
        # The cookie lasts as long as the longest session may; the server ends sessions sooner.
        "PERMANENT_SESSION_LIFETIME": datetime.timedelta(days=float(env.get("SESSION_MAX_DAYS", "90"))),
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "SMTP_HOST": env.get("SMTP_HOST", ""),
        "SMTP_PORT": int(env.get("SMTP_PORT", "587")),
        "SMTP_SECURITY": env.get("SMTP_SECURITY", "starttls"),
        "SMTP_USERNAME": env.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD", ""),
        "SMTP_TIMEOUT": float(env.get("SMTP_TIMEOUT", "20")),
        "MAIL_FROM": env.get("MAIL_FROM", ""),
        "JOBS_LOCK_PATH": env.get("JOBS_LOCK_PATH") or os.path.join(instance_path, "jobs.lock"),
        # PostgreSQL: the scheduler's lock connection, straight to the server (never through
        # PgBouncer in transaction mode); empty: DATABASE_URL (jobs/leadership.py).
        "JOBS_DATABASE_URL": env.get("JOBS_DATABASE_URL", ""),
        "JOBS_TICK_SECONDS": float(env.get("JOBS_TICK_SECONDS", "60")),
        "JOBS_LEADER_CHECK_SECONDS": float(env.get("JOBS_LEADER_CHECK_SECONDS", "5")),
        "JOBS_STANDBY_RETRY_SECONDS": float(env.get("JOBS_STANDBY_RETRY_SECONDS", "5")),
        # The nightly backup (jobs/backup.py); an empty BACKUP_DIR turns it off.
        "BACKUP_DIR": env.get("BACKUP_DIR", os.path.join(instance_path, "backups")),
        "BACKUP_KEEP": int(env.get("BACKUP_KEEP", "14")),
        "SHOP_BASE_URL": base_url,
        "CONTENT_SECURITY_POLICY": CONTENT_SECURITY_POLICY,
        # Card payments: the built-in sandbox (play money) unless a real provider is set up.
        "PAYMENT_PROVIDER": env.get("PAYMENT_PROVIDER", "sandbox"),
        "STRIPE_SECRET_KEY": env.get("STRIPE_SECRET_KEY", ""),
        "STRIPE_PUBLISHABLE_KEY": env.get("STRIPE_PUBLISHABLE_KEY", ""),
        "STRIPE_WEBHOOK_SECRET": env.get("STRIPE_WEBHOOK_SECRET", ""),
        # Tests and local trials only: a fake Stripe (localstripe) instead of Stripe's servers.
        "STRIPE_API_BASE": env.get("STRIPE_API_BASE", ""),
        "STRIPE_JS_URL": env.get("STRIPE_JS_URL", ""),
    }


def instance_secret_key(instance_path):
    """The secret key kept in the instance folder, created once.

    Written to a temporary file and hard-linked into place: the link fails
    if another worker got there first, and then everyone reads the winner's key.
    """
    key_path = Path(instance_path) / "secret_key"
    if not key_path.exists():
        tmp_path = key_path.with_name(f"secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        tmp_path.write_text(secrets.token_hex(32))
        tmp_path.chmod(0o600)
        try:
            os.link(tmp_path, key_path)
        except FileExistsError:
            pass
        finally:
            tmp_path.unlink()
    return key_path.read_text().strip()


# Every `flask --app shop …` command, each defined with the work it does.
COMMANDS = (
    operations.migrate_command,
    operations.demo_command,
    operations.copy_to_postgres_command,
    accounts.create_owner_command,
    ledger.ledger_cli,
    backup.backup_command,
    backup.restore_command,
    reminders.reminders_cli,
    scheduler.jobs_command,
)


def register_commands(app):
    for command in COMMANDS:
        app.cli.add_command(command)
