"""Writes for integrations and company API keys: create, change origins, rotate, revoke, delete.

A secret (an `api` integration's key, a company API key) exists in clear only in the `IssuedKey`
a create or rotate returns, to be shown once; the database keeps its public id, hash and last four.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Company, User
from chatbots.models import Chatbot
from config.errors import ApiError
from integrations import keys
from integrations.access import normalize_origin
from integrations.middleware import forget_cors_origins
from integrations.models import CompanyApiKey, Integration, RotatingKey

MAX_ALLOWED_ORIGINS = 20
SHOWN_ONCE = "Copy this key now: it is shown only once. Docent stores only its hash and cannot show it again."


@dataclass(frozen=True)
class IssuedKey:
    """A record with the key just made for it; `secret` is the clear secret, or None for a publishable key."""

    record: RotatingKey
    secret: str | None
    created: bool = True


def grace_hours() -> int:
    """How long a rotated key keeps working (INTEGRATION_KEY_GRACE_HOURS, default 24)."""
    return django_settings.INTEGRATION_KEY_GRACE_HOURS


def clean_allowed_origins(values: list[str]) -> list[str]:
    """Each value as the origin a browser sends (`https://www.example.com`), deduplicated, in order."""
    if len(values) > MAX_ALLOWED_ORIGINS:
        raise _invalid_origins(f"At most {MAX_ALLOWED_ORIGINS} allowed origins; you gave {len(values)}.")
    problems, origins = {}, []
    for index, value in enumerate(values):
        origin = normalize_origin(value)
        if origin is None:
            problems[str(index)] = [_origin_problem(value)]
        elif origin not in origins:
            origins.append(origin)
    if problems:
        raise _invalid_origins("Some allowed origins are invalid; see details.", problems)
    return origins


def _origin_problem(value: str) -> str:
    if "*" in value:
        return f"{value!r}: wildcards are not allowed; list each site's origin."
    if not value.lower().startswith(("http://", "https://")):
        return f"{value!r}: an origin starts with https:// (or http://), like https://www.example.com."
    return f"{value!r} is not an origin: give only scheme, host and port, like https://www.example.com."


def _invalid_origins(message: str, per_item: dict | None = None) -> ApiError:
    return ApiError(message, code="invalid", details={"settings": {"allowed_origins": per_item or [message]}})


def clean_integration_settings(*, type: str, settings: dict) -> dict:
    """Settings as stored: allowed origins normalized; refused with a 400 that says why."""
    origins = clean_allowed_origins(settings.get("allowed_origins", []))
    if origins and type == Integration.Type.API:
        raise _invalid_origins("An API integration is called from servers, not browsers: allowed origins "
                               "apply to widget and iframe integrations only.")
    return {**settings, "allowed_origins": origins}


def _issue(record: RotatingKey, prefix: str | None) -> str | None:
    """Give `record` a new key (not saved); return the secret, or None when the key is publishable."""
    if prefix is None:
        record.api_key, record.key_hash, record.key_last_four = keys.new_publishable(), "", ""
        return None
    secret = keys.new_secret(prefix)
    record.api_key, record.key_hash, record.key_last_four = secret.public_id, secret.hash, secret.last_four
    return secret.key


def _integration_prefix(integration: Integration) -> str | None:
    return None if integration.is_publishable else keys.SECRET


def _api_key_prefix(api_key: CompanyApiKey) -> str:
    return keys.READ_ONLY if api_key.scope == CompanyApiKey.Scope.READ else keys.READ_WRITE


def ensure_widget_integration(*, chatbot: Chatbot) -> Integration:
    """The chatbot's widget integration, made on first need: every chatbot has one from the start.

    `chatbots` does not know about integrations, so this runs wherever integrations are read;
    the one-per-type constraint makes two concurrent first reads agree on one row.
    """
    existing = Integration.objects.filter(chatbot=chatbot, type=Integration.Type.WIDGET).first()
    if existing is not None:
        return existing
    integration = Integration(chatbot=chatbot, company_id=chatbot.company_id, type=Integration.Type.WIDGET,
                              settings={"allowed_origins": []})
    _issue(integration, None)
    try:
        with transaction.atomic():
            integration.save(force_insert=True)
    except IntegrityError:
        return Integration.objects.get(chatbot=chatbot, type=Integration.Type.WIDGET)
    return integration


@transaction.atomic
def integration_save(*, chatbot: Chatbot, type: str, settings: dict | None = None) -> IssuedKey:
    """Create the chatbot's integration of this type, or update its settings if it exists.

    A new `api` integration comes with its secret, returned here only.
    """
    integration = Integration.objects.select_for_update().filter(chatbot=chatbot, type=type).first()
    if integration is not None:
        if settings is not None:
            integration = integration_update(integration=integration, settings=settings)
        return IssuedKey(record=integration, secret=None, created=False)
    integration = Integration(chatbot=chatbot, company_id=chatbot.company_id, type=type,
                              settings=clean_integration_settings(type=type, settings=settings or {}))
    secret = _issue(integration, _integration_prefix(integration))
    try:
        with transaction.atomic():
            integration.save(force_insert=True)
    except IntegrityError:  # created by a concurrent request a moment ago
        raise ApiError(f"This chatbot already has a {type} integration; try again to update it.",
                       code="conflict", status_code=409) from None
    _origins_changed()
    return IssuedKey(record=integration, secret=secret)


@transaction.atomic
def integration_update(*, integration: Integration, settings: dict) -> Integration:
    """Replace the settings given (allowed origins, …), keeping the others."""
    integration.settings = clean_integration_settings(type=integration.type,
                                                       settings={**integration.settings, **settings})
    integration.save(update_fields=["settings", "updated_at"])
    _origins_changed()
    return integration


def integration_rotate(*, integration: Integration) -> IssuedKey:
    return _rotate(integration, _integration_prefix(integration))


def integration_revoke(*, integration: Integration) -> Integration:
    integration = _revoke(integration)
    _origins_changed()
    return integration


def integration_delete(*, integration: Integration) -> None:
    integration.delete()
    _origins_changed()


def _origins_changed() -> None:
    """CORS follows a change of allowed origins (or of who may use them) at once, not when its cache expires."""
    transaction.on_commit(forget_cors_origins)


@transaction.atomic
def api_key_create(*, company: Company, name: str, scope: str, created_by: User) -> IssuedKey:
    """A company API key acting as `created_by`, within `scope`; the secret is returned here only."""
    api_key = CompanyApiKey(company=company, name=name, scope=scope, created_by=created_by)
    secret = _issue(api_key, _api_key_prefix(api_key))
    api_key.save(force_insert=True)
    return IssuedKey(record=api_key, secret=secret)


def api_key_rotate(*, api_key: CompanyApiKey) -> IssuedKey:
    return _rotate(api_key, _api_key_prefix(api_key))


def api_key_revoke(*, api_key: CompanyApiKey) -> CompanyApiKey:
    return _revoke(api_key)


def api_key_delete(*, api_key: CompanyApiKey) -> None:
    api_key.delete()


_KEY_FIELDS = ["api_key", "key_hash", "key_last_four", "previous_api_key", "previous_key_hash",
               "previous_valid_until"]


@transaction.atomic
def _rotate(record: RotatingKey, prefix: str | None) -> IssuedKey:
    """A new key; the current one keeps working for the grace period, the one before it stops now."""
    record = type(record).objects.select_for_update().get(pk=record.pk)
    if record.is_revoked:
        raise ApiError("This key is revoked and cannot be rotated; delete it and create a new one.",
                       code="revoked", status_code=409)
    record.previous_api_key, record.previous_key_hash = record.api_key, record.key_hash
    record.previous_valid_until = timezone.now() + timedelta(hours=grace_hours())
    secret = _issue(record, prefix)
    record.save(update_fields=_KEY_FIELDS + _updated_at(record))
    return IssuedKey(record=record, secret=secret)


@transaction.atomic
def _revoke(record: RotatingKey) -> RotatingKey:
    """Refused from now on, the current key and any previous one still in its grace period."""
    record = type(record).objects.select_for_update().get(pk=record.pk)
    if not record.is_revoked:
        record.revoked_at = timezone.now()
        record.previous_valid_until = None
        record.save(update_fields=["revoked_at", "previous_valid_until"] + _updated_at(record))
    return record


def _updated_at(record: RotatingKey) -> list[str]:
    return ["updated_at"] if hasattr(record, "updated_at") else []
