"""National cryptography (国密) for yiwang.

- SM3 hashes chain the audit log.
- SM4-GCM encrypts personal data at rest. A ciphertext names its key id, so keys can be
  rotated: the active key encrypts, every configured key decrypts, and ``rotate_keys``
  re-encrypts old values.
- HMAC-SM3 with a separate key is the blind index: an encrypted ID number can be found
  by exact value without decrypting the table.

Keys come from the environment (see settings). Without them a development key is
derived from SECRET_KEY under the key id ``dev``, which ``yw check-deploy`` refuses.
"""

from __future__ import annotations

import base64
import functools
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEV_KEY_ID = "dev"
CIPHERTEXT_PREFIX = "sm4gcm"
NONCE_BYTES = 12
TAG_BYTES = 16


class DecryptionError(Exception):
    pass


def sm3_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def hmac_sm3_hex(key: bytes, data: bytes) -> str:
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize().hex()


def _derive(label: str, length: int) -> bytes:
    return bytes.fromhex(sm3_hex(f"{label}:{settings.SECRET_KEY}".encode()))[:length]


@functools.cache
def _keyring() -> tuple[str, dict[str, bytes]]:
    spec = settings.YIWANG_SM4_KEYS.strip()
    if not spec:
        return DEV_KEY_ID, {DEV_KEY_ID: _derive("yiwang-sm4-dev", 16)}
    keys: dict[str, bytes] = {}
    for item in spec.split(","):
        kid, _, hexkey = item.strip().partition(":")
        try:
            key = bytes.fromhex(hexkey)
        except ValueError:
            raise ImproperlyConfigured(f"SM4 key {kid!r} is not hexadecimal") from None
        if not kid or len(key) != 16:
            raise ImproperlyConfigured(f"SM4 key {kid!r} must be 16 bytes (32 hex digits)")
        if kid in keys:  # the second key would silently make data under the first unreadable
            raise ImproperlyConfigured(f"SM4 key id {kid!r} is given twice")
        keys[kid] = key
    active = settings.YIWANG_SM4_ACTIVE_KEY_ID or next(iter(keys))
    if active not in keys:
        raise ImproperlyConfigured(f"YIWANG_SM4_ACTIVE_KEY_ID {active!r} is not among the keys")
    return active, keys


@functools.cache
def _blind_index_key() -> bytes:
    spec = settings.YIWANG_BLIND_INDEX_KEY.strip()
    if not spec:
        return _derive("yiwang-blind-index-dev", 32)
    try:
        key = bytes.fromhex(spec)
    except ValueError:
        raise ImproperlyConfigured("YIWANG_BLIND_INDEX_KEY is not hexadecimal") from None
    if len(key) < 16:
        raise ImproperlyConfigured("YIWANG_BLIND_INDEX_KEY must be at least 16 bytes")
    return key


def reset_key_cache() -> None:
    _keyring.cache_clear()
    _blind_index_key.cache_clear()


def active_key_id() -> str:
    return _keyring()[0]


def using_dev_keys() -> bool:
    return not settings.YIWANG_SM4_KEYS.strip() or not settings.YIWANG_BLIND_INDEX_KEY.strip()


def encrypt(plaintext: str, *, associated_data: bytes = b"") -> str:
    """Encrypt with SM4-GCM under the active key: ``sm4gcm:<kid>:<b64 nonce|ct|tag>``."""
    kid, keys = _keyring()
    nonce = os.urandom(NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(keys[kid]), modes.GCM(nonce)).encryptor()
    if associated_data:
        encryptor.authenticate_additional_data(associated_data)
    body = encryptor.update(plaintext.encode()) + encryptor.finalize()
    blob = base64.b64encode(nonce + body + encryptor.tag).decode()
    return f"{CIPHERTEXT_PREFIX}:{kid}:{blob}"


def key_id_of(ciphertext: str) -> str:
    return ciphertext.split(":", 2)[1]


def decrypt(ciphertext: str, *, associated_data: bytes = b"") -> str:
    try:
        prefix, kid, blob = ciphertext.split(":", 2)
        raw = base64.b64decode(blob, validate=True)
    except ValueError:
        raise DecryptionError("not an SM4-GCM ciphertext") from None
    if prefix != CIPHERTEXT_PREFIX or len(raw) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("not an SM4-GCM ciphertext")
    keys = _keyring()[1]
    if kid not in keys:
        raise DecryptionError(f"unknown key id {kid!r}")
    nonce, body, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(keys[kid]), modes.GCM(nonce, tag)).decryptor()
    if associated_data:
        decryptor.authenticate_additional_data(associated_data)
    try:
        return (decryptor.update(body) + decryptor.finalize()).decode()
    except InvalidTag:
        raise DecryptionError("ciphertext was altered or the key is wrong") from None


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed hash of a normalised value; ``purpose`` separates ID numbers from phones."""
    return hmac_sm3_hex(_blind_index_key(), f"{purpose}\x00{value}".encode())
