from datasources.embedders import get_embedder


def test_healthz_says_the_process_is_alive(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_each_dependency_and_names_the_engines(db, client, settings):
    get_embedder().prepare()  # as a web process does when it starts (config.startup)
    response = client.get("/readyz/")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "cache", "channel_layer", "task_backend", "storage",
                                   "embedding_model"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["engines"]["embedding"] == settings.EMBEDDING_BACKEND
    assert body["engines"]["vector_index"] == settings.VECTOR_BACKEND
    assert body["engines"]["answers"] == settings.ANSWER_BACKEND


def test_readyz_says_plainly_when_retrieval_is_lexical_only(db, client, settings):
    settings.EMBEDDING_BACKEND = "none"
    assert client.get("/readyz").json()["engines"]["retrieval"] == "lexical-only (no embedding backend)"
    settings.EMBEDDING_BACKEND = "local"
    assert client.get("/readyz").json()["engines"]["retrieval"] == "hybrid"


def test_readyz_answers_503_naming_the_broken_dependency(db, client, settings):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": "docent", "endpoint_url": "http://127.0.0.1:9", "access_key": "x",
                    "secret_key": "y", "region_name": "us-east-1"},
    }}
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["storage"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
