"""Writes for integrations: create, change origins, rotate, revoke, delete.

An `api` integration's secret exists in clear only in the `IssuedKey` a create or rotate returns,
to be shown once; the database keeps its public id, hash and last four (accounts.keys).
"""

from django.db import IntegrityError, transaction

from accounts import keys
from accounts.services import IssuedKey, key_issue, key_revoke, key_rotate
from chatbots.models import Chatbot
from config.errors import ApiError
from config.sockets import access_changed
from integrations.access import normalize_origin
from integrations.middleware import forget_cors_origins
from integrations.models import Integration

MAX_ALLOWED_ORIGINS = 20


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


def _integration_prefix(integration: Integration) -> str | None:
    return None if integration.is_publishable else keys.SECRET


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
    key_issue(integration, None)
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
    secret = key_issue(integration, _integration_prefix(integration))
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
    _access_changed(integration)
    return integration


def integration_rotate(*, integration: Integration) -> IssuedKey:
    return key_rotate(integration, _integration_prefix(integration))


def integration_revoke(*, integration: Integration) -> Integration:
    integration = key_revoke(integration)
    _access_changed(integration)
    return integration


def integration_delete(*, integration: Integration) -> None:
    _access_changed(integration)
    integration.delete()


def _access_changed(integration: Integration) -> None:
    """Who may use the integration changed (its origins, its key): CORS follows at once, not when its
    cache expires, and its open sockets check their access again."""
    _origins_changed()
    access_changed("integration", integration.id)


def _origins_changed() -> None:
    transaction.on_commit(forget_cors_origins)
