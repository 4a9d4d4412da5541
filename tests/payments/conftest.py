"""The payment tests run with card payments through the fake Stripe."""

import pytest

from tests.stripe_fake import stripe_config


@pytest.fixture
def app_overrides(stripe_server):
    return stripe_config(stripe_server)
