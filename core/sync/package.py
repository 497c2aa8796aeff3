"""Packages on disk: writing a signed zip atomically, and reading one back fully verified.

A package is a zip of ``manifest.json`` (signed by ``manifest.sig``), ``records/<table>.jsonl``
and ``attachments/<sha256>.<ext>`` (docs/sync-format.md).
"""
from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import InvalidInput
from core.sync.codec import dump
from core.sync.devices import sender_key
from core.sync.keys import sha256_hex, signature_ok
from core.sync.spec import BY_TABLE, FORMAT, FORMAT_VERSION, S_STATION_ID

if TYPE_CHECKING:
    from core.context import AppContext


def write_zip_atomically(target: Path, manifest: bytes, signature: bytes, members: dict[str, bytes]) -> None:
    """Write the package under a temp name in the same folder, then rename it.

    A full disk or a pulled USB stick leaves at most a ``.part`` file (removed when
    possible), never a half-written package under the final name.
    """
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w") as zf:
                zf.writestr("manifest.json", manifest, zipfile.ZIP_STORED)
                zf.writestr("manifest.sig", signature, zipfile.ZIP_STORED)
                for name, data in members.items():
                    method = zipfile.ZIP_STORED if name.startswith("attachments/") else zipfile.ZIP_DEFLATED
                    zf.writestr(name, data, method)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, target)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise InvalidInput(f"无法写入同步包 {target.name}（{exc.strerror or exc}），请检查磁盘空间") from exc


@dataclass
class Batch:
    """Records and attachments collected for one package."""

    lines: dict[str, list[str]] = field(default_factory=dict)
    attachments: dict[str, bytes] = field(default_factory=dict)
    versions: list[tuple[str, str, int]] = field(default_factory=list)  # (table, id, version) sent
    size: int = 0

    def add(self, table: str, record: dict[str, Any], attachments: dict[str, bytes]) -> None:
        line = dump(record)
        self.lines.setdefault(table, []).append(line)
        self.size += len(line.encode("utf-8")) + 1
        for name, data in attachments.items():
            if name not in self.attachments:
                self.attachments[name] = data
                self.size += len(data)
        if "version" in record and "id" in record:
            self.versions.append((table, record["id"], record["version"]))

    def members(self) -> dict[str, bytes]:
        out = {f"records/{t}.jsonl": ("\n".join(lines) + "\n").encode("utf-8")
               for t in BY_TABLE if (lines := self.lines.get(t))}
        out.update(self.attachments)
        return out


@dataclass
class Package:
    """A package that passed every check: its manifest, records and attachments."""

    path: Path
    sha256: str
    manifest: dict[str, Any]
    sender_name: str
    records: dict[str, list[dict[str, Any]]]
    attachments: dict[str, bytes]


def _read_members(path: Path) -> tuple[bytes, dict[str, bytes]]:
    """Every member of the zip; a truncated or corrupted file gives one clear message."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"无法读取同步包 {path.name}：{exc.strerror or exc}") from exc
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            members = {}
            for info in zf.infolist():
                if info.filename in members:
                    raise InvalidInput(f"同步包 {path.name} 无效：成员 {info.filename} 重复")
                try:
                    members[info.filename] = zf.read(info)
                except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
                    raise InvalidInput(f"同步包 {path.name} 已损坏：{info.filename} 校验失败") from exc
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise InvalidInput(f"同步包 {path.name} 已损坏或不完整（可能复制时被中断），请重新导出") from exc
    return raw, members


def read_package(ctx: AppContext, path: Path) -> Package:
    """Open and verify a package completely; raises ``InvalidInput`` on the first problem.

    Nothing here touches the database, so a refused package leaves it as it was.
    """
    path = Path(path)
    name = path.name
    raw, members = _read_members(path)
    if "manifest.json" not in members or "manifest.sig" not in members:
        raise InvalidInput(f"同步包 {name} 无效：缺少清单或签名")
    manifest_bytes = members.pop("manifest.json")
    signature = members.pop("manifest.sig")
    try:
        manifest = json.loads(manifest_bytes.decode("utf-8"))
        version = int(manifest["format_version"])
        if manifest.get("format") != FORMAT:
            raise ValueError
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"同步包 {name} 的清单已损坏或不是本软件的同步包") from exc
    if version > FORMAT_VERSION:
        raise InvalidInput(f"同步包 {name} 由更新版本的软件生成（格式版本 {version}），请先升级本软件")
    if manifest.get("station_id") != ctx.setting_or(S_STATION_ID, ""):
        raise InvalidInput(f"同步包 {name} 来自其他所，已拒绝")
    public_key, sender_name = sender_key(ctx, manifest, name)
    if not signature_ok(public_key, manifest_bytes, signature):
        raise InvalidInput(f"同步包 {name} 的签名无效（内容被改动，或不是由登记的设备签发），已拒绝")
    if manifest.get("to_device_id") != ctx.device_id:
        raise InvalidInput(f"同步包 {name} 是发给另一台设备的，已拒绝")
    listed = manifest.get("members") or {}
    extra = sorted(set(members) - set(listed))
    missing = sorted(set(listed) - set(members))
    if extra or missing:
        raise InvalidInput(f"同步包 {name} 无效：成员与清单不符（{', '.join(extra + missing)}）")
    for member, data in members.items():
        if sha256_hex(data) != listed[member]:
            raise InvalidInput(f"同步包 {name} 已损坏：{member} 的 SHA-256 与清单不符")
    records: dict[str, list[dict[str, Any]]] = {}
    attachments: dict[str, bytes] = {}
    for member, data in members.items():
        if member.startswith("attachments/"):
            attachments[member.removeprefix("attachments/")] = data
        elif member.startswith("records/") and member.endswith(".jsonl"):
            table = member.removeprefix("records/").removesuffix(".jsonl")
            if table not in BY_TABLE:
                raise InvalidInput(f"同步包 {name} 含有未知的数据表 {table}，请先升级本软件")
            try:
                records[table] = [json.loads(line) for line in data.decode("utf-8").splitlines() if line]
            except (ValueError, UnicodeDecodeError) as exc:
                raise InvalidInput(f"同步包 {name} 无效：{member} 不是有效的 JSON 行") from exc
        else:
            raise InvalidInput(f"同步包 {name} 含有未知成员 {member}")
    for record in records.get("signatures", ()):
        if f"{record.get('sha256')}.png" not in attachments:
            raise InvalidInput(f"同步包 {name} 无效：缺少签名图像 {record.get('sha256')}")
    return Package(path, sha256_hex(raw), manifest, sender_name, records, attachments)
