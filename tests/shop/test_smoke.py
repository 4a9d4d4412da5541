from tests.conftest import sign_in


def test_front_page_renders_with_shop_name(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Test Shop" in response.get_data(as_text=True)


def test_owner_sees_admin_dashboard(client, owner):
    sign_in(client, owner)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "Dashboard" in response.get_data(as_text=True)
