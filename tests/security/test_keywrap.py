"""core.keywrap: wraps open only with the right password or key and purpose, and a tampered
wrap cannot make the machine spend unbounded time or memory."""
import os

import pytest

from core import keywrap
from core.keywrap import WrapError

SECRET = os.urandom(32)


def test_password_wrap_round_trip_and_refusals():
    wrapped = keywrap.wrap_with_password(SECRET, "正确的密码1", aad=b"db:laptop-1:user:li")
    assert keywrap.unwrap_with_password(wrapped, "正确的密码1", aad=b"db:laptop-1:user:li") == SECRET
    with pytest.raises(WrapError):
        keywrap.unwrap_with_password(wrapped, "错误的密码", aad=b"db:laptop-1:user:li")
    with pytest.raises(WrapError):  # the same wrap moved to another user or laptop
        keywrap.unwrap_with_password(wrapped, "正确的密码1", aad=b"db:laptop-1:user:wang")
    assert SECRET.hex() not in repr(wrapped) and SECRET not in repr(wrapped).encode()


@pytest.mark.parametrize("field, value", [
    ("n", 2**30), ("n", 3), ("r", 1000), ("p", 64), ("name", "pbkdf2"), ("salt", "AAAA"),
])
def test_a_tampered_kdf_is_refused_before_any_derivation(field, value):
    wrapped = keywrap.wrap_with_password(SECRET, "pw", aad=b"x")
    wrapped["kdf"][field] = value
    with pytest.raises(WrapError):
        keywrap.unwrap_with_password(wrapped, "pw", aad=b"x")


def test_an_edited_ciphertext_or_a_huge_field_is_refused():
    wrapped = keywrap.wrap_with_password(SECRET, "pw", aad=b"x")
    edited = dict(wrapped, ct=wrapped["ct"][:-4] + ("AAAA" if not wrapped["ct"].endswith("AAAA") else "BBBB"))
    with pytest.raises(WrapError):
        keywrap.unwrap_with_password(edited, "pw", aad=b"x")
    with pytest.raises(WrapError):
        keywrap.unwrap_with_password(dict(wrapped, ct="A" * 10**6), "pw", aad=b"x")
    for bad in (None, [], {"v": 2}, dict(wrapped, nonce=12)):
        with pytest.raises(WrapError):
            keywrap.unwrap_with_password(bad, "pw", aad=b"x")


def test_key_wrap_and_sealing_to_a_public_key():
    key = os.urandom(32)
    wrapped = keywrap.wrap_with_key(SECRET, key, aad=b"a")
    assert keywrap.unwrap_with_key(wrapped, key, aad=b"a") == SECRET
    with pytest.raises(WrapError):
        keywrap.unwrap_with_key(wrapped, os.urandom(32), aad=b"a")

    private, public = keywrap.new_recipient_key()
    other_private, _ = keywrap.new_recipient_key()
    sealed = keywrap.seal_to(SECRET, public, aad=b"recovery:laptop-1")
    assert keywrap.open_sealed(sealed, private, aad=b"recovery:laptop-1") == SECRET
    with pytest.raises(WrapError):
        keywrap.open_sealed(sealed, other_private, aad=b"recovery:laptop-1")
    with pytest.raises(WrapError):
        keywrap.open_sealed(sealed, private, aad=b"recovery:laptop-2")
    with pytest.raises(WrapError):  # a password wrap is not a sealed one
        keywrap.open_sealed(keywrap.wrap_with_password(SECRET, "pw", aad=b"a"), private, aad=b"a")
