"""Accounts in the jobs process: answering the mail visitors asked for, and the `flask create-owner`
command (the shop owner's account, from the command line)."""

import logging
import sys

import click
from flask.cli import with_appcontext

from models.accounts import mail_requests
from models.accounts.administration import create_user
from models.accounts.credentials import send_password_reset
from models.accounts.inbox import send_sign_in_code
from models.base import connection
from models.base import to_naive_utc
from models.base import write_transaction
from models.users.tokens import RESET_PASSWORD
from models.users.user import OWNER
from models.users.user import User

log = logging.getLogger("shop.jobs")


def answer_mail_requests(now):
    """Answer the reset links and sign-in codes visitors asked for (models/accounts/mail_requests.py).

    Runs with mail delivery, every few seconds, so a code arrives as quickly as before. Each request
    is taken and answered in one transaction: answered once, or (a failure) left for the next run.
    """
    moment = to_naive_utc(now)
    for request in mail_requests.waiting(now):
        try:
            with write_transaction():
                if not mail_requests.take(request):
                    continue
                if request.kind == RESET_PASSWORD:
                    send_password_reset(request.email, moment)
                else:
                    send_sign_in_code(request.ticket, moment)
        except Exception:  # one bad request (a bug) must not hold up the others or the mail
            log.exception("mail request %s not answered; it is tried again on the next run", request.id)


@click.command("create-owner")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_owner_command(email, password_stdin):
    """Create the shop owner's account."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise click.ClickException("The password needs at least 8 characters.")
    with connection():
        if User.by_email(email):
            raise click.ClickException(f"{email} already has an account.")
        user = create_user(email, password, role=OWNER)
    click.echo(f"Owner {user.email} created.")
