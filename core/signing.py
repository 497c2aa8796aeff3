"""Ed25519 keys and SHA-256: the primitives that sign packages, hub requests and audit anchors.

A leaf module (no imports from the app), so sync, the hub and the anchors share it."""
from __future__ import annotations

import hashlib


def new_key_pair() -> tuple[str, str]:
    """A fresh Ed25519 key pair as raw hex: (private, public)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    return private, public


def sign(private_hex: str, data: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(private_hex)).sign(data)


def signature_ok(public_hex: str, data: bytes, signature: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def public_of(private_hex: str) -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(private_hex))
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def signature_hex_ok(public_hex: str, data: bytes, signature_hex: str) -> bool:
    """``signature_ok`` for a signature written as hex (HTTP headers, anchor lines)."""
    try:
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        return False
    return signature_ok(public_hex, data, signature)
