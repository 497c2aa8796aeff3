"""The first package of an export is written while its rows are still read (``core.sync.writer.StreamedZip``).

What it must not change: the members (the same bytes as a package written after the reading),
and a failure while reading or writing leaves no package, no temp file and nothing recorded as sent.
"""
from __future__ import annotations

import json
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from core import sync
from core.errors import InvalidInput
from core.inspections import signature_path
from core.signing import new_key_pair, sha256_hex, signature_ok
from core.sync import export as sync_export
from core.sync.package import Batch
from core.sync.writer import StreamedZip
from tests.integration.test_sync import cli, dump, setup  # noqa: F401  (``setup``: the fixture)


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist() if name not in ("manifest.json", "manifest.sig")}


def _manifest(path: Path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("manifest.json"))


def _spy(monkeypatch, name: str) -> list:
    """Record each call of ``StreamedZip.<name>`` (the method still runs)."""
    calls: list = []
    real = getattr(StreamedZip, name)

    def spied(self, *args):
        calls.append(args[0] if args else None)
        return real(self, *args)

    monkeypatch.setattr(StreamedZip, name, spied)
    return calls


def test_a_stream_given_up_half_way_gives_the_same_package(setup, monkeypatch):
    """Streamed, and streamed for the first tables then given up (as when a later table makes the
    export too big for one package): the same members, byte for byte, and the same manifest but its
    seq and time."""
    laptop, tmp = setup["laptop"], setup["tmp"]
    finished = _spy(monkeypatch, "finish")
    [streamed] = sync.export_packages(laptop, tmp / "a")
    assert len(finished) == 1

    real_fit, answers = Batch.bounds_fit, iter([True, True, True])

    def fit_at_first(sizes, attachments, max_bytes):  # everything fits, as far as the stream is told, 3 times
        return next(answers, False) and real_fit(sizes, attachments, max_bytes)

    monkeypatch.setattr(sync_export.Batch, "bounds_fit", staticmethod(fit_at_first))
    added, abandoned = _spy(monkeypatch, "add"), _spy(monkeypatch, "abandon")
    [batched] = sync.export_packages(laptop, tmp / "b")
    assert added and abandoned and len(finished) == 1  # the stream had members when it was given up

    assert _members(batched) == _members(streamed)
    assert any(name.startswith("attachments/") for name in _members(streamed))  # the signature images too
    a, b = _manifest(streamed), _manifest(batched)
    assert b["seq"] == a["seq"] + 1
    assert {k: v for k, v in a.items() if k not in ("seq", "created_at")} == \
        {k: v for k, v in b.items() if k not in ("seq", "created_at")}
    assert sorted(p.name for p in (tmp / "b").iterdir()) == [batched.name]  # no temp file beside it


def test_an_export_failing_while_reading_leaves_nothing(setup, capsys, monkeypatch):
    """A signature image gone from the attachments folder stops the export at the signatures table,
    after the stream took the inspections and their answers: one message, no package, no temp file,
    nothing recorded as sent."""
    laptop, tmp = setup["laptop"], setup["tmp"]
    with laptop.engine.connect() as conn:
        images = {signature_path(laptop, sha) for (sha,) in conn.exec_driver_sql("SELECT sha256 FROM signatures")}
    assert images
    for image in images:
        image.unlink()
    added = _spy(monkeypatch, "add")
    before = dump(laptop)
    out = tmp / "out"
    code, _, err = cli(capsys, "sync", "export", "--db", laptop.engine.url.database, "--out", out)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "签名图像无法读取" in err
    assert "records/item_results.jsonl" in added  # the failure came after the stream had members
    assert list(out.iterdir()) == []
    assert dump(laptop) == before


def test_the_stream_alone(tmp_path):
    """Members in, the signed zip out; given up, nothing left; a writer that fails says so at
    ``finish``, and giving it up then raises nothing."""
    private, public = new_key_pair()
    paths: list[Path] = []
    members = {"records/subjects.jsonl": b'{"id":"a"}\n' * 1000, "attachments/" + "0" * 64 + ".png": b"\x89PNG"}
    with ThreadPoolExecutor(max_workers=1) as pool:
        stream = StreamedZip(pool, tmp_path / "p.zip", private, paths)
        for name, data in members.items():
            stream.add(name, data)
        sha = stream.finish({"seq": 1}).result()
    assert paths == [tmp_path / "p.zip"] and sha == sha256_hex((tmp_path / "p.zip").read_bytes())
    with zipfile.ZipFile(tmp_path / "p.zip") as zf:
        manifest = zf.read("manifest.json")
        assert signature_ok(public, manifest, zf.read("manifest.sig"))
        assert json.loads(manifest) == {"seq": 1, "members": {n: sha256_hex(d) for n, d in members.items()}}
        assert {n: zf.read(n) for n in members} == members

    with ThreadPoolExecutor(max_workers=1) as pool:
        stream = StreamedZip(pool, tmp_path / "q" / "q.zip", private, paths)
        stream.add("records/subjects.jsonl", b"{}\n" * 100_000)
        stream.abandon()
        stream.abandon()  # once is enough; again does nothing
    assert list((tmp_path / "q").iterdir()) == [] and len(paths) == 1

    (tmp_path / "file").write_bytes(b"")  # a folder that is a file: the writer fails at once
    with ThreadPoolExecutor(max_workers=1) as pool:
        stream = StreamedZip(pool, tmp_path / "file" / "r.zip", private, paths)
        with pytest.raises(InvalidInput, match="无法写入同步包"):
            stream.finish({"seq": 2}).result()
        stream = StreamedZip(pool, tmp_path / "file" / "s.zip", private, paths)
        stream.add("records/subjects.jsonl", b"{}\n")
        stream.abandon()  # the writer's failure is not raised here
    assert len(paths) == 1


def test_temp_files_left_by_a_killed_export_are_removed_by_the_next(setup):
    """An export killed while it writes (a crash, power lost: no ``finally`` runs) leaves its hidden
    ``.part`` file; the next export into the folder removes it once it is an hour old, and leaves a
    fresh one alone (another export may still be writing it). Fault before: they stayed for ever,
    18–190 MB each on the laptop's disk or USB stick."""
    import os
    import time

    laptop, tmp = setup["laptop"], setup["tmp"]
    out = tmp / "usb"
    out.mkdir()
    stale = out / ".sync-1a2b3c4d-to-5e6f7a8b-000001.zip.k2j3h4.part"
    fresh = out / ".sync-1a2b3c4d-to-5e6f7a8b-000002.zip.q9w8e7.part"
    unrelated = out / ".report.pdf.x1y2z3.part"  # not a package's: not the export's to remove
    for path in (stale, fresh, unrelated):
        path.write_bytes(b"PK\x03\x04 half a package")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    os.utime(unrelated, (two_hours_ago, two_hours_ago))
    [package] = sync.export_packages(laptop, out)
    assert package.exists()
    assert not stale.exists()
    assert fresh.exists() and unrelated.exists()
