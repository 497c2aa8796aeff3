"""Incoming sync packages are hostile until validated (issue 10, items 1, 2, 3 and 8).

The attacker holds an enrolled laptop (threat (a)): its database and its device key, so
every forged package here is signed with the laptop's genuine key and passes the
signature check — what refuses it is the bounded reader (core/sync/package.py), the
schema (core/sync/validate.py), the attachment rules (core/sync/apply.py) and the proof
of signed records (core/sync/signed.py).

Each attack asserts: exit 2 (or HTTP 400, or ``InvalidInput``), one Chinese line, and that
a digest of every table and of the attachments folder is unchanged; traversal attacks also
assert that nothing appeared at the target outside the folder. The bombs run in a
subprocess whose peak RSS growth is measured (``resource.getrusage``).
"""
from __future__ import annotations

from tests.support import rawdb  # noqa: E402  (encrypted or plain test databases)

import hashlib
import json
import re
import shutil
import subprocess
import sys
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

import main
from core.attachments import read_attachment
from core import inspections as svc
from core import sync
from core.context import AppContext
from core.errors import InvalidInput
from core.subjects import SubjectData, add_subject
from core.sync.codec import dump as dump_record
from core.signing import sha256_hex, sign
from core.sync.package import MAX_MEMBERS
from core.sync.writer import write_zip_atomically
from tests.conftest import OFFICERS_DATA
from tests.integration.helpers import answer_all, register_officers, sign_all
from tests.integration.test_sync import enrolled_laptop, pull_master_data
from tests.security.digest import database_digest, folder_digest

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")
GB = 1 << 30
MB = 1 << 20


# --- the world: a station, its laptop, a first package imported, a second one to forge ------------

@dataclass
class World:
    base: Path
    station_db: Path
    laptop_db: Path
    key: str               # the laptop's device private key: the attacker has it
    device_id: str
    package: Path          # the laptop's genuine second package (a signed inspection with a new photo)
    inspection_id: str     # the signed inspection in it
    draft_package: Path    # a package whose draft inspection the station already holds (see draft_world)


def _photo(path: Path, colour: tuple[int, int, int]) -> Path:
    from PIL import Image

    Image.new("RGB", (64, 48), colour).save(path, format="JPEG")
    return path


def _inspect(laptop: AppContext, subject_id: str, tmp: Path, colour, *, sign: bool = True) -> str:
    officers = [svc.OfficerData(n, c) for n, c in OFFICERS_DATA]
    inspection_id = svc.start_inspection(laptop, subject_id, "cosmetics-531", officers)
    answer_all(laptop, inspection_id, {"B2": "1批次无备案信息"})
    svc.add_photo(laptop, inspection_id, "B2", _photo(tmp / f"photo-{colour[0]}.jpg", colour))
    svc.update_details(laptop, inspection_id, party_statement="无异议", party_present_name="张三")
    if sign:
        svc.complete_inspection(laptop, inspection_id)
        sign_all(laptop, inspection_id)
    return inspection_id


def _station_and_laptop(base: Path):
    """A station with one shop and the officers on its list, and an enrolled laptop that has its master data."""
    station = AppContext.open(base / "station.db")
    subject = add_subject(station, SubjectData(
        name="驿城区测试化妆品店", category="cosmetics_operator", credit_code="91350100M000100Y43",
        legal_rep="张三", address="驻马店市驿城区测试路1号", phone="13800000000", grid="测试社区"))
    register_officers(station)
    laptop, enrolment = enrolled_laptop(station, base, "笔记本1")
    pull_master_data(station, laptop, base / "down1")
    up = base / "up"
    up.mkdir()
    return station, subject, laptop, enrolment, up


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    base = tmp_path_factory.mktemp("sync-input")
    station, subject, laptop, enrolment, up = _station_and_laptop(base)
    _inspect(laptop, subject.id, base, (200, 30, 30))
    [first] = sync.export_packages(laptop, up)
    assert sync.import_package(station, first).applied > 0  # the station now has a photo file
    pull_master_data(station, laptop, base / "down2")  # acknowledges the laptop's first batch
    inspection_id = _inspect(laptop, subject.id, base, (30, 30, 200))
    [second] = sync.export_packages(laptop, up)
    station.close()
    laptop.close()
    return World(base, base / "station.db", base / "笔记本1.db", enrolment["device_private_key"],
                 enrolment["device_id"], second, inspection_id, second)


@dataclass
class Station:
    db: Path
    attachments: Path
    tmp: Path

    def digests(self) -> tuple[str, str]:
        return database_digest(self.db), folder_digest(self.attachments)


@pytest.fixture
def station(world, tmp_path) -> Station:
    """A private copy of the world's station (database and attachments folder)."""
    db = tmp_path / "station.db"
    for suffix in ("", "-wal", "-shm", ".keys"):
        if Path(f"{world.station_db}{suffix}").exists():
            shutil.copyfile(f"{world.station_db}{suffix}", f"{db}{suffix}")
    shutil.copytree(world.base / "station-attachments", tmp_path / "station-attachments")
    st = Station(db, tmp_path / "station-attachments", tmp_path)
    assert any(st.attachments.rglob("*.jpg"))  # the first package's photo: the folder is not empty
    return st


# --- building forged packages -------------------------------------------------------------------------

def members_of(package: Path) -> tuple[dict, dict[str, bytes]]:
    with zipfile.ZipFile(package) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(members.pop("manifest.json"))
    members.pop("manifest.sig")
    return manifest, members


def records(members: dict[str, bytes], table: str) -> list[dict]:
    return [json.loads(line) for line in members[f"records/{table}.jsonl"].decode().split("\n") if line]


def put_records(members: dict[str, bytes], table: str, rows: list[dict]) -> None:
    members[f"records/{table}.jsonl"] = ("\n".join(dump_record(r) for r in rows) + "\n").encode()


def signed_manifest(manifest: dict, members: dict[str, bytes] | dict[str, str], key: str,
                    hashes: dict[str, str] | None = None) -> tuple[bytes, bytes]:
    """The manifest listing exactly these members (their real SHA-256), signed with the laptop's key."""
    manifest = dict(manifest)
    manifest["members"] = hashes or {n: sha256_hex(d) for n, d in members.items()}
    manifest["counts"] = {n.removeprefix("records/").removesuffix(".jsonl"): len([x for x in d.split(b"\n") if x])
                          for n, d in members.items() if n.startswith("records/") and isinstance(d, bytes)}
    data = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
    return data, sign(key, data)


def forge(world: World, target: Path, change=None, *, edit_manifest=None) -> Path:
    """The genuine package with ``change(members)`` applied, its manifest re-listed and re-signed."""
    manifest, members = members_of(world.package)
    if change is not None:
        change(members)
    if edit_manifest is not None:
        edit_manifest(manifest)
    manifest_bytes, signature = signed_manifest(manifest, members, world.key)
    write_zip_atomically(target, manifest_bytes, signature, members)
    return target


def edit_record(table: str, fn):
    """A ``change`` that passes the first record of ``table`` through ``fn(record)``."""
    def change(members):
        rows = records(members, table)
        fn(rows[0])
        put_records(members, table, rows)
    return change


def raw_zip(world: World, target: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]],
            *, keep: bool = True, edit=None) -> Path:
    """A zip written member by member (odd names, symlinks…), every member listed and signed."""
    manifest, members = members_of(world.package)
    if edit is not None:
        edit(members)
    listed = dict(members) if keep else {}
    for info, data in entries:
        listed[info.filename if isinstance(info, zipfile.ZipInfo) else info] = data
    manifest_bytes, signature = signed_manifest(manifest, listed, world.key)
    with zipfile.ZipFile(target, "w") as zf:
        zf.writestr("manifest.json", manifest_bytes)
        zf.writestr("manifest.sig", signature)
        if keep:
            for name, data in members.items():
                zf.writestr(name, data, zipfile.ZIP_DEFLATED)
        for info, data in entries:
            zf.writestr(info, data)
    return target


# --- running the import ---------------------------------------------------------------------------------

def cli_in_process(capsys, st: Station, package: Path) -> tuple[int, str]:
    code = main.main(["sync", "import", "--db", str(st.db), str(package)])
    _out, err = capsys.readouterr()
    return code, err


def cli_subprocess(st: Station, package: Path) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "sync", "import", "--db", str(st.db), str(package)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stderr


def assert_refused(capsys, st: Station, package: Path, *needles: str, real_cli: bool = False) -> str:
    """Exit 2 with one Chinese line containing a needle; every table and the attachments folder unchanged."""
    before = st.digests()
    code, err = cli_subprocess(st, package) if real_cli else cli_in_process(capsys, st, package)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误：") and CJK.search(lines[0]), err
    assert "Error" not in err and "Traceback" not in err
    assert any(n in err for n in needles), err
    assert st.digests() == before
    return err


def outside(st: Station, sha: str, ext: str = "jpg") -> Path:
    """Where ``photo_path`` would have put a file named by ``sha`` (outside the folder)."""
    return Path(str(st.attachments / sha[:2] / f"{sha}.{ext}"))


# --- 1. files outside the attachments folder --------------------------------------------------------------

@pytest.mark.parametrize("real_cli", [True, False])
def test_path_traversal_in_a_photo_sha256(world, station, capsys, real_cli):
    sha = f"../../../../tmp/x-{uuid.uuid4().hex[:8]}"
    target = outside(station, sha).resolve()
    assert not target.exists()

    def change(members):
        [photo] = records(members, "photos")
        data = members.pop(f"attachments/{photo['sha256']}.{photo['ext']}")
        photo["sha256"] = sha
        put_records(members, "photos", [photo])
        members[f"attachments/{sha}.jpg"] = data  # the attacker ships the file under that name too

    bad = forge(world, station.tmp / "traversal.zip", change)
    assert_refused(capsys, station, bad, "不安全", real_cli=real_cli)
    assert not target.exists()


def test_path_traversal_in_the_record_only(world, station, capsys):
    """The attachment keeps its real name; only the record points elsewhere."""
    sha = f"../../../../tmp/y-{uuid.uuid4().hex[:8]}"
    target = outside(station, sha).resolve()
    bad = forge(world, station.tmp / "traversal-record.zip", edit_record("photos", lambda r: r.update(sha256=sha)))
    err = assert_refused(capsys, station, bad, "sha256")
    assert "照片（photos）" in err and "SHA-256" in err
    assert not target.exists()


def test_absolute_path_in_a_photo_sha256(world, station, capsys):
    sha = f"/tmp/abs-{uuid.uuid4().hex[:8]}"
    target = outside(station, sha)
    assert target == Path(f"{sha}.jpg")  # what photo_path would have written before
    bad = forge(world, station.tmp / "absolute.zip", edit_record("photos", lambda r: r.update(sha256=sha)))
    assert_refused(capsys, station, bad, "sha256", real_cli=True)
    assert not target.exists()


def test_ext_outside_the_allow_list(world, station, capsys):
    bad = forge(world, station.tmp / "ext.zip", edit_record("photos", lambda r: r.update(ext="jpg/../../../x")))
    assert_refused(capsys, station, bad, "ext")


@pytest.mark.parametrize("name", [
    "/attachments/evil.jpg",                   # absolute
    "attachments/../../../../tmp/evil.jpg",    # .. in the member name
    "attachments\\..\\..\\evil.jpg",           # backslashes
    "C:\\x",                                   # a drive letter, Windows style
    "C:/Windows/evil.jpg",                     # a drive letter, forward slash
    "attachments/evil\n.jpg",                  # a control character
])
def test_unsafe_member_names(world, station, capsys, name):
    bad = raw_zip(world, station.tmp / "names.zip", [(name, b"evil")])
    err = assert_refused(capsys, station, bad, "不安全")
    assert "\n" not in err.strip()


def test_unsafe_member_name_through_the_real_cli(world, station, capsys):
    bad = raw_zip(world, station.tmp / "names.zip", [("C:\\x", b"evil")])
    assert_refused(capsys, station, bad, "不安全", real_cli=True)


def test_symlink_member(world, station, capsys):
    info = zipfile.ZipInfo(f"attachments/{'a' * 64}.jpg")
    info.create_system = 3  # Unix
    info.external_attr = (0o120777 << 16)  # a symlink
    bad = raw_zip(world, station.tmp / "symlink.zip", [(info, b"/etc/passwd")])
    assert_refused(capsys, station, bad, "符号链接", real_cli=True)


def test_duplicate_member_names(world, station, capsys):
    manifest, members = members_of(world.package)
    name = next(n for n in members if n.startswith("records/"))
    manifest_bytes, signature = signed_manifest(manifest, members, world.key)
    bad = station.tmp / "duplicate.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("manifest.json", manifest_bytes)
        zf.writestr("manifest.sig", signature)
        for n, d in members.items():
            zf.writestr(n, d)
        with pytest.warns(UserWarning):
            zf.writestr(name, b'{"evil": 1}\n')
    assert_refused(capsys, station, bad, "重复")


# --- 2. attachments: content must match the name ----------------------------------------------------------

def test_attachment_whose_bytes_hash_differently(world, station, capsys):
    """A 64-hex name, listed in the signed manifest with its real bytes' hash: refused all the same."""
    def change(members):
        [photo] = records(members, "photos")
        name = f"attachments/{photo['sha256']}.{photo['ext']}"
        members[name] = members[name] + b"appended"  # other bytes under the same name
    bad = forge(world, station.tmp / "wrong-bytes.zip", change)
    assert_refused(capsys, station, bad, "与其文件名（SHA-256）不符", real_cli=True)


def test_refused_import_writes_no_photo(world, station, capsys):
    """A package refused late (at the signed-record proof) leaves no photo file behind."""
    def change(members):
        edit_record("inspections", lambda r: r.update(findings="改过的现场情况"))(members)
    bad = forge(world, station.tmp / "late.zip", change)
    [photo] = records(members_of(bad)[1], "photos")
    target = station.attachments / photo["sha256"][:2] / f"{photo['sha256']}.{photo['ext']}"
    assert not target.exists()
    assert_refused(capsys, station, bad, "内容摘要与记录内容不符")
    assert not target.exists() and not (station.attachments / ".staging").exists()


def test_genuine_package_places_its_photo_after_the_commit(world, station):
    ctx = AppContext.open(station.db)
    try:
        summary = sync.import_package(ctx, world.package)
        assert summary.applied > 0 and summary.conflicts == 0
        record = svc.load_inspection(ctx, world.inspection_id)
        assert record.status == "signed" and record.current_hash() == record.content_hash
        [photo] = record.photos
        assert photo.path.is_file() and hashlib.sha256(read_attachment(ctx, photo.path)).hexdigest() == photo.sha256
        assert photo.path.resolve().is_relative_to(station.attachments.resolve())
        assert not (station.attachments / ".staging").exists()
    finally:
        ctx.close()


def test_import_killed_between_commit_and_moves(world, station, monkeypatch):
    """The photo stays staged; the next import (here: the same package again) puts it in place."""
    from core.sync import apply

    monkeypatch.setattr(apply._Staged, "place", lambda self: None)  # as if killed right after the commit
    ctx = AppContext.open(station.db)
    try:
        assert sync.import_package(ctx, world.package).applied > 0
        [photo] = svc.load_inspection(ctx, world.inspection_id).photos
        assert not photo.path.exists()
        [staged] = (station.attachments / ".staging").rglob(photo.path.name)
        monkeypatch.undo()
        assert sync.import_package(ctx, world.package).already_imported
        assert photo.path.is_file() and not staged.exists() and not (station.attachments / ".staging").exists()
        assert hashlib.sha256(read_attachment(ctx, photo.path)).hexdigest() == photo.sha256
    finally:
        ctx.close()


# --- bombs and limits (memory measured in a subprocess) -------------------------------------------------

RSS_RUNNER = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import main, cli.app, core.sync, core.context, sqlalchemy.orm  # the app's own imports, before the baseline
from core.context import AppContext
AppContext.open(sys.argv[2]).close()  # the database opened once: engine, migrations check

def status(key):
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(key + ":"))

with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # reset the peak resident size (VmHWM) to the current one
base = status("VmRSS")
t0 = time.perf_counter()
code = main.main(["sync", "import", "--db", sys.argv[2], sys.argv[3]])
took = time.perf_counter() - t0
print(json.dumps({"code": code, "growth_mb": (status("VmHWM") - base) / 1024, "seconds": took}))
"""


def import_measured(st: Station, package: Path) -> tuple[int, str, float]:
    pytest.importorskip("resource")
    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("needs Linux /proc for the resident size")
    before = st.digests()
    proc = subprocess.run([sys.executable, "-c", RSS_RUNNER, str(ROOT), str(st.db), str(package)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert st.digests() == before
    print(f"{package.name}: exit {result['code']}, peak RSS growth {result['growth_mb']:.1f} MB, "
          f"{result['seconds']:.2f} s")
    return result["code"], proc.stderr, result["growth_mb"]


def zeros(zf: zipfile.ZipFile, name: str, size: int) -> str:
    """A member of ``size`` zero bytes, deflated (1 GB → about 1 MB), written in chunks; its SHA-256."""
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    digest = hashlib.sha256()
    chunk = bytes(MB)
    with zf.open(info, "w") as out:
        for _ in range(size // MB):
            out.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()


def bomb(world: World, target: Path, name: str, size: int, *, declare: int | None = None) -> Path:
    """The genuine package with ``name`` replaced by ``size`` zeros, listed and signed; with
    ``declare`` the zip's headers claim that uncompressed size instead (a lying directory)."""
    manifest, members = members_of(world.package)
    members.pop(name, None)
    with zipfile.ZipFile(target, "w") as zf:
        for n, d in members.items():
            zf.writestr(n, d, zipfile.ZIP_DEFLATED)
        hashes = {n: sha256_hex(d) for n, d in members.items()}
        hashes[name] = zeros(zf, name, size)
        manifest_bytes, signature = signed_manifest(manifest, members, world.key, hashes)
        zf.writestr("manifest.json", manifest_bytes)
        zf.writestr("manifest.sig", signature)
    if declare is not None:
        _declare_size(target, name, declare)
    return target


def _declare_size(path: Path, name: str, size: int) -> None:
    """Patch the uncompressed size of ``name`` in the central directory and the local header."""
    raw = bytearray(path.read_bytes())
    at = raw.find(b"PK\x01\x02")
    while at >= 0:
        name_len, extra_len, comment_len = (int.from_bytes(raw[at + o:at + o + 2], "little") for o in (28, 30, 32))
        if raw[at + 46:at + 46 + name_len].decode() == name:
            raw[at + 24:at + 28] = size.to_bytes(4, "little")
            local = int.from_bytes(raw[at + 42:at + 46], "little")
            assert raw[local:local + 4] == b"PK\x03\x04"
            raw[local + 22:local + 26] = size.to_bytes(4, "little")
            path.write_bytes(bytes(raw))
            with zipfile.ZipFile(path) as zf:
                assert zf.getinfo(name).file_size == size
            return
        at = raw.find(b"PK\x01\x02", at + 46 + name_len + extra_len + comment_len)
    raise AssertionError(f"{name} not in {path}")


def assert_bomb_refused(st: Station, package: Path, *needles: str) -> None:
    code, err, growth = import_measured(st, package)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误：") and CJK.search(lines[0]), err
    assert any(n in err for n in needles), err
    assert growth < 200, f"peak RSS grew by {growth:.0f} MB"


def test_bomb_in_a_records_member(world, station):
    bad = bomb(world, station.tmp / "bomb-records.zip", "records/item_results.jsonl", GB)
    assert bad.stat().st_size < 3 * MB
    assert_bomb_refused(station, bad, "超过上限")


def test_bomb_in_an_attachment_member(world, station):
    """A non-record member: 1 GB of zeros named by its own (true) SHA-256."""
    digest = hashlib.sha256()
    for _ in range(GB // MB):
        digest.update(bytes(MB))
    bad = bomb(world, station.tmp / "bomb-attachment.zip", f"attachments/{digest.hexdigest()}.png", GB)
    assert_bomb_refused(station, bad, "超过上限")


def test_bomb_with_a_lying_directory(world, station):
    """The headers claim 10 kB; the deflate stream holds 1 GB: reading stops at the claim."""
    bad = bomb(world, station.tmp / "bomb-lying.zip", "records/item_results.jsonl", GB, declare=10_000)
    assert_bomb_refused(station, bad, "已损坏", "超过声明的大小")


def test_bomb_lying_within_the_limits(world, station):
    """The headers claim 50 MB (a ratio of about 50:1, under every limit); the stream holds 1 GB."""
    bad = bomb(world, station.tmp / "bomb-lying-50.zip", "records/item_results.jsonl", GB, declare=50 * MB)
    assert_bomb_refused(station, bad, "已损坏", "超过声明的大小")


def test_compression_ratio_bomb_under_the_size_limit(world, station, capsys):
    """60 MB of zeros (under the per-member limit) deflates 1000:1: refused from the directory."""
    bad = bomb(world, station.tmp / "ratio.zip", "records/item_results.jsonl", 60 * MB)
    assert_refused(capsys, station, bad, "压缩比")


def test_too_many_members(world, station, capsys):
    entries = [(f"attachments/{hashlib.sha256(str(i).encode()).hexdigest()}.png", str(i).encode())
               for i in range(MAX_MEMBERS + 1)]
    bad = raw_zip(world, station.tmp / "many.zip", entries)
    assert_refused(capsys, station, bad, "成员过多", real_cli=True)


def test_members_are_not_read_before_the_signature(world, station, capsys):
    """A corrupted records member and a bad signature: the signature is what is reported."""
    manifest, members = members_of(world.package)
    manifest_bytes, _ = signed_manifest(manifest, members, world.key)
    bad = station.tmp / "unsigned.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("manifest.json", manifest_bytes)
        zf.writestr("manifest.sig", bytes(64))
        for n, d in members.items():
            zf.writestr(n, d, zipfile.ZIP_STORED)
    raw = bytearray(bad.read_bytes())
    with zipfile.ZipFile(bad) as zf:
        info = zf.getinfo("records/item_results.jsonl")
    raw[info.header_offset + 30 + len(info.filename) + 10] ^= 0xFF  # breaks its CRC
    bad.write_bytes(bytes(raw))
    assert_refused(capsys, station, bad, "签名无效")


# --- 3. records against the schema ------------------------------------------------------------------------

@pytest.mark.parametrize("table, field, value, needle", [
    ("inspections", "version", "2", "应为整数"),
    ("inspections", "number", 12345, "应为文本"),
    ("inspections", "party_refused", "yes", "true 或 false"),
    ("inspections", "started_at", "yesterday", "ISO 日期时间"),
    ("inspections", "subject_id", "../../etc", "UUID"),
    ("inspections", "status", ["signed"], "应为文本"),
    ("item_results", "inspection_id", None, "不能为空"),
    ("rectifications", "deadline", 20260101, "ISO 日期"),
    ("inspection_officers", "position", 1.5, "应为整数"),
    ("signatures", "png", "aGVsbG8=", "应为 null"),
])
def test_wrong_json_types(world, station, capsys, table, field, value, needle):
    bad = forge(world, station.tmp / "types.zip", edit_record(table, lambda r: r.update({field: value})))
    err = assert_refused(capsys, station, bad, needle)
    assert f"（{table}）" in err and f"字段 {field} " in err and "第 1 条记录" in err


def test_wrong_json_type_through_the_real_cli(world, station, capsys):
    bad = forge(world, station.tmp / "types.zip", edit_record("inspections", lambda r: r.update(version="2")))
    err = assert_refused(capsys, station, bad, "应为整数", real_cli=True)
    assert "检查记录（inspections）" in err and "字段 version" in err


def _raw_text(table: str, old: str, new: str):
    def change(members):
        name = f"records/{table}.jsonl"
        assert old.encode() in members[name]
        members[name] = members[name].replace(old.encode(), new.encode(), 1)
    return change


@pytest.mark.parametrize("real_cli", [True, False])
def test_infinity_as_a_version(world, station, capsys, real_cli):
    def change(members):
        rows = records(members, "inspections")
        version = rows[0]["version"]
        _raw_text("inspections", f'"version":{version}', '"version":Infinity')(members)
    bad = forge(world, station.tmp / "infinity.zip", change)
    err = assert_refused(capsys, station, bad, "非有限数值 Infinity", real_cli=real_cli)
    assert "字段 version" in err


@pytest.mark.parametrize("token, needle", [("NaN", "非有限数值 NaN"), ("-Infinity", "非有限数值 -Infinity"),
                                           ("1e400", "应为整数"), ("9" * 5000, "不是有效的 JSON")])
def test_nan_in_a_number(world, station, capsys, token, needle):
    """NaN, -Infinity, a float that overflows to infinity, an integer too long to parse."""
    def change(members):
        position = records(members, "inspection_officers")[0]["position"]
        _raw_text("inspection_officers", f'"position":{position}', f'"position":{token}')(members)
    bad = forge(world, station.tmp / "nan.zip", change)
    assert_refused(capsys, station, bad, needle)


def test_infinity_in_the_manifest(world, station, capsys):
    manifest, members = members_of(world.package)
    text = json.dumps({**manifest, "members": {n: sha256_hex(d) for n, d in members.items()}}, sort_keys=True)
    data = text.replace(f'"seq": {manifest["seq"]}', '"seq": Infinity').encode()
    assert b"Infinity" in data
    bad = station.tmp / "manifest-infinity.zip"
    write_zip_atomically(bad, data, sign(world.key, data), members)
    assert_refused(capsys, station, bad, "清单已损坏")


@pytest.mark.parametrize("table, field, value", [
    ("inspections", "status", "hacked"),
    ("inspections", "kind", "raid"),
    ("item_results", "result", "maybe"),
    ("signatures", "role", "admin"),
    ("rectifications", "status", "forgotten"),
])
def test_unknown_enum_values(world, station, capsys, table, field, value):
    bad = forge(world, station.tmp / "enum.zip", edit_record(table, lambda r: r.update({field: value})))
    err = assert_refused(capsys, station, bad, "不在允许范围内", "不是有效的取值", real_cli=(field == "status"
                                                                                      and table == "inspections"))
    assert f"字段 {field} " in err


def test_thirty_million_character_name(world, station, capsys):
    """A subject named with 30 M characters (random hex: not a compression bomb, just big)."""
    import os as _os

    def change(members):
        ctx = AppContext.open(world.laptop_db)
        try:
            from core.sync.codec import current
            from db.models import Subject

            with ctx.sessions() as s:
                subject = current(s.query(Subject).one())
        finally:
            ctx.close()
        subject["name"] = _os.urandom(15_000_000).hex()
        subject["version"] += 1
        put_records(members, "subjects", [subject])
    bad = forge(world, station.tmp / "long-name.zip", change)
    err = assert_refused(capsys, station, bad, "超过 200 个字符", real_cli=True)
    assert "监管对象（subjects）" in err and "字段 name" in err and len(err) < 400


def test_long_free_text(world, station, capsys):
    bad = forge(world, station.tmp / "long-note.zip", edit_record("item_results", lambda r: r.update(note="注" * 20_001)))
    assert_refused(capsys, station, bad, "超过 20,000 个字符")


@pytest.mark.parametrize("real_cli", [True, False])
def test_unknown_column(world, station, capsys, real_cli):
    bad = forge(world, station.tmp / "column.zip", edit_record("inspections", lambda r: r.update(is_admin=True)))
    err = assert_refused(capsys, station, bad, "未知字段", real_cli=real_cli)
    assert "is_admin" in err


def test_missing_required_column(world, station, capsys):
    bad = forge(world, station.tmp / "missing.zip", edit_record("inspections", lambda r: r.pop("number")))
    assert_refused(capsys, station, bad, "缺失")


def test_record_that_is_not_an_object(world, station, capsys):
    def change(members):
        members["records/item_results.jsonl"] += b"[1, 2, 3]\n"
    bad = forge(world, station.tmp / "array.zip", change)
    assert_refused(capsys, station, bad, "不是 JSON 对象")


def test_template_snapshot_that_does_not_match_its_hash(world, station, capsys):
    def change(members):
        rows = records(members, "template_snapshots")  # the templates travel with the inspections using them
        rows[0]["json"] = rows[0]["json"].replace("化妆品", "化装品", 1)
        put_records(members, "template_snapshots", rows)
    bad = forge(world, station.tmp / "snapshot.zip", change)
    assert_refused(capsys, station, bad, "SHA-256 与 sha256 字段不符")


def test_refused_through_the_service_as_well(world, station):
    """``sync.import_package`` (the GUI, the hub) raises the same InvalidInput."""
    bad = forge(world, station.tmp / "types.zip", edit_record("inspections", lambda r: r.update(version="2")))
    before = station.digests()
    ctx = AppContext.open(station.db)
    try:
        with pytest.raises(InvalidInput, match="字段 version 应为整数"):
            sync.import_package(ctx, bad)
    finally:
        ctx.close()
    assert station.digests() == before


# --- 4. signed means proven ----------------------------------------------------------------------------------

@pytest.mark.parametrize("real_cli", [True, False])
def test_forged_signed_inspection_with_a_made_up_hash(world, station, capsys, real_cli):
    """Signed with the genuine (stolen) laptop key: a signed inspection whose hash is invented."""
    def forged(r):
        r.update(findings="现场检查未发现问题。", content_hash="0" * 64)
    bad = forge(world, station.tmp / "forged.zip", edit_record("inspections", forged))
    assert_refused(capsys, station, bad, "内容摘要与记录内容不符", real_cli=real_cli)


def test_signed_inspection_changed_after_signing(world, station, capsys):
    """An answer changed in the package, the inspection's stored hash kept."""
    def change(members):
        rows = records(members, "item_results")
        failed = next(r for r in rows if r["result"] == "fail")
        failed.update(result="pass", note="")
        put_records(members, "item_results", rows)
    bad = forge(world, station.tmp / "changed.zip", change)
    assert_refused(capsys, station, bad, "内容摘要与记录内容不符")


def _rehash(members: dict[str, bytes], laptop_db: Path, edit_officers=None) -> None:
    """Recompute the inspection's content hash over the (edited) package rows, as an attacker can."""
    import sqlite3

    from core.checklists import template_from_snapshot
    from core.inspections import content_hash, record_from_rows

    [inspection] = records(members, "inspections")
    officers = records(members, "inspection_officers")
    if edit_officers is not None:
        edit_officers(officers)
        put_records(members, "inspection_officers", officers)
    conn = rawdb.connect(laptop_db)
    [snapshot] = conn.execute("SELECT json FROM template_snapshots WHERE sha256 = ?",
                              (inspection["template_sha"],)).fetchone()
    conn.close()
    rect = records(members, "rectifications") if "records/rectifications.jsonl" in members else []
    record = record_from_rows(inspection, template_from_snapshot(snapshot), snapshot, officers=officers,
                              results=records(members, "item_results"), photos=records(members, "photos"),
                              signatures=records(members, "signatures"), rectification=rect[0] if rect else None)
    inspection["content_hash"] = content_hash(record)
    put_records(members, "inspections", [inspection])


def test_signed_inspection_by_an_unknown_officer(world, station, capsys):
    """The hash recomputed correctly, but an officer who is not on the station's list."""
    bad = forge(world, station.tmp / "officer.zip", lambda m: _rehash(
        m, world.laptop_db, lambda rows: rows[1].update(name="假冒人员", cert_no="41179999999")))
    err = assert_refused(capsys, station, bad, "不是本所执法人员名录中的在职执法人员")
    assert "假冒人员" in err and "41179999999" in err


def test_signed_inspection_by_an_inactive_officer(world, station, capsys):
    from db.models import User

    ctx = AppContext.open(station.db)
    try:
        with ctx.transaction() as s:
            s.query(User).filter(User.cert_no == OFFICERS_DATA[1][1]).one().active = False
    finally:
        ctx.close()
    assert_refused(capsys, station, world.package, "不是本所执法人员名录中的在职执法人员")


def test_recomputed_hash_with_known_officers_is_accepted(world, station):
    """The proof checks consistency: a record whose hash recomputes from its rows goes in
    (the package's own, untouched): what the schema and the proof accept, nothing more."""
    same = forge(world, station.tmp / "same.zip", lambda m: _rehash(m, world.laptop_db))
    assert members_of(same)[1]["records/inspections.jsonl"] == members_of(world.package)[1]["records/inspections.jsonl"]
    ctx = AppContext.open(station.db)
    try:
        assert sync.import_package(ctx, same).applied > 0
    finally:
        ctx.close()


def test_signed_inspection_missing_a_signature(world, station, capsys):
    def change(members):
        rows = records(members, "signatures")
        put_records(members, "signatures", [r for r in rows if r["role"] != "officer2"])
        _rehash(members, world.laptop_db)
    bad = forge(world, station.tmp / "unsigned-officer.zip", change)
    assert_refused(capsys, station, bad, "缺少签名")


# --- a draft the station already has, signed later on the laptop: the proof merges both ----------------

@pytest.fixture(scope="module")
def draft_world(tmp_path_factory):
    """The station holds the laptop's draft (answers, photo); the laptop signs it later and
    sends only what changed since: the proof must read the rest from the station's database."""
    base = tmp_path_factory.mktemp("sync-draft")
    station, subject, laptop, enrolment, up = _station_and_laptop(base)
    inspection_id = _inspect(laptop, subject.id, base, (20, 160, 20), sign=False)
    [first] = sync.export_packages(laptop, up)
    assert sync.import_package(station, first).applied > 0
    pull_master_data(station, laptop, base / "down2")
    svc.complete_inspection(laptop, inspection_id)
    sign_all(laptop, inspection_id)
    [second] = sync.export_packages(laptop, up)
    station.close()
    laptop.close()
    return base, second, inspection_id, enrolment


def test_signed_later_proven_from_the_station_rows(draft_world, tmp_path):
    base, package, inspection_id, _ = draft_world
    _, members = members_of(package)
    assert "records/item_results.jsonl" not in members or len(records(members, "item_results")) < 20
    db = tmp_path / "station.db"
    rawdb.copy_db(base / "station.db", db)
    ctx = AppContext.open(db)
    try:
        assert sync.import_package(ctx, package).applied > 0
        record = svc.load_inspection(ctx, inspection_id)
        assert record.status == "signed" and record.current_hash() == record.content_hash
    finally:
        ctx.close()


def test_signed_later_with_a_tampered_finding(draft_world, tmp_path, capsys):
    base, package, _inspection_id, enrolment = draft_world
    db = tmp_path / "station.db"
    rawdb.copy_db(base / "station.db", db)
    shutil.copytree(base / "station-attachments", tmp_path / "station-attachments")
    st = Station(db, tmp_path / "station-attachments", tmp_path)
    manifest, members = members_of(package)
    edit_record("inspections", lambda r: r.update(findings="无问题"))(members)
    manifest_bytes, signature = signed_manifest(manifest, members, enrolment["device_private_key"])
    bad = tmp_path / "tampered.zip"
    write_zip_atomically(bad, manifest_bytes, signature, members)
    assert_refused(capsys, st, bad, "内容摘要与记录内容不符")


# --- through the hub -------------------------------------------------------------------------------------------

def test_traversal_through_the_hub_is_400(world, station):
    from core.sync.client import H_DEVICE, H_NAME, sign_request
    from tests.integration.test_hub import HubProcess, Station as HubStation, raw_request

    data_dir = station.tmp / "hub-data"
    data_dir.mkdir()
    shutil.move(str(station.attachments), data_dir / "attachments")
    station.attachments = data_dir / "attachments"
    sha = f"../../../../tmp/hub-{uuid.uuid4().hex[:8]}"
    target = outside(station, sha).resolve()
    bad = forge(world, station.tmp / "hub-traversal.zip", edit_record("photos", lambda r: r.update(sha256=sha)))
    st = HubStation(str(station.db), data_dir)
    st.ctx.close()
    before = database_digest(station.db, skip=("hub_requests",)), folder_digest(station.attachments)
    hub = HubProcess(st)
    try:
        body = bad.read_bytes()
        headers = {H_DEVICE: world.device_id, H_NAME: bad.name,
                   **sign_request(world.key, "POST", "/api/v1/packages", body)}
        status, answer = raw_request(hub.url, "POST", "/api/v1/packages", body, headers)
    finally:
        hub.stop()
    assert status == 400, answer
    assert set(answer) == {"error"} and CJK.search(answer["error"]) and "\n" not in answer["error"]
    assert "sha256" in answer["error"] and "Error" not in answer["error"]
    assert (database_digest(station.db, skip=("hub_requests",)), folder_digest(station.attachments)) == before
    assert not target.exists()
