"""The `flask create-owner` command: the shop owner's account, from the command line."""

import sys

import click
from flask.cli import with_appcontext

from models.accounts.administration import create_user
from models.base import connection
from models.users.user import OWNER
from models.users.user import User


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
