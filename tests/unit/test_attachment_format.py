"""The encrypted attachment file format (core/attachments.py): header, chunks, associated data."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from core import attachments
from core.attachments import CHUNK, HEADER_BYTES, MAGIC, encrypt_bytes, load
from core.errors import InvalidInput

KEY = bytes(range(32))


def _named(folder: Path, data: bytes, ext: str = "jpg") -> Path:
    sha = hashlib.sha256(data).hexdigest()
    return folder / sha[:2] / f"{sha}.{ext}"


def _write(folder: Path, data: bytes, key: bytes | None = KEY) -> Path:
    target = _named(folder, data)
    attachments.write_attachment(SimpleNamespace(file_key=key), target, data)
    return target


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17])
def test_round_trip_at_chunk_edges(tmp_path, size):
    data = os.urandom(size)
    path = _write(tmp_path, data)
    raw = path.read_bytes()
    assert raw.startswith(MAGIC)
    if size >= 64:
        assert data[:64] not in raw
    chunks = max(1, -(-size // CHUNK))
    assert len(raw) == HEADER_BYTES + size + 16 * chunks
    assert load(path, KEY) == data


def test_two_writes_of_the_same_content_differ(tmp_path):
    """A fresh salt (so a fresh per-file key) every time: equal photos do not give equal files."""
    data = os.urandom(1000)
    first, second = encrypt_bytes(data, KEY, "a.jpg"), encrypt_bytes(data, KEY, "a.jpg")
    assert first != second and first[:len(MAGIC)] == second[:len(MAGIC)] == MAGIC


def _refused(path: Path, key: bytes | None = KEY) -> str:
    before = path.read_bytes()
    with pytest.raises(InvalidInput) as caught:
        load(path, key)
    assert path.read_bytes() == before  # nothing changed
    assert "\n" not in caught.value.message
    return caught.value.message


def test_wrong_key_is_refused(tmp_path):
    path = _write(tmp_path, os.urandom(5000))
    assert "无法解密" in _refused(path, bytes(32))


def test_any_flipped_byte_is_refused(tmp_path):
    data = os.urandom(2 * CHUNK + 5)
    path = _write(tmp_path, data)
    raw = path.read_bytes()
    positions = [len(MAGIC), len(MAGIC) + 3, HEADER_BYTES, HEADER_BYTES + CHUNK + 20, len(raw) - 1]
    assert len(positions) == 5
    for position in positions:
        edited = bytearray(raw)
        edited[position] ^= 0x01
        path.write_bytes(bytes(edited))
        message = _refused(path)
        assert "无法解密" in message, position


def test_cut_short_or_extended_is_refused(tmp_path):
    data = os.urandom(2 * CHUNK)
    path = _write(tmp_path, data)
    raw = path.read_bytes()
    for edited in (raw[:HEADER_BYTES + CHUNK + 16],  # the last chunk dropped: the first is not marked last
                   raw[:HEADER_BYTES],               # the header alone
                   raw + raw[HEADER_BYTES:HEADER_BYTES + CHUNK + 16],  # a chunk repeated
                   raw[:-1]):
        path.write_bytes(edited)
        assert "无法解密" in _refused(path)


def test_chunks_reordered_are_refused(tmp_path):
    data = os.urandom(3 * CHUNK)
    path = _write(tmp_path, data)
    raw = path.read_bytes()
    block = CHUNK + 16
    first, second = raw[HEADER_BYTES:HEADER_BYTES + block], raw[HEADER_BYTES + block:HEADER_BYTES + 2 * block]
    path.write_bytes(raw[:HEADER_BYTES] + second + first + raw[HEADER_BYTES + 2 * block:])
    assert "无法解密" in _refused(path)


def test_a_file_under_another_name_is_refused(tmp_path):
    """The name is associated data: a file copied over another photo's name does not open."""
    one, two = os.urandom(3000), os.urandom(3000)
    path_one, path_two = _write(tmp_path, one), _write(tmp_path, two)
    path_two.write_bytes(path_one.read_bytes())
    assert "无法解密" in _refused(path_two)
    assert load(path_one, KEY) == one


def test_encrypted_without_a_key_says_so(tmp_path):
    path = _write(tmp_path, os.urandom(100))
    assert "已加密" in _refused(path, None)


def test_plain_legacy_file_reads_with_or_without_a_key(tmp_path):
    data = os.urandom(CHUNK * 2 + 3)
    path = _write(tmp_path, data, key=None)
    assert path.read_bytes() == data
    assert load(path, KEY) == data and load(path, None) == data


def test_a_plain_file_that_does_not_hash_to_its_name_is_refused(tmp_path):
    data = os.urandom(100)
    path = _write(tmp_path, data, key=None)
    path.write_bytes(data + b"x")
    assert "摘要不符" in _refused(path)


def test_missing_file_is_one_message(tmp_path):
    with pytest.raises(InvalidInput, match="附件文件缺失"):
        load(tmp_path / ("0" * 64 + ".jpg"), KEY)


def test_reads_are_bounded(tmp_path, monkeypatch):
    """No read asks for more than a chunk and its tag, however large the file."""
    import builtins

    data = os.urandom(8 * CHUNK)
    path = _write(tmp_path, data)
    asked: list[int] = []
    real_open = builtins.open

    class Recording:
        def __init__(self, fh):
            self.fh = fh

        def read(self, n=-1):
            asked.append(n)
            return self.fh.read(n)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    monkeypatch.setattr(attachments, "open", lambda p, mode="r", *a, **k: Recording(real_open(p, mode, *a, **k)),
                        raising=False)
    assert load(path, KEY) == data
    assert len(asked) >= 9
    assert all(0 < n <= CHUNK + 16 for n in asked)


def test_key_must_be_32_bytes(tmp_path):
    with pytest.raises(ValueError):
        encrypt_bytes(b"x", b"short", "a.jpg")
