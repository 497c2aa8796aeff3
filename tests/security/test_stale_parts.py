"""The export's clean-up of temp files a killed export left (``core.files.remove_stale_parts``).

Attack: the export folder is a USB stick or a shared outbox anyone may have written to. A name that
looks like a stale package temp file but is a symlink to the user's data, or a folder, must not make
the export delete what it points to or recurse into it; only plain files are removed.
"""
from __future__ import annotations

import os
import sys
import time

import pytest

from core.files import remove_stale_parts

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="symlinks")


def test_a_symlink_or_a_folder_named_like_a_stale_package_is_left_alone(tmp_path):
    out, elsewhere = tmp_path / "usb", tmp_path / "home"
    out.mkdir()
    elsewhere.mkdir()
    victim = elsewhere / "inspections.db"
    victim.write_bytes(b"the user's data")
    link = out / ".sync-1a2b3c4d-to-5e6f7a8b-000001.zip.aaaaaa.part"
    link.symlink_to(victim)
    folder = out / ".sync-1a2b3c4d-to-5e6f7a8b-000002.zip.bbbbbb.part"
    folder.mkdir()
    (folder / "inside.txt").write_bytes(b"kept")
    stale = out / ".sync-1a2b3c4d-to-5e6f7a8b-000003.zip.cccccc.part"
    stale.write_bytes(b"PK half a package")
    old = time.time() - 7200
    for path in (victim, folder, stale):
        os.utime(path, (old, old))
    os.utime(link, (old, old), follow_symlinks=False)

    assert remove_stale_parts(out, "sync-*.zip") == 1
    assert not stale.exists()
    assert link.is_symlink() and victim.read_bytes() == b"the user's data"
    assert (folder / "inside.txt").read_bytes() == b"kept"
