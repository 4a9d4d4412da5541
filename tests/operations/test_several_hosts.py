"""Two web hosts behind one address, on one database (README, Several web hosts): each host has
its own instance folder, they share SECRET_KEY and the database. What one host does, the other
serves: the session, an open form, an uploaded picture."""

import os

import pytest

from models.base import db
from models.storefront.catalog import Product
from models.storefront.pictures import ProductPicture
from shop import create_app
from tests.conftest import app_config
from tests.conftest import csrf_token
from tests.conftest import sign_in
from tests.shop.test_secret_keys import move_cookies
from tests.storefront.test_pictures import camera_jpeg
from tests.storefront.test_pictures import NEW
from tests.storefront.test_pictures import product_form
from tests.storefront.test_pictures import tea  # noqa: F401 - the fixture
from tests.storefront.test_pictures import upload

SHARED_KEY = "one-key-for-every-host"


@pytest.fixture
def hosts(app, database_url, tmp_path):
    """Two apps, each with its own instance folder. In one process they share the database handle
    (models.base.db): it is put back on the test's open connection once both have started."""
    handle = db.obj
    host_a = create_app(app_config(database_url, tmp_path / "a", SECRET_KEY=SHARED_KEY))
    host_b = create_app(app_config(database_url, tmp_path / "b", SECRET_KEY=SHARED_KEY))
    db.initialize(handle)
    assert host_a.instance_path != host_b.instance_path
    return host_a, host_b


def test_signed_in_on_one_host_and_a_form_from_it_posted_to_the_other(hosts, customer):
    host_a, host_b = hosts
    on_a, on_b = host_a.test_client(), host_b.test_client()
    sign_in(on_a, customer)
    token = csrf_token(on_a, "/account/")
    move_cookies(on_a, on_b)
    assert on_b.get("/account/profile").status_code == 200
    signed_out = on_b.post("/sign-out", data={"csrf_token": token})
    assert signed_out.status_code == 303, signed_out.get_data(as_text=True)  # not "form expired"


def test_a_picture_uploaded_through_one_host_is_served_by_the_other(hosts, owner, tea):  # noqa: F811
    host_a, host_b = hosts
    on_a = host_a.test_client()
    sign_in(on_a, owner)
    response = upload(on_a, NEW, camera_jpeg(), "IMG_0001.JPG", **product_form(tea))
    assert response.status_code == 303, response.get_data(as_text=True)[:1000]
    product = Product.get(Product.name == "Oolong, 100 g")
    stored = ProductPicture.get((ProductPicture.key == product.image) & (ProductPicture.width == 640))
    from_b = host_b.test_client().get(f"/pictures/{product.image}-640.webp")
    assert from_b.status_code == 200
    assert from_b.data == bytes(stored.data)
    assert from_b.get_data() == host_a.test_client().get(f"/pictures/{product.image}-640.webp").get_data()
    for host in hosts:  # nothing written beside the database
        folder = host.instance_path
        assert not any(name.endswith(".webp") for _, _, names in os.walk(folder) for name in names)
