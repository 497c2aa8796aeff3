"""Wrapping secrets: a key sealed under a password, under another key, or to a public key.

The at-rest keys of docs/keys.md build on these three: the database key wrapped once per user
(``wrap_with_password``) and once for the station's recovery key (``seal_to``), an officer's
signing key wrapped by the officer's password. A wrap is a small JSON-able dict; it names its
own parameters, and because wraps are read from files that may have been tampered with, every
parameter is bounded before it is used (a wrap cannot make the machine derive a key for an
hour or allocate gigabytes). A wrong password, a wrong key, a wrap moved to another purpose
(the associated data differs) or an edited wrap all raise ``WrapError`` — one exception, so
callers give one message and never say which it was.

A leaf module: only the standard library and ``cryptography``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Any

KEY_BYTES = 32
# scrypt for a key that opens a database or signs a document: ≈ 2× the password verifier's
# cost (n = 2¹⁴), still well under the start-up budget (tests/perf/keywrap_bench.py)
PASSWORD_KDF = {"n": 2**15, "r": 8, "p": 1}
_MAX_N, _MAX_R, _MAX_P = 2**17, 16, 4
_MAXMEM = 256 * 2**20
_SALT_BYTES = 16
_NONCE_BYTES = 12
_MAX_SECRET_BYTES = 4096


class WrapError(Exception):
    """The wrap does not open: a wrong password or key, another purpose, or an edited wrap."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: Any, *, size: int | None = None, limit: int = _MAX_SECRET_BYTES + 16) -> bytes:
    if not isinstance(value, str) or len(value) > 2 * limit:
        raise WrapError("bad field")
    try:
        data = base64.b64decode(value, validate=True)
    except ValueError:
        raise WrapError("bad field") from None
    if (size is not None and len(data) != size) or len(data) > limit:
        raise WrapError("bad field")
    return data


def _aead_seal(key: bytes, secret: bytes, aad: bytes) -> tuple[bytes, bytes]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(secret) > _MAX_SECRET_BYTES:
        raise ValueError("secret too long to wrap")
    nonce = os.urandom(_NONCE_BYTES)
    return nonce, AESGCM(key).encrypt(nonce, secret, aad)


def _aead_open(key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        return AESGCM(key).decrypt(nonce, sealed, aad)
    except InvalidTag:
        raise WrapError("does not open") from None


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=KEY_BYTES)


def _kdf_params(wrapped: dict[str, Any]) -> tuple[int, int, int]:
    kdf = wrapped.get("kdf")
    if not isinstance(kdf, dict) or kdf.get("name") != "scrypt":
        raise WrapError("bad kdf")
    try:
        n, r, p = (int(kdf[k]) for k in ("n", "r", "p"))
    except (KeyError, TypeError, ValueError):
        raise WrapError("bad kdf") from None
    if not (2 <= n <= _MAX_N and n & (n - 1) == 0 and 1 <= r <= _MAX_R and 1 <= p <= _MAX_P):
        raise WrapError("bad kdf")
    return n, r, p


def wrap_with_password(secret: bytes, password: str, *, aad: bytes) -> dict[str, Any]:
    """``secret`` sealed with AES-256-GCM under scrypt(``password``); ``aad`` binds it to its purpose."""
    salt = os.urandom(_SALT_BYTES)
    kdf = dict(PASSWORD_KDF)
    key = _scrypt(password, salt, kdf["n"], kdf["r"], kdf["p"])
    nonce, sealed = _aead_seal(key, secret, aad)
    return {"v": 1, "kdf": {"name": "scrypt", **kdf, "salt": _b64(salt)}, "nonce": _b64(nonce), "ct": _b64(sealed)}


def unwrap_with_password(wrapped: dict[str, Any], password: str, *, aad: bytes) -> bytes:
    if not isinstance(wrapped, dict) or wrapped.get("v") != 1:
        raise WrapError("bad wrap")
    n, r, p = _kdf_params(wrapped)
    salt = _unb64(wrapped["kdf"].get("salt"), size=_SALT_BYTES)
    nonce = _unb64(wrapped.get("nonce"), size=_NONCE_BYTES)
    sealed = _unb64(wrapped.get("ct"))
    return _aead_open(_scrypt(password, salt, n, r, p), nonce, sealed, aad)


def wrap_with_key(secret: bytes, key: bytes, *, aad: bytes) -> dict[str, Any]:
    """``secret`` sealed under a 32-byte ``key`` (no derivation: the key is already random)."""
    if len(key) != KEY_BYTES:
        raise ValueError("a wrapping key has 32 bytes")
    nonce, sealed = _aead_seal(key, secret, aad)
    return {"v": 1, "kdf": {"name": "none"}, "nonce": _b64(nonce), "ct": _b64(sealed)}


def unwrap_with_key(wrapped: dict[str, Any], key: bytes, *, aad: bytes) -> bytes:
    if not isinstance(wrapped, dict) or wrapped.get("v") != 1 or wrapped.get("kdf") != {"name": "none"}:
        raise WrapError("bad wrap")
    if len(key) != KEY_BYTES:
        raise WrapError("bad key")
    return _aead_open(key, _unb64(wrapped.get("nonce"), size=_NONCE_BYTES), _unb64(wrapped.get("ct")), aad)


def _shared_key(shared: bytes, ephemeral_public: bytes, recipient_public: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(hashes.SHA256(), KEY_BYTES, salt=ephemeral_public + recipient_public,
                info=b"yxjc keywrap x25519 v1").derive(shared)


def new_recipient_key() -> tuple[str, str]:
    """A fresh X25519 key pair as raw hex (private, public): the station's recovery key."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    key = X25519PrivateKey.generate()
    return (key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex(),
            key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex())


def seal_to(secret: bytes, recipient_public_hex: str, *, aad: bytes) -> dict[str, Any]:
    """``secret`` sealed so only the holder of the X25519 private key opens it (ECIES: an
    ephemeral key, HKDF-SHA256, AES-256-GCM). The laptop needs only the station's public key."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    recipient = bytes.fromhex(recipient_public_hex)
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient))
    nonce, sealed = _aead_seal(_shared_key(shared, ephemeral_public, recipient), secret, aad)
    return {"v": 1, "kdf": {"name": "x25519"}, "to": recipient_public_hex, "epk": _b64(ephemeral_public),
            "nonce": _b64(nonce), "ct": _b64(sealed)}


def open_sealed(wrapped: dict[str, Any], recipient_private_hex: str, *, aad: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    if not isinstance(wrapped, dict) or wrapped.get("v") != 1 or wrapped.get("kdf") != {"name": "x25519"}:
        raise WrapError("bad wrap")
    private = X25519PrivateKey.from_private_bytes(bytes.fromhex(recipient_private_hex))
    recipient = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    if not hmac.compare_digest(str(wrapped.get("to", "")).lower().encode(), recipient.hex().encode()):
        raise WrapError("sealed to another key")
    ephemeral_public = _unb64(wrapped.get("epk"), size=32)
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
    except ValueError:
        raise WrapError("bad ephemeral key") from None
    return _aead_open(_shared_key(shared, ephemeral_public, recipient),
                      _unb64(wrapped.get("nonce"), size=_NONCE_BYTES), _unb64(wrapped.get("ct")), aad)
