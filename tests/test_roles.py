from accounts.models import Company, User


def test_a_member_cannot_change_company_settings(member_a, api_client):
    response = api_client(member_a).patch("/api/company", {"name": "Mine now"}, format="json")
    assert response.status_code == 403
    assert "role does not allow" in response.json()["error"]["message"]


def test_an_admin_can_change_company_settings_but_not_delete_it(admin_a, api_client):
    client = api_client(admin_a)
    assert client.patch("/api/company", {"name": "Acme II"}, format="json").status_code == 200
    response = client.delete("/api/company")
    assert response.status_code == 403
    assert Company.objects.filter(name="Acme II").exists()


def test_the_owner_deletes_the_company_with_its_users(owner_a, member_a, owner_b, api_client):
    assert api_client(owner_a).delete("/api/company").status_code == 204
    assert not Company.objects.filter(name="Acme Analytics").exists()
    assert not User.objects.filter(email__endswith="@acme.test").exists()
    assert User.objects.filter(email="owner@bolt.test").exists()


def test_every_role_reads_its_own_company(member_a, api_client):
    body = api_client(member_a).get("/api/me").json()
    assert body["role"] == "member"
    assert body["company"]["name"] == "Acme Analytics"
    assert body["company"]["limits"]["max_files"] > 0
