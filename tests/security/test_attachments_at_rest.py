"""Attachments encrypted at rest (issue 16): photos, paper scans and lead photos.

With ``ctx.file_key`` set (the "enc" part derives it from the database key; here a random
one) no file in the attachments folder holds an image's magic or any piece of the source
image; a wrong key, an edited or a swapped file is refused with one Chinese line and
nothing changes; plain files from before keep working and are encrypted in place by a
crash-safe migration (killed with SIGKILL here); a photo travels through sync between two
devices with different keys, with the same hash on both; a printed form shows the photo.
"""
from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from core import attachments
from core import inspections as svc
from core import leads, sync
from core.attachments import MAGIC, encrypt_existing, read_attachment
from core.context import AppContext
from core.errors import InvalidInput
from core.printing import render_form
from core.subjects import SubjectData, add_subject
from core.users import add_user, log_in
from tests.integration.helpers import answer_all, officer_passwords, register_officers, sign_all
from tests.integration.test_sync import enrolled_laptop, pull_master_data
from tests.security.digest import folder_digest

ROOT = Path(__file__).resolve().parents[2]
IMAGE_MAGICS = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"JFIF", b"Exif", b"IHDR", b"IDAT")


def noisy_image(path: Path, seed: int, fmt: str = "JPEG") -> Path:
    """A photo whose bytes are distinctive (noise compresses badly: every slice is its own)."""
    import random

    from PIL import Image

    rng = random.Random(seed)
    Image.frombytes("RGB", (96, 72), bytes(rng.randrange(256) for _ in range(96 * 72 * 3))).save(path, format=fmt)
    return path


def attachment_files(ctx: AppContext) -> list[Path]:
    return sorted(p for p in Path(ctx.attachments_dir).rglob("*") if p.is_file())


def assert_holds_nothing_of(files: list[Path], sources: list[Path]) -> None:
    pieces = []
    for source in sources:
        raw = source.read_bytes()
        pieces += [raw[i:i + 24] for i in range(64, len(raw) - 24, max(1, len(raw) // 16))]
    assert len(files) >= 1 and len(pieces) >= 16 * len(sources) - len(sources)
    for path in files:
        stored = path.read_bytes()
        assert stored.startswith(MAGIC), path
        assert not any(magic in stored for magic in IMAGE_MAGICS), path
        assert not any(piece in stored for piece in pieces), path


@pytest.fixture
def keyed(ctx):
    ctx.file_key = os.urandom(32)
    return ctx


def _failed_inspection(ctx, subject, officers, photo: Path) -> str:
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    answer_all(ctx, inspection_id, {"B2": "1批次无备案信息"})
    svc.add_photo(ctx, inspection_id, "B2", photo)
    svc.update_details(ctx, inspection_id, party_statement="无异议", party_present_name="张三")
    return inspection_id


# --- what is on disk ----------------------------------------------------------------------------

def test_no_attachment_holds_an_image_or_a_piece_of_it(keyed, subject, officers, tmp_path):
    register_officers(keyed)
    photo, lead_photo, scan = (noisy_image(tmp_path / "现场.jpg", 1), noisy_image(tmp_path / "线索.png", 2, "PNG"),
                               noisy_image(tmp_path / "原件.jpg", 3))
    inspection_id = _failed_inspection(keyed, subject, officers, photo)
    svc.complete_inspection(keyed, inspection_id)
    svc.lock_for_wet_signing(keyed, inspection_id, passwords=officer_passwords(keyed, inspection_id))
    svc.attach_paper_scan(keyed, inspection_id, scan)
    add_user(keyed, name="马红", role="grid_worker", grid="西园社区", password="mahong1")
    log_in(keyed, "马红", "mahong1")
    leads.report_lead(keyed, subject_id=subject.id, category="unlicensed_selling", description="无标签面霜",
                      photos=[lead_photo])
    keyed.user = None
    files = attachment_files(keyed)
    assert len(files) == 3
    assert_holds_nothing_of(files, [photo, lead_photo, scan])
    # and each reads back as its source, under the name of its plain hash
    record = svc.load_inspection(keyed, inspection_id)
    [row] = record.photos
    assert read_attachment(keyed, row.path) == photo.read_bytes()
    assert row.sha256 == hashlib.sha256(photo.read_bytes()).hexdigest() == row.path.name.split(".")[0]
    [scan_row] = svc.paper_scans(keyed, inspection_id)
    assert read_attachment(keyed, scan_row.path) == scan.read_bytes()
    [lead] = leads.list_leads(keyed)
    assert [read_attachment(keyed, p) for p in lead.photos] == [lead_photo.read_bytes()]


def test_a_photos_hash_does_not_depend_on_the_key(ctx, subject, officers, tmp_path):
    """The hash a record (and its content hash) lists is of the plain photo, stored plain or encrypted."""
    ctx.file_key = None  # plain files from before (whatever the fixture's database)
    source = noisy_image(tmp_path / "p.jpg", 4)
    plain_id = _failed_inspection(ctx, subject, officers, source)
    other = AppContext.open(tmp_path / "other.db")
    other.file_key = os.urandom(32)
    try:
        keyed_id = _failed_inspection(other, add_subject(other, SubjectData(name="另一店", category="cosmetics_operator",
                                                                            address="另一路1号")), officers, source)
        [a], [b] = svc.load_inspection(ctx, plain_id).photos, svc.load_inspection(other, keyed_id).photos
        assert a.sha256 == b.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
        assert a.path.read_bytes() == source.read_bytes() and b.path.read_bytes().startswith(MAGIC)
    finally:
        other.close()


# --- refusals ------------------------------------------------------------------------------------

def _photo_of(ctx, subject, officers, tmp_path, seed=5) -> tuple[str, Path, bytes]:
    source = noisy_image(tmp_path / f"photo-{seed}.jpg", seed)
    inspection_id = _failed_inspection(ctx, subject, officers, source)
    [row] = svc.load_inspection(ctx, inspection_id).photos
    return inspection_id, row.path, source.read_bytes()


def _refused_once(ctx, path: Path, words: str) -> None:
    before = folder_digest(Path(ctx.attachments_dir))
    with pytest.raises(InvalidInput) as caught:
        read_attachment(ctx, path)
    message = caught.value.message
    assert words in message and "\n" not in message and re.search(r"[\u4e00-\u9fff]", message)
    assert folder_digest(Path(ctx.attachments_dir)) == before


def test_wrong_key_refuses_with_one_message(keyed, subject, officers, tmp_path):
    _id, path, data = _photo_of(keyed, subject, officers, tmp_path)
    right = keyed.file_key
    keyed.file_key = os.urandom(32)
    _refused_once(keyed, path, "无法解密")
    keyed.file_key = None
    _refused_once(keyed, path, "已加密")
    keyed.file_key = right
    assert read_attachment(keyed, path) == data


def test_edited_file_refused(keyed, subject, officers, tmp_path):
    _id, path, _data = _photo_of(keyed, subject, officers, tmp_path)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x40
    path.write_bytes(bytes(raw))
    _refused_once(keyed, path, "无法解密")


def test_swapped_files_refused(keyed, subject, officers, tmp_path):
    _a, first, _ = _photo_of(keyed, subject, officers, tmp_path, seed=6)
    _b, second, _ = _photo_of(keyed, subject, officers, tmp_path, seed=7)
    one, two = first.read_bytes(), second.read_bytes()
    first.write_bytes(two)
    second.write_bytes(one)
    _refused_once(keyed, first, "无法解密")
    _refused_once(keyed, second, "无法解密")


def test_legacy_plain_files_read_then_are_migrated(ctx, subject, officers, tmp_path):
    ctx.file_key = None  # plain files from before (whatever the fixture's database)
    _id, path, data = _photo_of(ctx, subject, officers, tmp_path)
    assert path.read_bytes() == data  # written plain: no key yet
    ctx.file_key = os.urandom(32)
    assert read_attachment(ctx, path) == data  # still read
    seen: list[tuple[int, int]] = []
    summary = encrypt_existing(ctx, progress=lambda done, total: seen.append((done, total)))
    assert (summary.encrypted, summary.already, summary.total, summary.cancelled) == (1, 0, 1, False)
    assert seen == [(0, 1), (1, 1)]
    assert path.read_bytes().startswith(MAGIC) and read_attachment(ctx, path) == data
    again = encrypt_existing(ctx)
    assert (again.encrypted, again.already) == (0, 1)
    assert "已加密附件 0 个" in again.describe()


def test_migration_cancelled_leaves_the_rest_plain_and_re_runs(ctx, subject, officers, tmp_path):
    ctx.file_key = None  # plain files from before (whatever the fixture's database)
    sources = [_photo_of(ctx, subject, officers, tmp_path, seed=s) for s in (11, 12, 13)]
    ctx.file_key = os.urandom(32)
    calls = iter([False, True])
    summary = encrypt_existing(ctx, cancelled=lambda: next(calls))
    assert (summary.encrypted, summary.cancelled) == (1, True)
    assert "已取消" in summary.describe()
    encrypted = [path for _id, path, _ in sources if path.read_bytes().startswith(MAGIC)]
    assert len(encrypted) == 1
    assert [read_attachment(ctx, path) for _id, path, _ in sources] == [data for _i, _p, data in sources]
    rest = encrypt_existing(ctx)
    assert (rest.encrypted, rest.already, rest.total) == (2, 1, 3)


def test_migration_without_a_key_is_refused(ctx, subject, officers, tmp_path):
    ctx.file_key = None  # plain files from before (whatever the fixture's database)
    _photo_of(ctx, subject, officers, tmp_path)
    before = folder_digest(Path(ctx.attachments_dir))
    with pytest.raises(InvalidInput, match="没有附件密钥"):
        encrypt_existing(ctx)
    assert folder_digest(Path(ctx.attachments_dir)) == before


KILLED_MIGRATION = """
import os, signal, sys
sys.path.insert(0, {root!r})
from types import SimpleNamespace
from core import attachments
from core.files import os as files_os
real_replace = files_os.replace
calls = 0
def replace(src, dst):
    global calls
    calls += 1
    if calls == {kill_at}:
        os.kill(os.getpid(), signal.SIGKILL)  # the temp file written and fsynced, not yet renamed
    real_replace(src, dst)
files_os.replace = replace
ctx = SimpleNamespace(file_key=bytes.fromhex({key!r}), attachments_dir={folder!r})
attachments.encrypt_existing(ctx)
"""


@pytest.mark.parametrize("kill_at", [1, 3])
def test_migration_killed_at_a_rename_re_runs_cleanly(tmp_path, kill_at):
    """SIGKILL between writing a file's encrypted temp and renaming it: every file is still
    either plain or whole and encrypted, and a second run finishes the job."""
    from types import SimpleNamespace

    folder = tmp_path / "att"
    datas = [os.urandom(70_000 + i) for i in range(5)]
    plain = SimpleNamespace(file_key=None, attachments_dir=folder)
    paths = []
    for data in datas:
        sha = hashlib.sha256(data).hexdigest()
        paths.append(folder / sha[:2] / f"{sha}.jpg")
        attachments.write_attachment(plain, paths[-1], data)
    key = os.urandom(32)
    script = KILLED_MIGRATION.format(root=str(ROOT), kill_at=kill_at, key=key.hex(), folder=str(folder))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr
    leftovers = [p for p in folder.rglob("*.part")]
    assert len(leftovers) == 1  # the killed file's temp
    ctx = SimpleNamespace(file_key=key, attachments_dir=folder)
    encrypted = [p for p in paths if p.read_bytes().startswith(MAGIC)]
    assert len(encrypted) == kill_at - 1
    assert [attachments.load(p, key) for p in paths] == datas  # plain or encrypted, all readable
    summary = encrypt_existing(ctx)
    assert (summary.encrypted, summary.already, summary.total) == (5 - (kill_at - 1), kill_at - 1, 5)
    assert not list(folder.rglob("*.part"))
    assert all(p.read_bytes().startswith(MAGIC) for p in paths) and len(paths) == 5
    assert [attachments.load(p, key) for p in paths] == datas


# --- sync between two keys ----------------------------------------------------------------------

def test_photo_round_trips_through_sync_between_two_keys(ctx, subject, officers, tmp_path):
    """The laptop's encrypted photo goes into the package plain, and the station stores it
    encrypted under its own key; the hash is the same on both, and so is the record's hash."""
    register_officers(ctx)
    ctx.file_key = os.urandom(32)
    laptop, _ = enrolled_laptop(ctx, tmp_path, "笔记本1")
    laptop.file_key = os.urandom(32)
    try:
        pull_master_data(ctx, laptop, tmp_path / "down")
        source = noisy_image(tmp_path / "现场.jpg", 21)
        inspection_id = _failed_inspection(laptop, subject, officers, source)
        svc.complete_inspection(laptop, inspection_id)
        sign_all(laptop, inspection_id)
        [sent] = svc.load_inspection(laptop, inspection_id).photos
        assert sent.path.read_bytes().startswith(MAGIC)
        up = tmp_path / "up"
        up.mkdir()
        [package] = sync.export_packages(laptop, up)
        with zipfile.ZipFile(package) as z:
            member = z.read(f"attachments/{sent.sha256}.jpg")
        assert member == source.read_bytes()  # plain in the (signed) package
        assert sync.import_package(ctx, package).applied > 0
        record = svc.load_inspection(ctx, inspection_id)
        [arrived] = record.photos
        assert record.current_hash() == record.content_hash
        assert arrived.sha256 == sent.sha256 and arrived.path != sent.path
        stored = arrived.path.read_bytes()
        assert stored.startswith(MAGIC) and stored != sent.path.read_bytes()
        assert hashlib.sha256(read_attachment(ctx, arrived.path)).hexdigest() == arrived.sha256
        with pytest.raises(InvalidInput, match="无法解密"):
            attachments.load(arrived.path, laptop.file_key)  # under the station's key, not the laptop's
        assert_holds_nothing_of(attachment_files(ctx), [source])
    finally:
        laptop.close()


def test_staged_photos_of_an_interrupted_import_are_encrypted_and_recovered(ctx, subject, officers, tmp_path,
                                                                             monkeypatch):
    from core.sync import apply

    register_officers(ctx)
    ctx.file_key = os.urandom(32)
    laptop, _ = enrolled_laptop(ctx, tmp_path, "笔记本1")
    try:
        pull_master_data(ctx, laptop, tmp_path / "down")
        source = noisy_image(tmp_path / "现场.jpg", 22)
        inspection_id = _failed_inspection(laptop, subject, officers, source)
        up = tmp_path / "up"
        up.mkdir()
        [package] = sync.export_packages(laptop, up)
        monkeypatch.setattr(apply._Staged, "place", lambda self: None)  # killed after the commit
        assert sync.import_package(ctx, package).applied > 0
        monkeypatch.undo()
        staged = list((Path(ctx.attachments_dir) / apply.STAGING).rglob("*.jpg"))
        assert len(staged) == 1
        assert_holds_nothing_of(staged, [source])
        assert sync.import_package(ctx, package).already_imported  # recovers the staged photo
        [photo] = svc.load_inspection(ctx, inspection_id).photos
        assert read_attachment(ctx, photo.path) == source.read_bytes()
    finally:
        laptop.close()


def test_export_refuses_a_photo_that_does_not_decrypt(ctx, subject, officers, tmp_path):
    register_officers(ctx)
    laptop, _ = enrolled_laptop(ctx, tmp_path, "笔记本1")
    laptop.file_key = os.urandom(32)
    try:
        pull_master_data(ctx, laptop, tmp_path / "down")
        _failed_inspection(laptop, subject, officers, noisy_image(tmp_path / "x.jpg", 23))
        laptop.file_key = os.urandom(32)  # not the key it was written with
        up = tmp_path / "up"
        up.mkdir()
        with pytest.raises(InvalidInput, match="无法解密"):
            sync.export_packages(laptop, up)
        assert not list(up.iterdir())
    finally:
        laptop.close()


# --- printing ------------------------------------------------------------------------------------

def _images_in(pdf: bytes) -> int:
    return pdf.count(b"/Subtype /Image")


def test_printed_checklist_shows_the_encrypted_photo(keyed, subject, officers, tmp_path):
    from pypdf import PdfReader

    register_officers(keyed)
    inspection_id = _failed_inspection(keyed, subject, officers, noisy_image(tmp_path / "p.jpg", 31))
    record = svc.load_inspection(keyed, inspection_id)
    shown = render_form(keyed, record, "checklist")
    right = keyed.file_key
    keyed.file_key = os.urandom(32)
    refused = render_form(keyed, record, "checklist")  # a photo that does not open: its caption says so
    keyed.file_key = right
    assert _images_in(shown) == _images_in(refused) + 1
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(refused)).pages)
    assert "照片文件缺失或无法读取" in text
    assert "照片文件缺失或无法读取" not in "".join(page.extract_text() for page in PdfReader(BytesIO(shown)).pages)


# --- the CLI -------------------------------------------------------------------------------------

def test_cli_status_and_encrypt(tmp_path, subject, officers, ctx, capsys, monkeypatch):
    import main

    right, ctx.file_key = ctx.file_key, None  # a plain file from before the upgrade
    _photo_of(ctx, subject, officers, tmp_path)
    db = ctx.engine.url.database
    assert main.main(["attachments", "status", "--db", db]) == 0
    assert capsys.readouterr().out.strip() == "附件 1 个：已加密 0 个，明文 1 个，无法读取 0 个"
    if ctx.encrypted_file is None:  # a plain database (YXJC_TEST_PLAIN=1) has no attachments key
        before = folder_digest(Path(ctx.attachments_dir))
        assert main.main(["attachments", "encrypt", "--db", db]) == 2
        err = capsys.readouterr().err
        assert err.startswith("错误：没有附件密钥") and err.count("\n") == 1
        assert folder_digest(Path(ctx.attachments_dir)) == before

        key = os.urandom(32)  # as an encrypted database's key would give it
        real_open = AppContext.open.__func__

        def opened(cls, *args, **kwargs):
            context = real_open(cls, *args, **kwargs)
            context.file_key = key
            return context

        monkeypatch.setattr(AppContext, "open", classmethod(opened))
        ctx.file_key = key
    else:  # the command opens the database with its key, and so has the attachments key
        ctx.file_key = right
    assert main.main(["attachments", "encrypt", "--db", db]) == 0
    assert capsys.readouterr().out.strip() == "已加密附件 1 个（此前已加密 0 个，共 1 个）"
    assert main.main(["attachments", "status", "--db", db, "--json"]) == 0
    assert '"encrypted": 1, "plain": 0' in capsys.readouterr().out
    [path] = attachment_files(ctx)
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0x01
    path.write_bytes(bytes(raw))
    assert main.main(["attachments", "status", "--db", db]) == 2
    out, err = capsys.readouterr()
    assert "无法读取 1 个" in out and err.startswith(f"错误：附件 {path.name} 无法解密") and err.count("\n") == 1
