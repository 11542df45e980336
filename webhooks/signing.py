"""Endpoint secrets: made, stored encrypted, read back to sign each delivery.

A secret is encrypted with Fernet under WEBHOOK_SECRET_KEYS (from the environment, never the
database); several keys may be listed to change them: the first encrypts, any decrypts. With
DEBUG on and none set, settings derive one from SECRET_KEY.

Each delivery carries `Docent-Timestamp` and `Docent-Signature: v1=<hex>[,v1=<hex>]`, the
HMAC-SHA256 of "<timestamp>.<body>" under each secret that signs (two during a rotation's grace
period). VERIFY_PYTHON, shown in the dashboard, is what a receiver runs.
"""

import hashlib
import hmac
import secrets
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from config.errors import ApiError

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"

VERIFY_PYTHON = '''\
import hashlib, hmac, time

def verify(secret: str, body: bytes, timestamp: str, signature: str) -> bool:
    """body: the raw request body; timestamp, signature: the Docent-Timestamp and Docent-Signature headers."""
    if abs(time.time() - int(timestamp)) > 300:
        return False  # too old: refuse replays
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, part.strip().removeprefix("v1=")) for part in signature.split(","))
'''

VERIFY_NODE = '''\
const crypto = require("crypto");

function verify(secret, body, timestamp, signature) {  // body: the raw request body (a Buffer)
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;  // too old: refuse replays
  const expected = crypto.createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex");
  return signature.split(",").some((part) => {
    const given = Buffer.from(part.trim().replace(/^v1=/, ""));
    return given.length === expected.length && crypto.timingSafeEqual(given, Buffer.from(expected));
  });
}
'''


class SecretsUnavailable(ApiError):
    status_code = 503
    default_code = "webhooks_unavailable"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


@cache
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise SecretsUnavailable("Webhooks are not set up on this server: its operator must set "
                                 "WEBHOOK_SECRET_KEYS (see the README).")
    return MultiFernet([Fernet(key) for key in keys])  # each checked when the settings were read


def cipher() -> MultiFernet:
    return _cipher(tuple(settings.WEBHOOK_SECRET_KEYS))


def encrypt(secret: str) -> str:
    return cipher().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return cipher().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretsUnavailable("An endpoint's signing secret cannot be read with the keys in WEBHOOK_SECRET_KEYS; "
                                 "rotate the endpoint's secret.") from None


def signature_header(signing_secrets: list[str], timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return ",".join(f"{SIGNATURE_VERSION}={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"
                    for secret in signing_secrets)
