"""Secret keys: their format and storage, and company API keys (/api/keys) authenticating the REST API."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import keys
from accounts import services as key_services
from accounts.models import CompanyApiKey
from accounts.roles import Role
from accounts.selectors import company_api_key
from chatbots.models import Chatbot
from config.errors import ApiError
from datasources.models import DataSource
from integrations import access, services
from integrations.models import Integration
from tests.ingestion import upload_bytes
from tests.isolation import assert_foreign_404, assert_foreign_hidden


@pytest.fixture
def staff(owner_a, api_client):
    return api_client(owner_a)


def key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def make_key(user, scope) -> str:
    return key_services.api_key_create(company=user.company, name=f"{scope} key", scope=scope, created_by=user).secret


def raw_row(model, pk) -> list[str]:
    """Every column of the row as the database holds it."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{table}" WHERE id = %s', [pk.hex if connection.vendor == "sqlite" else pk])
        return [str(value) for value in cursor.fetchone()]


# Format and storage

def test_a_secret_key_is_recognisable_random_and_checksummed():
    made = [keys.new_secret(prefix) for prefix in keys.SECRET_PREFIXES]
    for secret in made:
        assert secret.key.startswith(keys.SECRET_PREFIXES) and keys.well_formed(secret.key)
        random_part = secret.key[len(keys.SECRET):-keys.CHECKSUM_LENGTH]
        assert len(random_part) == 32  # 32 base62 characters: 190 bits
    assert len({secret.key for secret in made}) == len(made)


def test_a_one_character_change_is_refused_before_any_lookup(owner_a, django_assert_num_queries):
    secret = make_key(owner_a, "write")
    position = len(keys.READ_WRITE) + 10
    tampered = secret[:position] + ("A" if secret[position] != "A" else "B") + secret[position + 1:]
    assert not keys.well_formed(tampered)
    with django_assert_num_queries(0):
        assert company_api_key(tampered) is None
        with pytest.raises(ApiError):
            access.authorize_server(key=tampered.replace(keys.READ_WRITE, keys.SECRET))
    assert key_client(tampered).get("/api/files").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_key_storage_holds_no_raw_secret(owner_a, company_a):
    company_secret = make_key(owner_a, "write")
    chatbot = Chatbot.objects.create(name="Helpdesk", company=company_a)
    api_secret = services.integration_save(chatbot=chatbot, type="api").secret
    rotated = key_services.api_key_rotate(api_key=CompanyApiKey.objects.get())
    for model, pk, secrets in [(CompanyApiKey, rotated.record.pk, [company_secret, rotated.secret]),
                               (Integration, Integration.objects.get(type="api").pk, [api_secret])]:
        row = raw_row(model, pk)
        for secret in secrets:
            hidden_part = secret[len(keys.public_id(secret)):-4]
            assert not any(secret in column or hidden_part in column for column in row), (model, row)


def test_comparison_uses_the_hash_not_the_public_head(owner_a):
    secret = make_key(owner_a, "read")
    body = keys.public_id(secret) + "x" * (len(secret) - len(keys.public_id(secret)) - keys.CHECKSUM_LENGTH)
    forged = body + keys._checksum(body)  # the same public head, a valid checksum, another secret
    assert keys.well_formed(forged)
    assert company_api_key(forged) is None


# /api/keys

def test_an_owner_creates_a_key_shown_once(staff, owner_a):
    response = staff.post("/api/keys", {"name": "Nightly import", "scope": "write"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["key"].startswith(keys.READ_WRITE) and "shown only once" in body["key_warning"]
    assert body["key_preview"] == f"{keys.public_id(body['key'])}…{body['key'][-4:]}"
    assert body["created_by"] == owner_a.email and body["status"] == "active" and body["last_used_at"] is None
    for path in ["/api/keys", f"/api/keys/{body['id']}"]:
        listed = staff.get(path)
        assert listed.status_code == 200
        assert body["key"] not in listed.content.decode() and "key_warning" not in listed.content.decode()


def test_a_read_only_key_has_its_own_prefix(staff):
    assert staff.post("/api/keys", {"name": "Reports", "scope": "read"}, format="json").json()["key"].startswith(
        keys.READ_ONLY)


@pytest.mark.parametrize("body, field", [({"name": "x", "scope": "admin"}, "scope"), ({"scope": "read"}, "name"),
                                         ({"name": "x" * 101, "scope": "read"}, "name")])
def test_invalid_key_fields_get_a_400(staff, body, field):
    response = staff.post("/api/keys", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_an_admin_manages_keys(admin_a, api_client):
    client = api_client(admin_a)
    created = client.post("/api/keys", {"name": "CI", "scope": "read"}, format="json").json()
    assert client.post(f"/api/keys/{created['id']}/rotate").status_code == 200
    assert client.post(f"/api/keys/{created['id']}/revoke").json()["status"] == "revoked"
    assert client.delete(f"/api/keys/{created['id']}").status_code == 204
    assert not CompanyApiKey.objects.exists()


def test_members_cannot_see_or_manage_keys(member_a, owner_a, api_client):
    key = CompanyApiKey.objects.get(pk=key_services.api_key_create(company=owner_a.company, name="CI", scope="read",
                                                               created_by=owner_a).record.pk)
    member = api_client(member_a)
    attempts = [member.get("/api/keys"), member.get(f"/api/keys/{key.id}"),
                member.post("/api/keys", {"name": "mine", "scope": "write"}, format="json"),
                member.post(f"/api/keys/{key.id}/rotate"), member.post(f"/api/keys/{key.id}/revoke"),
                member.delete(f"/api/keys/{key.id}")]
    assert [response.status_code for response in attempts] == [403] * 6
    assert CompanyApiKey.objects.get().api_key == key.api_key and not CompanyApiKey.objects.get().is_revoked


def test_no_api_key_can_see_or_make_keys_only_a_person(owner_a):
    client = key_client(make_key(owner_a, "write"))
    assert client.get("/api/keys").status_code == 403
    assert client.post("/api/keys", {"name": "escalate", "scope": "write"}, format="json").status_code == 403


# Company keys authenticate the REST API

def test_a_read_key_lists_but_cannot_write(owner_a):
    client = key_client(make_key(owner_a, "read"))
    assert client.get("/api/files").status_code == 200
    response = upload_bytes(client, "notes.txt", b"Opening hours: 9 to 5.")
    assert response.status_code == 403
    assert not DataSource.objects.exists()


def test_a_write_key_uploads_for_its_company(owner_a):
    response = upload_bytes(key_client(make_key(owner_a, "write")), "notes.txt", b"Opening hours: 9 to 5.")
    assert response.status_code == 201, response.content
    assert DataSource.objects.get().company == owner_a.company


def test_a_write_key_cannot_change_the_company(owner_a):
    response = key_client(make_key(owner_a, "write")).patch("/api/company", {"name": "Taken over"}, format="json")
    assert response.status_code == 403
    owner_a.company.refresh_from_db()
    assert owner_a.company.name == "Acme Analytics"


def test_keys_reach_integrations_within_their_scope(owner_a, company_a):
    chatbot = Chatbot.objects.create(name="Helpdesk", company=company_a)
    reader, writer = key_client(make_key(owner_a, "read")), key_client(make_key(owner_a, "write"))
    assert reader.get(f"/api/integrations/{chatbot.id}").status_code == 200
    body = {"chatbot_id": str(chatbot.id), "type": "api"}
    assert reader.post("/api/integrations", body, format="json").status_code == 403
    assert writer.post("/api/integrations", body, format="json").status_code == 201


def test_a_key_never_goes_beyond_its_creators_role(admin_a, company_a):
    chatbot = Chatbot.objects.create(name="Helpdesk", company=company_a)
    client = key_client(make_key(admin_a, "write"))
    admin_a.role = Role.MEMBER
    admin_a.save(update_fields=["role"])
    response = client.post("/api/integrations", {"chatbot_id": str(chatbot.id), "type": "api"}, format="json")
    assert response.status_code == 403


def test_a_revoked_key_gets_401(staff, owner_a):
    secret = make_key(owner_a, "write")
    assert staff.post(f"/api/keys/{CompanyApiKey.objects.get().id}/revoke").status_code == 200
    response = key_client(secret).get("/api/files")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Unknown, rotated or revoked API key."


def test_a_rotated_key_works_during_the_grace_period_and_is_refused_after(staff, owner_a):
    old_secret = make_key(owner_a, "read")
    api_key = CompanyApiKey.objects.get()
    response = staff.post(f"/api/keys/{api_key.id}/rotate")
    assert response.status_code == 200
    new_secret = response.json()["key"]
    assert new_secret.startswith(keys.READ_ONLY) and new_secret != old_secret
    assert response.json()["previous_key_valid_until"] is not None
    assert key_client(old_secret).get("/api/files").status_code == 200
    CompanyApiKey.objects.filter(pk=api_key.pk).update(previous_valid_until=timezone.now() - timedelta(seconds=1))
    assert key_client(old_secret).get("/api/files").status_code == 401
    assert key_client(new_secret).get("/api/files").status_code == 200


def test_rotating_a_revoked_key_is_refused(staff, owner_a):
    make_key(owner_a, "read")
    api_key = key_services.api_key_revoke(api_key=CompanyApiKey.objects.get())
    assert staff.post(f"/api/keys/{api_key.id}/rotate").status_code == 409


def test_use_of_a_key_is_recorded_and_listed(staff, owner_a):
    key_client(make_key(owner_a, "read")).get("/api/files")
    assert staff.get("/api/keys").json()["results"][0]["last_used_at"] is not None


# Another company

def test_a_key_of_company_b_sees_only_bs_files(owner_a, owner_b):
    DataSource.objects.create(company=owner_a.company, name="acme-secret-plan.pdf", type="pdf")
    DataSource.objects.create(company=owner_b.company, name="bolt-recipes.pdf", type="pdf")
    response = assert_foreign_hidden(key_client(make_key(owner_b, "read")), "/api/files", "acme-secret-plan.pdf")
    assert [item["name"] for item in response.json()["results"]] == ["bolt-recipes.pdf"]


def test_another_companys_keys_answer_404_on_every_route(outsider, owner_a):
    issued = key_services.api_key_create(company=owner_a.company, name="acme-nightly-import", scope="write",
                                     created_by=owner_a)
    key_id = issued.record.id
    assert_foreign_hidden(outsider, "/api/keys", "acme-nightly-import", str(key_id))
    assert_foreign_404(outsider, "get", f"/api/keys/{key_id}")
    assert_foreign_404(outsider, "post", f"/api/keys/{key_id}/rotate")
    assert_foreign_404(outsider, "post", f"/api/keys/{key_id}/revoke")
    assert_foreign_404(outsider, "delete", f"/api/keys/{key_id}")
    api_key = CompanyApiKey.objects.get()
    assert api_key.api_key == issued.record.api_key and not api_key.is_revoked
    assert key_client(issued.secret).get("/api/files").status_code == 200
