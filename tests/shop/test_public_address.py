"""The shop's public address has one source, the configuration, read on every start: a shop
that moves changes SHOP_BASE_URL and every later email links to the new address."""

import datetime

import pytest

from jobs.accounts import answer_mail_requests
from models.accounts.credentials import request_password_reset
from models.shop.outbox import OutboxMessage
from shop import create_app
from tests.conftest import app_config


def reset_link_sent_by(app, email):
    with app.test_request_context():
        request_password_reset(email)
        answer_mail_requests(datetime.datetime.now(datetime.UTC))  # the jobs process makes the link
        body = OutboxMessage.select().order_by(OutboxMessage.id.desc()).get().text_body
    return next(line for line in body.split() if "/reset-password/" in line)


def test_links_follow_the_configured_address_after_the_shop_moves(app, customer):
    assert reset_link_sent_by(app, customer.email).startswith("http://shop.test/reset-password/")

    app.config["SHOP_BASE_URL"] = "https://new-home.example/"  # what a restart with the new value reads

    assert reset_link_sent_by(app, customer.email).startswith("https://new-home.example/reset-password/")


@pytest.mark.parametrize("address", ["shop.example", "ftp://shop.example", "https://shop.example/?a=1"])
def test_a_shop_with_an_unusable_address_refuses_to_start(database_url, tmp_path, address):
    with pytest.raises(RuntimeError, match="SHOP_BASE_URL"):
        create_app(app_config(database_url, tmp_path, SHOP_BASE_URL=address))
