"""Packages on disk: what one holds (``Batch``), and reading one back fully verified
(writing: ``core.sync.writer``).

A package is a zip of ``manifest.json`` (signed by ``manifest.sig``), ``records/<table>.jsonl``
and ``attachments/<sha256>.<ext>`` (docs/sync-format.md).

An incoming package is hostile until proven otherwise. ``read_package`` reads it in this
order, refusing at the first problem with one Chinese line (``InvalidInput``):

1. the zip's end record and directory, before ``zipfile`` parses it: entry count and
   directory size bounded;
2. from the directory alone, every entry: a safe name (no absolute path, backslash, drive
   letter or ``..``), not a symlink, not a duplicate, not encrypted, stored or deflated,
   its declared size within the member limit, its compression ratio bounded, the sizes
   together within the total limit;
3. ``manifest.json`` and ``manifest.sig`` (small, bounded) read and the signature checked
   against the registered sender's key — before any other member is decompressed;
4. the members against the signed list (an unlisted one is never decompressed), then each
   member streamed in chunks: stopped as soon as it passes its declared size (a zip's
   declared sizes can lie), hashed as it streams and compared with the manifest; an
   attachment's bytes must also hash to its own name;
5. every record against its table's schema (``validate``).

Memory stays bounded by the limits below whatever the zip claims; a zip bomb is refused
from the directory, or after at most its declared size when the directory lies.
"""
from __future__ import annotations

import hashlib
import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from core.errors import InvalidInput
from core.inspections import PHOTO_EXTS
from core.sync import documents, tombstones, validate
from core.sync.codec import dump
from core.sync.devices import receiving_identity, sender_key
from core.sync.levels import claims_problem
from core.signing import signature_ok
from core.sync.spec import BY_TABLE, DOCUMENT_TABLES, FORMAT, FORMAT_VERSION
from core.sync.validate import shown

# --- limits (docs/sync-format.md "Limits") -----------------------------------------------
MAX_MEMBERS = 20_000                  # records and attachments, besides manifest.json and manifest.sig
MAX_MEMBER_BYTES = 128 * 1024 * 1024  # uncompressed, each member (a 10,000-inspection batch: 62 MB of answers)
MAX_TOTAL_BYTES = 512 * 1024 * 1024   # uncompressed, all members together
MAX_RATIO = 200                       # uncompressed : compressed, for members above RATIO_FROM_BYTES
RATIO_FROM_BYTES = 1024 * 1024
MAX_MANIFEST_BYTES = 8 * 1024 * 1024  # about 400 bytes per listed member
MAX_SIGNATURE_BYTES = 1024            # an Ed25519 signature is 64 bytes
MAX_DIRECTORY_BYTES = (MAX_MEMBERS + 2) * 256  # the zip's central directory
# the package file: the members (at most their uncompressed size, plus deflate's worst case),
# their local headers and the directory
MAX_FILE_BYTES = MAX_TOTAL_BYTES + MAX_TOTAL_BYTES // 256 + MAX_DIRECTORY_BYTES * 2 + MAX_MANIFEST_BYTES
CHUNK = 1024 * 1024

MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
TOMBSTONES = tombstones.MEMBER
_SAFE_NAME = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*\Z")
_RECORDS = re.compile(r"records/([a-z_]{1,64})\.jsonl\Z")
ATTACHMENT = re.compile(r"attachments/([0-9a-f]{64})\.([a-z]{3,4})\Z")
_S_IFMT, _S_IFLNK = 0o170000, 0o120000

if TYPE_CHECKING:
    from core.context import AppContext


# one record of a unit (``Batch.fits``/``add_unit``): (table, its line as UTF-8 bytes, attachments,
# the device that created it or None)
Item = tuple[str, bytes, dict[str, bytes], "str | None"]


@dataclass
class Batch:
    """Records and attachments collected for one package: each record's line as UTF-8 bytes
    (``codec.line_bytes``), so its size is counted without encoding it again."""

    lines: dict[str, list[bytes]] = field(default_factory=dict)
    attachments: dict[str, bytes] = field(default_factory=dict)
    size: int = 0
    table_bytes: dict[str, int] = field(default_factory=dict)  # each records member, uncompressed
    tombstones: list[bytes] = field(default_factory=list)  # deletions (``core.sync.tombstones``), dumped
    devices: set[str] = field(default_factory=set)  # the records' creating devices
    is_streamed: bool = False  # its records went to a ``writer.StreamedZip``: only counted here

    @classmethod
    def streamed(cls, lines: dict[str, list[bytes]], devices: set[str], size: int) -> Batch:
        """A batch whose records and attachments went to a ``writer.StreamedZip`` as they were read:
        its lines a table (in the order read, not the units': for the manifest's counts), the
        creating devices, the size. It has no members to write."""
        return cls(lines=lines, size=size, devices=devices, is_streamed=True)

    def add_tombstone(self, tombstone: dict[str, Any]) -> None:
        line = dump(tombstone).encode("utf-8")
        self.tombstones.append(line)
        self.size += len(line) + 1

    def add_unit(self, unit: list[Item]) -> None:
        """Add records: (table, line, attachments, creating device) each."""
        lines, table_bytes, known, devices = self.lines, self.table_bytes, self.attachments, self.devices
        size = self.size
        for table, line, attachments, device in unit:
            grown = len(line) + 1
            if table in lines:
                lines[table].append(line)
                table_bytes[table] += grown
            else:
                lines[table] = [line]
                table_bytes[table] = grown
            size += grown
            for name, data in attachments.items():
                if name not in known:
                    known[name] = data
                    size += len(data)
            if device:
                devices.add(device)
        self.size = size

    def fits(self, unit: list[Item], max_bytes: int) -> bool:
        """Whether ``unit`` can join this batch and the package stay within ``max_bytes`` and
        within what any reader accepts (member count, each member's and the total size)."""
        if self.size == 0:
            return True
        lines: dict[str, int] = {}
        new_names = set()
        size = 0
        for table, line, attachments, _device in unit:
            grown = len(line) + 1
            lines[table] = lines.get(table, 0) + grown
            size += grown
            for name, data in attachments.items():
                if name not in self.attachments and name not in new_names:
                    new_names.add(name)
                    size += len(data)
        # a margin for the manifest, which lists every member
        limit = min(max_bytes, MAX_TOTAL_BYTES - MAX_MANIFEST_BYTES)
        tables = set(self.lines) | set(lines)
        return (self.size + size <= limit
                and len(self.attachments) + len(new_names) + len(tables) <= MAX_MEMBERS
                and all(self.table_bytes.get(t, 0) + n <= MAX_MEMBER_BYTES for t, n in lines.items()))

    @staticmethod
    def bounds_fit(sizes: dict[str, int], attachments: list[int], max_bytes: int) -> bool:
        """Whether records members of ``sizes`` bytes (lines and newlines) and ``attachments``
        (each file's size) fit one package: then every unit ``fits`` as it comes."""
        limit = min(max_bytes, MAX_TOTAL_BYTES - MAX_MANIFEST_BYTES)
        return (sum(sizes.values()) + sum(attachments) <= limit
                and len(attachments) + len(sizes) <= MAX_MEMBERS
                and all(n <= MAX_MEMBER_BYTES for n in sizes.values()))

    def members(self) -> dict[str, bytes]:
        if self.is_streamed:
            raise RuntimeError("a streamed batch's members were written by its StreamedZip")
        out = {records_member(t): member_of(lines) for t in BY_TABLE if (lines := self.lines.get(t))}
        if self.tombstones:
            out[TOMBSTONES] = member_of(self.tombstones)
        out.update(self.attachments)
        return out


def records_member(table: str) -> str:
    return f"records/{table}.jsonl"


def member_of(lines: list[bytes]) -> bytes:
    """A JSON-lines member: each line and its newline."""
    return b"\n".join(lines) + b"\n"


@dataclass
class Package:
    """A package that passed every check: its manifest, records and attachments."""

    path: Path
    sha256: str
    manifest: dict[str, Any]
    sender_name: str
    records: dict[str, list[dict[str, Any]]]
    attachments: dict[str, bytes]
    tombstones: list[dict[str, Any]] = field(default_factory=list)



def _broken(name: str) -> InvalidInput:
    return InvalidInput(f"同步包 {name} 已损坏或不完整（可能复制时被中断），请重新导出")


def _check_end_record(fh: BinaryIO, size: int, name: str) -> None:
    """Bound the zip's directory from its end record, before ``zipfile`` parses (and keeps) it all."""
    tail_size = min(size, 22 + 0xFFFF)
    fh.seek(size - tail_size)
    tail = fh.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise _broken(name)
    _sig, _disk, _cd_disk, _n_disk, entries, cd_size, _cd_offset, _comment = struct.unpack("<4s4H2LH", tail[at:at + 22])
    if at >= 20 and tail[at - 20:at - 16] == b"PK\x06\x07" or entries == 0xFFFF or cd_size == 0xFFFFFFFF:
        raise InvalidInput(f"同步包 {name} 无效：使用了本软件不生成的 ZIP64 格式，已拒绝")
    if entries > MAX_MEMBERS + 2:
        raise InvalidInput(f"同步包 {name} 无效：成员过多（{entries:,} 个，上限 {MAX_MEMBERS:,} 个），已拒绝")
    if cd_size > MAX_DIRECTORY_BYTES:
        raise InvalidInput(f"同步包 {name} 无效：目录过大（{cd_size:,} 字节），已拒绝")


def _check_directory(infos: list[zipfile.ZipInfo], name: str) -> None:
    """Everything the zip's directory says, checked before any member is decompressed."""
    if len(infos) > MAX_MEMBERS + 2:
        raise InvalidInput(f"同步包 {name} 无效：成员过多（{len(infos):,} 个，上限 {MAX_MEMBERS:,} 个），已拒绝")
    seen: set[str] = set()
    total = 0
    for info in infos:
        member = info.filename
        if (info.external_attr >> 16) & _S_IFMT == _S_IFLNK:
            raise InvalidInput(f"同步包 {name} 无效：成员 {shown(member, 80)} 是符号链接，已拒绝")
        if _SAFE_NAME.match(member) is None or any(part in (".", "..") for part in member.split("/")):
            raise InvalidInput(f"同步包 {name} 无效：成员名“{shown(member, 80)}”不安全"
                               "（绝对路径、反斜杠、盘符、.. 或特殊字符），已拒绝")
        if member in seen:
            raise InvalidInput(f"同步包 {name} 无效：成员 {member} 重复")
        seen.add(member)
        if info.flag_bits & 0x1:
            raise InvalidInput(f"同步包 {name} 无效：成员 {member} 已加密，已拒绝")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise InvalidInput(f"同步包 {name} 无效：成员 {member} 使用了不支持的压缩方式，已拒绝")
        limit = {MANIFEST: MAX_MANIFEST_BYTES, SIGNATURE: MAX_SIGNATURE_BYTES}.get(member, MAX_MEMBER_BYTES)
        if info.file_size > limit:
            raise InvalidInput(f"同步包 {name} 无效：成员 {member} 解压后 {info.file_size:,} 字节，"
                               f"超过上限 {limit:,} 字节，已拒绝")
        if info.file_size > RATIO_FROM_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise InvalidInput(f"同步包 {name} 无效：成员 {member} 的压缩比超过 {MAX_RATIO}:1"
                               "（疑似压缩炸弹），已拒绝")
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise InvalidInput(f"同步包 {name} 无效：解压后总大小超过上限 {MAX_TOTAL_BYTES:,} 字节，已拒绝")


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, limit: int) -> tuple[bytearray, str]:
    """A member's bytes and SHA-256, streamed: stopped as soon as it passes its declared size."""
    bound = min(info.file_size, limit)
    digest = hashlib.sha256()
    data = bytearray()
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(min(CHUNK, bound - len(data) + 1)):
                if len(data) + len(chunk) > bound:
                    raise InvalidInput(f"同步包 {name} 无效：成员 {info.filename} 解压后超过声明的大小，已拒绝")
                data += chunk
                digest.update(chunk)
    except InvalidInput:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError) as exc:
        raise InvalidInput(f"同步包 {name} 已损坏：{info.filename} 校验失败") from exc
    if len(data) != info.file_size:
        raise InvalidInput(f"同步包 {name} 已损坏：{info.filename} 校验失败")
    return data, digest.hexdigest()


def _manifest(data: bytes, name: str) -> tuple[dict[str, Any], int]:
    try:
        manifest = validate.no_constants(data.decode("utf-8"))
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ValueError
        version = manifest["format_version"]
        if type(version) is not int:
            raise ValueError
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidInput(f"同步包 {name} 的清单已损坏或不是本软件的同步包") from exc
    return manifest, version


def _manifest_problem(m: dict[str, Any]) -> str | None:
    """What is wrong with a signed manifest's fields, or None."""
    def text(key, pattern=None, limit=64):
        value = m.get(key)
        if type(value) is not str or len(value) > limit or (pattern is not None and not pattern.match(value)):
            return f"字段 {key} 应为{'编号（UUID）' if pattern is validate.UUID else '文本'}"
        return None

    for key, pattern in (("station_id", validate.UUID), ("device_id", validate.UUID),
                         ("to_device_id", validate.UUID), ("created_at", None)):
        if (wrong := text(key, pattern)) is not None:
            return wrong
    seq = m.get("seq")
    if type(seq) is not int or not 1 <= seq <= 2**62:
        return "字段 seq 应为正整数"
    counts, members, acks = m.get("counts"), m.get("members"), m.get("acks", {})
    if not isinstance(counts, dict) or any(k not in BY_TABLE or type(v) is not int or v < 0 for k, v in counts.items()):
        return "字段 counts 应为 {数据表: 记录数}"
    if not isinstance(members, dict) or any(
            type(k) is not str or type(v) is not str or validate.HEX64.match(v) is None for k, v in members.items()):
        return "字段 members 应为 {成员名: SHA-256}"
    if len(members) > MAX_MEMBERS:
        return f"成员过多（{len(members):,} 个，上限 {MAX_MEMBERS:,} 个）"
    if not isinstance(acks, dict) or any(
            type(k) is not str or type(v) is not int or not 0 <= v <= 2**62 for k, v in acks.items()):
        return "字段 acks 应为 {设备编号: 批次号}"
    dead = m.get("tombstones", 0)
    if type(dead) is not int or not 0 <= dead <= tombstones.MAX_TOMBSTONES:
        return f"字段 tombstones 应为 0–{tombstones.MAX_TOMBSTONES} 的整数"
    if "stations" in m:  # (levels) the stations of the devices of a package going up
        return claims_problem(m["stations"])
    return None


def _parse_records(member: str, data: bytearray, name: str) -> list[Any]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"同步包 {name} 无效：{member} 不是 UTF-8 文本") from exc
    fast = validate.loads_lines([line for line in text.split("\n") if line])
    if fast is not None:
        return fast
    loads = validate.loads
    records = []
    # split on "\n" only: str.splitlines would also cut at U+2028 and the like inside a value
    for number, line in enumerate(text.split("\n"), 1):
        if not line:
            continue
        try:
            records.append(loads(line))
        except (ValueError, RecursionError) as exc:
            raise InvalidInput(f"同步包 {name} 无效：{member} 第 {number} 行不是有效的 JSON") from exc
    return records


def read_package(ctx: AppContext, path: Path) -> Package:
    """Open and verify a package completely; raises ``InvalidInput`` on the first problem.

    Nothing here touches the database or the attachments folder, so a refused package
    leaves both as they were. The steps and limits: the module's docstring.
    """
    path = Path(path)
    name = shown(path.name, 120)
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise InvalidInput(f"无法读取同步包 {name}：{exc.strerror or exc}") from exc
    with fh:
        try:
            size = os.fstat(fh.fileno()).st_size
            if size > MAX_FILE_BYTES:
                raise InvalidInput(f"同步包 {name} 过大（{size:,} 字节，上限 {MAX_FILE_BYTES:,} 字节），已拒绝")
            _check_end_record(fh, size, name)
            fh.seek(0)
            zf = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, struct.error) as exc:
            raise _broken(name) from exc
        with zf:
            infos = zf.infolist()
            _check_directory(infos, name)
            pkg = _verified(ctx, zf, {i.filename: i for i in infos}, path, name)
        fh.seek(0)
        raw = hashlib.sha256()
        while chunk := fh.read(CHUNK):
            raw.update(chunk)
    pkg.sha256 = raw.hexdigest()
    return pkg


def _verified(ctx: AppContext, zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], path: Path,
              name: str) -> Package:
    if MANIFEST not in infos or SIGNATURE not in infos:
        raise InvalidInput(f"同步包 {name} 无效：缺少清单或签名")
    manifest_bytes = bytes(_read_member(zf, infos[MANIFEST], name, MAX_MANIFEST_BYTES)[0])
    signature = bytes(_read_member(zf, infos[SIGNATURE], name, MAX_SIGNATURE_BYTES)[0])
    manifest, version = _manifest(manifest_bytes, name)
    if version > FORMAT_VERSION:
        raise InvalidInput(f"同步包 {name} 由更新版本的软件生成（格式版本 {version}），请先升级本软件")
    station_id, me = receiving_identity(ctx, str(manifest.get("device_id", "")))
    if manifest.get("station_id") != station_id:
        raise InvalidInput(f"同步包 {name} 来自其他所，已拒绝")
    public_key, sender_name = sender_key(ctx, manifest, name)
    if not signature_ok(public_key, manifest_bytes, signature):
        raise InvalidInput(f"同步包 {name} 的签名无效（内容被改动，或不是由登记的设备签发），已拒绝")
    wrong = _manifest_problem(manifest)
    if wrong is not None:
        raise InvalidInput(f"同步包 {name} 的清单无效：{wrong}，已拒绝")
    if manifest["to_device_id"] != me:
        raise InvalidInput(f"同步包 {name} 是发给另一台设备的，已拒绝")
    listed: dict[str, str] = manifest["members"]
    present = set(infos) - {MANIFEST, SIGNATURE}
    extra, missing = sorted(present - set(listed)), sorted(set(listed) - present)
    if extra or missing:
        raise InvalidInput(f"同步包 {name} 无效：成员与清单不符（{shown(', '.join(extra + missing), 120)}）")
    tables: dict[str, str] = {}
    for member in sorted(present):
        if member == TOMBSTONES:
            continue
        found = _RECORDS.match(member)
        if found is not None:
            if found.group(1) not in BY_TABLE:
                raise InvalidInput(f"同步包 {name} 含有未知的数据表 {found.group(1)}，请先升级本软件")
            tables[member] = found.group(1)
            continue
        found = ATTACHMENT.match(member)
        if found is None or found.group(2) not in PHOTO_EXTS:
            raise InvalidInput(f"同步包 {name} 含有未知成员 {member}"
                               "（附件名应为 attachments/<64 位十六进制>.<图片扩展名>），已拒绝")
    records: dict[str, list[dict[str, Any]]] = {}
    attachments: dict[str, bytes] = {}
    dead: list[Any] = []
    for member in sorted(present, key=lambda m: (m not in tables and m != TOMBSTONES, m)):  # the records first
        data, digest = _read_member(zf, infos[member], name, MAX_MEMBER_BYTES)
        if digest != listed[member]:
            raise InvalidInput(f"同步包 {name} 已损坏：{member} 的 SHA-256 与清单不符")
        if member in tables:
            table = tables[member]
            records[table] = _parse_records(member, data, name)
            del data
            validate.check_records(name, table, records[table])
            if table in DOCUMENT_TABLES:  # the JSON a document row holds, key by key
                documents.check_records(name, table, records[table])
            if manifest["counts"].get(table, 0) != len(records[table]):
                raise InvalidInput(f"同步包 {name} 无效：{member} 的记录数与清单不符")
        elif member == TOMBSTONES:
            if data.count(b"\n") > tombstones.MAX_TOMBSTONES + 1:  # bounded before parsing
                raise InvalidInput(f"同步包 {name} 无效：删除记录过多（上限 {tombstones.MAX_TOMBSTONES:,} 条），已拒绝")
            dead = _parse_records(member, data, name)
        else:
            file_name = member.removeprefix("attachments/")
            if digest != file_name.partition(".")[0]:
                raise InvalidInput(f"同步包 {name} 无效：附件 {file_name} 的内容与其文件名（SHA-256）不符，已拒绝")
            attachments[file_name] = bytes(data)
    if any(n and t not in records for t, n in manifest["counts"].items()):
        raise InvalidInput(f"同步包 {name} 无效：记录数与清单不符")
    if len(dead) != manifest.get("tombstones", 0):
        raise InvalidInput(f"同步包 {name} 无效：{TOMBSTONES} 的删除记录数与清单不符")
    tombstones.check_tombstones(name, dead, records)
    for record in records.get("signatures", ()):
        if f"{record['sha256']}.png" not in attachments:
            raise InvalidInput(f"同步包 {name} 无效：缺少签名图像 {record['sha256']}")
    return Package(path, "", manifest, sender_name, records, attachments, dead)
