"""Attachment files (photos, paper scans, lead photos) encrypted at rest, and the one way to read them.

Every file the app keeps in the attachments folder is written by ``write_attachment`` and
read by ``read_attachment``. With ``ctx.file_key`` set (an encrypted database: the key is
derived from the database key) a file is written as

    header  = MAGIC (7 bytes) | version (1 byte) | salt (16 random bytes)
    chunk i = AES-256-GCM(file key, nonce = i as 11 bytes big-endian | last, plaintext[64 KiB])

with the per-file key HKDF-SHA256(file_key, salt, "yxjc attachment file v1"), and the header
and the file's name (``<sha256>.<ext>``) as associated data of every chunk: a file cannot be
decrypted under another name (two files swapped), its chunks cannot be reordered, dropped or
cut short (the last chunk says it is the last), and any edited byte fails its tag. Reads are
bounded (one chunk at a time). A file without the magic is a plain file from before (or from
a plain database) and is read as it is, so old attachments keep working until
``encrypt_existing`` has encrypted them in place.

The name stays the SHA-256 of the PLAIN content, and ``read_attachment`` checks it: the hash a
record, a sync package and a QR verification use is the same on every device, whatever its key.

Only the standard library, ``cryptography`` and ``core.errors``/``core.files``.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Callable, Iterator

from core.errors import InvalidInput
from core.files import fsync_dir, is_temp, write_through_temp

if TYPE_CHECKING:
    from core.context import AppContext

MAGIC = b"\x00YXJC-A"
VERSION = 1
_SALT_BYTES = 16
HEADER_BYTES = len(MAGIC) + 1 + _SALT_BYTES
CHUNK = 64 * 1024  # plaintext bytes per chunk (version 1)
_TAG = 16
_INFO = b"yxjc attachment file v1"
_KEY_BYTES = 32
_NAMED = re.compile(r"([0-9a-f]{64})\.[a-z]{2,5}")


def _check_key(key: bytes) -> bytes:
    if not isinstance(key, (bytes, bytearray)) or len(key) != _KEY_BYTES:
        raise ValueError("the attachment key must be 32 bytes")
    return bytes(key)


def _file_cipher(key: bytes, salt: bytes):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    derived = HKDF(algorithm=hashes.SHA256(), length=_KEY_BYTES, salt=salt, info=_INFO).derive(_check_key(key))
    return AESGCM(derived)


def _nonce(index: int, last: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _aad(header: bytes, name: str) -> bytes:
    return header + name.encode("utf-8")


def encrypted_chunks(data: bytes, key: bytes, name: str) -> Iterator[bytes]:
    """The encrypted file of ``data`` stored as ``name``: the header, then one piece per chunk."""
    salt = os.urandom(_SALT_BYTES)
    header = MAGIC + bytes([VERSION]) + salt
    cipher, aad = _file_cipher(key, salt), _aad(header, name)
    yield header
    view = memoryview(data)
    count = max(1, -(-len(data) // CHUNK))
    for index in range(count):
        piece = bytes(view[index * CHUNK:(index + 1) * CHUNK])
        yield cipher.encrypt(_nonce(index, index == count - 1), piece, aad)


def encrypt_bytes(data: bytes, key: bytes, name: str) -> bytes:
    return b"".join(encrypted_chunks(data, key, name))


def is_encrypted(path: Path) -> bool:
    """Whether the file at ``path`` starts with the magic (read: 7 bytes)."""
    with open(path, "rb") as fh:
        return fh.read(len(MAGIC)) == MAGIC


def _refused(name: str) -> InvalidInput:
    return InvalidInput(f"附件 {name} 无法解密（密钥不符，或文件已被改动、替换或截断），已拒绝；文件未作更改")


def _decrypt(fh: BinaryIO, key: bytes | None, name: str) -> bytes:
    from cryptography.exceptions import InvalidTag

    header = MAGIC + fh.read(HEADER_BYTES - len(MAGIC))  # the magic was read by ``load``
    if len(header) != HEADER_BYTES or header[len(MAGIC)] != VERSION:
        raise _refused(name)
    if key is None:
        raise InvalidInput(f"附件 {name} 已加密，需先登录打开加密数据库才能查看")
    cipher, aad = _file_cipher(key, header[len(MAGIC) + 1:]), _aad(header, name)
    out = bytearray()
    block, index = fh.read(CHUNK + _TAG), 0
    while True:
        following = fh.read(CHUNK + _TAG)
        last = not following
        if len(block) < _TAG or (not last and len(block) != CHUNK + _TAG):
            raise _refused(name)
        try:
            out += cipher.decrypt(_nonce(index, last), block, aad)
        except InvalidTag:
            raise _refused(name) from None
        if last:
            return bytes(out)
        block, index = following, index + 1


def _plain(fh: BinaryIO, first: bytes) -> bytes:
    out = bytearray(first)
    while piece := fh.read(CHUNK):
        out += piece
    return bytes(out)


def load(path: Path, key: bytes | None) -> bytes:
    """The plain content of the attachment file at ``path``: decrypted with ``key`` (the database's
    file key) when the file is encrypted, read as it is when it is a plain file from before.

    A file named ``<sha256>.<ext>`` must hash to its name. A missing, unreadable, undecryptable
    or altered file is ``InvalidInput`` with one Chinese line; nothing is changed.
    """
    path = Path(path)
    name = path.name
    try:
        with open(path, "rb") as fh:
            first = fh.read(len(MAGIC))
            if first == MAGIC:
                data = _decrypt(fh, key, name)
            else:
                data = _plain(fh, first)
    except FileNotFoundError:
        raise InvalidInput(f"附件文件缺失：{name}") from None
    except OSError as exc:
        raise InvalidInput(f"无法读取附件 {name}：{exc.strerror or exc}") from exc
    named = _NAMED.fullmatch(name)
    if named and hashlib.sha256(data).hexdigest() != named.group(1):
        raise InvalidInput(f"附件 {name} 的内容与其摘要不符（文件已损坏或被改动），已拒绝")
    return data


def read_attachment(ctx: AppContext, path: Path) -> bytes:
    """The plain bytes of an attachment of this database (see ``load``)."""
    return load(path, getattr(ctx, "file_key", None))


def write_attachment(ctx: AppContext, target: Path, data: bytes) -> None:
    """Write an attachment file: encrypted under ``ctx.file_key`` when it is set, else plain.

    Through a temp file beside it (fsync, rename): never a half-written file under the name.
    """
    key = getattr(ctx, "file_key", None)
    if key is None:
        write_through_temp(target, lambda fh: fh.write(data))
        return
    pieces = encrypted_chunks(data, key, Path(target).name)
    write_through_temp(target, lambda fh: [fh.write(piece) for piece in pieces])


def stored_form(ctx: AppContext, name: str, data: bytes) -> bytes:
    """The bytes a file named ``name`` holding ``data`` has on disk here (for staging writers)."""
    key = getattr(ctx, "file_key", None)
    return data if key is None else encrypt_bytes(data, key, name)


# --- migration ---------------------------------------------------------------------------------

@dataclass
class EncryptSummary:
    encrypted: int = 0       # plain files encrypted by this run
    already: int = 0         # files that were encrypted before
    total: int = 0           # files in the attachments folder
    cancelled: bool = False  # stopped by ``cancelled()``: the rest are still plain; run again

    def describe(self) -> str:
        text = f"已加密附件 {self.encrypted} 个（此前已加密 {self.already} 个，共 {self.total} 个）"
        return text + ("；已取消，其余仍为明文，可再次运行" if self.cancelled else "")


def _files(root: Path) -> list[Path]:
    """The attachment files of ``root`` (the staging folder included), temp files left out."""
    if not root.is_dir():
        return []
    return [p for p in sorted(root.rglob("*")) if not p.is_symlink() and p.is_file() and not is_temp(p)]


def attachment_files(root: Path) -> list[Path]:
    """The attachment files under ``root`` (temp files left out), for copying a database's folder."""
    return _files(root)


@dataclass
class AttachmentStatus:
    total: int = 0
    encrypted: int = 0
    plain: int = 0
    problems: list[str] = field(default_factory=list)  # one line per file that does not read back

    @property
    def ok(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        return (f"附件 {self.total} 个：已加密 {self.encrypted} 个，明文 {self.plain} 个，"
                f"无法读取 {len(self.problems)} 个")


def attachment_status(ctx: AppContext, *, progress: Callable[[int, int], None] | None = None,
                      cancelled: Callable[[], bool] | None = None) -> AttachmentStatus:
    """Read every attachment file back through ``load``: how many are encrypted, how many plain,
    and which do not decrypt or do not hash to their name (changes nothing)."""
    key = getattr(ctx, "file_key", None)
    files = _files(Path(ctx.attachments_dir))
    status = AttachmentStatus(total=len(files))
    for index, path in enumerate(files):
        if cancelled is not None and cancelled():
            raise InvalidInput("附件检查已取消")
        if progress is not None:
            progress(index, len(files))
        try:
            encrypted = is_encrypted(path)
            load(path, key)
        except (InvalidInput, OSError) as exc:
            status.problems.append(getattr(exc, "message", None) or f"无法读取附件 {path.name}")
            continue
        if encrypted:
            status.encrypted += 1
        else:
            status.plain += 1
    return status


def encrypt_existing(ctx: AppContext, *, progress: Callable[[int, int], None] | None = None,
                     cancelled: Callable[[], bool] | None = None) -> EncryptSummary:
    """Encrypt in place every plain file in the attachments folder under ``ctx.file_key``.

    Each file: its encrypted form written to a temp file beside it, fsynced, renamed over the
    plain one (then the folder fsynced). Killed at any point, every file is either its plain
    self or whole and encrypted, and a new run picks up where it stopped (encrypted files are
    recognised by the magic and skipped; temp files a killed run left are removed). The plain
    bytes are not re-hashed or changed: a damaged file stays as damaged, only encrypted.
    """
    key = getattr(ctx, "file_key", None)
    if key is None:
        raise InvalidInput("没有附件密钥：只有加密的数据库才能加密附件")
    _check_key(key)
    root = Path(ctx.attachments_dir)
    summary = EncryptSummary()
    if not root.is_dir():
        return summary
    for path in sorted(root.rglob("*")):
        if is_temp(path) and path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)  # partial output of a killed run (or of a failed write)
    files = _files(root)
    summary.total = len(files)
    for index, path in enumerate(files):
        if cancelled is not None and cancelled():
            summary.cancelled = True
            break
        if progress is not None:
            progress(index, len(files))
        try:
            if is_encrypted(path):
                summary.already += 1
                continue
            with open(path, "rb") as fh:
                data = _plain(fh, b"")
        except OSError as exc:
            raise InvalidInput(f"无法读取附件 {path.name}（{exc.strerror or exc}）；已加密的文件不受影响，可再次运行") from exc
        pieces = encrypted_chunks(data, key, path.name)
        write_through_temp(path, lambda fh: [fh.write(piece) for piece in pieces], what="附件 ")
        fsync_dir(path.parent)
        summary.encrypted += 1
    if progress is not None and not summary.cancelled:
        progress(len(files), len(files))
    return summary


__all__ = ["CHUNK", "AttachmentStatus", "EncryptSummary", "attachment_status", "MAGIC", "encrypt_bytes", "encrypt_existing", "encrypted_chunks",
           "is_encrypted", "load", "read_attachment", "stored_form", "write_attachment"]
