"""Writing a package: the signed zip, atomically (``core.files``), at once or member by member
while the export still reads (``StreamedZip``). What a package holds: ``core.sync.package``."""
from __future__ import annotations

import json
import queue
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

from core.files import write_through_temp
from core.signing import sha256_hex, sign
from core.sync.package import MANIFEST, SIGNATURE


def write_zip_atomically(target: Path, manifest: bytes, signature: bytes, members: dict[str, bytes]) -> None:
    """Write the package under a temp name in the same folder, then rename it (``core.files``)."""

    def fill(fh: BinaryIO) -> None:
        with zipfile.ZipFile(fh, "w") as zf:
            zf.writestr(MANIFEST, manifest, zipfile.ZIP_STORED)
            zf.writestr(SIGNATURE, signature, zipfile.ZIP_STORED)
            for name, data in members.items():
                _write_member(zf, name, data)

    write_through_temp(target, fill, what="同步包 ")


def _write_member(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    """Attachments stored as they are (photos and PNGs are compressed already), records deflated."""
    zf.writestr(name, data, zipfile.ZIP_STORED if name.startswith("attachments/") else zipfile.ZIP_DEFLATED)


def manifest_bytes(head: dict[str, Any], hashes: dict[str, str]) -> bytes:
    """The manifest: ``head`` and "members", each member's SHA-256 by its name."""
    return json.dumps({**head, "members": dict(sorted(hashes.items()))}, ensure_ascii=False, indent=2,
                      sort_keys=True).encode("utf-8")


class _Abandoned(Exception):
    """A streamed package given up (``StreamedZip.abandon``)."""


_ABANDON = object()


class StreamedZip:
    """One package written on ``pool``'s thread while its members are still being made.

    Each member handed over (``add``) is deflated, hashed and written there at once (zlib and
    hashlib let go of the GIL, so on a second core), the manifest listing them and its signature
    last (``finish``), the whole written atomically as ``write_zip_atomically`` does; a reader
    finds members by name, so their order in the zip is free. ``abandon`` gives it up: no file
    is left. ``finish`` returns the future of the written file's SHA-256; the file joins
    ``paths`` once it is in place."""

    def __init__(self, pool: ThreadPoolExecutor, target: Path, key: str, paths: list[Path]) -> None:
        self.target, self._key, self._paths = target, key, paths
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self.alive = True  # still taking members
        self._given_up = False
        self._future: Future[str] = pool.submit(self._write)

    def add(self, name: str, data: bytes) -> None:
        if self.alive and not self._future.done():  # a writer that failed says so at ``finish``
            self._queue.put((name, data))

    def finish(self, head: dict[str, Any]) -> Future[str]:
        self._queue.put(head)
        self.alive = False
        return self._future

    def abandon(self) -> None:
        """Give the package up and wait until its temp file is gone (members still queued are
        dropped, not written). A writer that had failed has removed it too; what made it fail
        shows again where it matters (the packages written after, or the error being raised)."""
        if self.alive:
            self.alive, self._given_up = False, True
            self._queue.put(_ABANDON)
            try:
                self._future.result()
            except Exception:  # noqa: BLE001 (given up: _Abandoned, or the writer's own failure)
                pass

    def _write(self) -> str:
        write_through_temp(self.target, self._fill, what="同步包 ")
        self._paths.append(self.target)
        return sha256_hex(self.target.read_bytes())

    def _fill(self, fh: BinaryIO) -> None:
        hashes: dict[str, str] = {}
        with zipfile.ZipFile(fh, "w") as zf:
            while not isinstance(item := self._queue.get(), dict):
                if item is _ABANDON or self._given_up:
                    raise _Abandoned
                name, data = item
                _write_member(zf, name, data)
                hashes[name] = sha256_hex(data)
                del item, data  # the member's bytes are not kept
            manifest = manifest_bytes(item, hashes)
            zf.writestr(MANIFEST, manifest, zipfile.ZIP_STORED)
            zf.writestr(SIGNATURE, sign(self._key, manifest), zipfile.ZIP_STORED)
