"""The withdrawal tests' fixtures."""

import pytest


@pytest.fixture
def buyer(ctx, make_customer):
    """A customer, inside the test's request context (for the links in the order emails)."""
    return make_customer(first_name="Camille", last_name="Martin")
