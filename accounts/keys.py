"""API key format: recognisable, random, checksummed; secrets stored only as hashes.

    dct_sk_<32 base62 random><6 base62 CRC32>    secret key of an `api` integration (server to server)
    dct_rw_… / dct_ro_…                          company API keys, read-write / read-only
    dct_pk_<24 base62 random><6 base62 CRC32>    publishable key of a widget or iframe (not secret)

The prefix lets people and secret scanners recognise a leaked key; the checksum lets a scanner
tell a real key from random text without asking us. 32 base62 characters carry 190 bits.
"""

import hashlib
import hmac
import secrets
import string
import zlib
from dataclasses import dataclass

ALPHABET = string.digits + string.ascii_letters  # base62
SECRET_RANDOM_LENGTH = 32
PUBLISHABLE_RANDOM_LENGTH = 24
CHECKSUM_LENGTH = 6
PUBLIC_ID_RANDOM_LENGTH = 8  # the part of a secret key that may be shown and stored readable

SECRET = "dct_sk_"
READ_WRITE = "dct_rw_"
READ_ONLY = "dct_ro_"
PUBLISHABLE = "dct_pk_"
SECRET_PREFIXES = (SECRET, READ_WRITE, READ_ONLY)
COMPANY_PREFIXES = (READ_WRITE, READ_ONLY)


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, remainder = divmod(number, 62)
        digits.append(ALPHABET[remainder])
    return "".join(reversed(digits))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), CHECKSUM_LENGTH)


def _random(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def _make(prefix: str, length: int) -> str:
    body = prefix + _random(length)
    return body + _checksum(body)


def well_formed(key: str) -> bool:
    """Right prefix, length, alphabet and checksum: worth a database lookup."""
    for prefix, length in [*((p, SECRET_RANDOM_LENGTH) for p in SECRET_PREFIXES),
                           (PUBLISHABLE, PUBLISHABLE_RANDOM_LENGTH)]:
        if key.startswith(prefix) and len(key) == len(prefix) + length + CHECKSUM_LENGTH:
            body, checksum = key[:-CHECKSUM_LENGTH], key[-CHECKSUM_LENGTH:]
            return all(c in ALPHABET for c in key[len(prefix):]) and hmac.compare_digest(checksum, _checksum(body))
    return False


def public_id(key: str) -> str:
    """The readable identifier of a secret key (its prefix and first random characters)."""
    prefix = key[:7]
    return key[: len(prefix) + PUBLIC_ID_RANDOM_LENGTH]


def hash_key(key: str) -> str:
    # The random part carries 190 bits, so a fast hash cannot be brute-forced; no salt needed.
    return hashlib.sha256(key.encode()).hexdigest()


def matches(key: str, stored_hash: str) -> bool:
    return bool(stored_hash) and hmac.compare_digest(hash_key(key), stored_hash)


@dataclass(frozen=True)
class NewSecret:
    """A freshly made secret key: `key` is shown once; the rest is what is stored."""

    key: str
    public_id: str
    hash: str
    last_four: str


def new_secret(prefix: str = SECRET) -> NewSecret:
    key = _make(prefix, SECRET_RANDOM_LENGTH)
    return NewSecret(key=key, public_id=public_id(key), hash=hash_key(key), last_four=key[-4:])


def new_publishable() -> str:
    return _make(PUBLISHABLE, PUBLISHABLE_RANDOM_LENGTH)
