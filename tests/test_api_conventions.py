"""Every API error has one JSON shape; the spec's paths answer with and without a slash."""

import pytest


def test_spec_paths_answer_without_and_with_a_trailing_slash(owner_a, api_client):
    client = api_client(owner_a)
    assert client.get("/api/company").status_code == 200
    assert client.get("/api/company/").status_code == 200


def test_writes_are_served_in_place_never_redirected(owner_a, api_client):
    client = api_client(owner_a)
    for path in ["/api/company", "/api/company/"]:
        response = client.patch(path, {"name": "Acme Renamed"}, format="json")
        assert response.status_code == 200
        assert response.json()["name"] == "Acme Renamed"


def test_an_unauthenticated_request_gets_401_in_the_error_shape(db, api_client):
    response = api_client().get("/api/company")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response.json()["error"]["message"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_api_path_gets_404_in_the_error_shape(db, api_client):
    response = api_client().get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found.", "details": {}}}


def test_a_wrong_method_gets_405_in_the_error_shape(owner_a, api_client):
    response = api_client(owner_a).post("/api/me", {}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_invalid_fields_get_400_with_details_per_field(owner_a, api_client):
    response = api_client(owner_a).patch("/api/company", {"logo": "not a url"}, format="json")
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid"
    assert "logo" in body["details"]


def test_malformed_json_gets_400_in_the_error_shape(owner_a, api_client):
    response = api_client(owner_a).generic("PATCH", "/api/company", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_a_user_without_company_gets_403_with_a_reason(superuser, api_client):
    response = api_client(superuser).get("/api/company")
    assert response.status_code == 403
    assert "does not belong to a company" in response.json()["error"]["message"]


def test_session_writes_without_csrf_token_are_refused_in_the_error_shape(owner_a):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner_a)
    response = client.patch("/api/company", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_the_openapi_schema_and_docs_are_served(db, client, path):
    response = client.get(path)
    assert response.status_code == 200


def test_the_schema_lists_the_api_endpoints(db, client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert "/api/company" in schema["paths"]
    assert "/api/me" in schema["paths"]


def test_the_browsable_api_renders_html_for_a_browser(owner_a, client):
    client.force_login(owner_a)
    response = client.get("/api/company", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert "Acme Analytics" in response.content.decode()
    assert response["Content-Type"].startswith("text/html")


def test_pages_refuse_to_be_framed(db, client):
    assert client.get("/login/")["X-Frame-Options"] == "DENY"


def test_the_schema_documents_each_spec_path_once(db, client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert "/api/company/" not in schema["paths"]
