"""Levels (docs/levels.md): laptop → station → county, each level the hub of the one below, on a
county database that is SQLite or a real PostgreSQL (skipped where no server can be started; CI runs it).

Two stations enrol at the county the way laptops enrol at a station; each forwards its own and its
laptops' records up; the county files each device under its station (``stats --station`` works at
once) and sends down what it owns, to each station only what is that station's; tombstones travel both
ways; a delete against an edit is a conflict; a signed record refuses a tombstone; a package claiming
another station's device is refused; a station joins another county only with the first one's release.
"""
from __future__ import annotations

import dataclasses
import subprocess
import json
import zipfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import inspections as svc
from core import sync
from core.audit import verify_chain
from core.context import AppContext
from core.deletions import delete_subject, delete_task
from core.errors import InvalidInput
from core.signing import sha256_hex, sign
from core.station import get_settings, update_settings
from core.stats import Period, report
from core.subjects import SubjectData, add_subject, get_subject, update_subject
from core.sync.devices import identity_for, open_enrolment, upstream
from core.sync.writer import write_zip_atomically
from core.tasks import list_tasks, record_event
from core.users import update_user
from db.models import Inspection, Signature, StationDevice, Subject, SyncConflict, User
from tests.conftest import OFFICERS_DATA
from tests.integration.helpers import register_officers, signed_inspection

SHOP = dict(category="cosmetics_operator", legal_rep="张三", address="驿城区测试路1号", phone="13800000000",
            grid="测试社区")
B_OFFICERS = [("赵六", "41170021005"), ("孙七", "41170021006")]
COUNTY, A, B = "驿城区市场监督管理局", "城关所", "西园所"


def _named(ctx: AppContext, name: str) -> AppContext:
    update_settings(ctx, dataclasses.replace(get_settings(ctx), station_name=name))
    return ctx


def _county_db(request, tmp_path: Path, name: str) -> str:
    if request.param == "postgresql":
        return request.getfixturevalue("pg_server").create_database()
    return str(tmp_path / f"{name}.db")


@pytest.fixture(params=["sqlite", "postgresql"])
def county(request, tmp_path):
    ctx = _named(AppContext.open(_county_db(request, tmp_path, "county"),
                                 attachments_dir=tmp_path / "county-att"), COUNTY)
    yield ctx
    ctx.close()


def _station(county: AppContext, tmp_path: Path, name: str, officers) -> AppContext:
    ctx = _named(AppContext.open(tmp_path / f"{name}.db", attachments_dir=tmp_path / f"{name}-att"), name)
    register_officers(ctx, officers)
    kind = sync.join(ctx, sync.add_device(county, name, kind="station"))
    assert kind == "station" and upstream(ctx) == (county.device_id, COUNTY)
    return ctx


@pytest.fixture
def stations(county, tmp_path):
    a, b = _station(county, tmp_path, A, OFFICERS_DATA), _station(county, tmp_path, B, B_OFFICERS)
    yield a, b
    a.close()
    b.close()


def _laptop(station: AppContext, tmp_path: Path, name: str, prefix: str = "城") -> AppContext:
    """A laptop of ``station``; document numbers are unique in a county only with a prefix per station."""
    ctx = AppContext.open(tmp_path / f"{name}.db", attachments_dir=tmp_path / f"{name}-att")
    assert sync.join(ctx, sync.add_device(station, name)) == "laptop"
    update_settings(ctx, dataclasses.replace(get_settings(ctx), inspection_prefix=f"{prefix}市监药检",
                                             rectification_prefix=f"{prefix}市监改"))
    return ctx


def _peer(source: AppContext, target: AppContext) -> str:
    """The id ``source`` knows ``target`` by: its county's hub id, or the target's own device id."""
    above = upstream(source)
    if above is not None and target.setting("sync.station_id") == source.setting("sync.up.station_id"):
        return above[0]
    mine = target.setting_or("sync.up.device_id", "")
    return mine if mine and any(d.id == mine for d in sync.list_devices(source)) else target.device_id


_STEP = [0]


def exchange(source: AppContext, target: AppContext, tmp_path: Path) -> tuple[sync.ImportSummary, list[Path]]:
    """``source`` exports for ``target`` (USB stick); ``target`` imports."""
    _STEP[0] += 1
    folder = tmp_path / f"x{_STEP[0]}"
    paths = sync.export_packages(source, folder, peer=_peer(source, target))
    return sync.import_packages(target, paths), paths


def count(ctx: AppContext, model, **where) -> int:
    with ctx.sessions() as s:
        return s.scalar(select(func.count()).select_from(model).filter_by(**where))


def records_in(paths: list[Path]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for path in paths:
        with zipfile.ZipFile(path) as zf:
            for member in zf.namelist():
                if member.startswith("records/"):
                    table = member.removeprefix("records/").removesuffix(".jsonl")
                    out.setdefault(table, []).extend(json.loads(line) for line in zf.read(member).decode().splitlines())
    return out


def forged(path: Path, key: str, out: Path, *, records=None, tombstones=None) -> Path:
    """``path`` with its records or tombstones changed, signed again with the sender's own key."""
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        members = {n: zf.read(n) for n in zf.namelist() if n not in ("manifest.json", "manifest.sig")}
    for table, rows in (records or {}).items():
        members[f"records/{table}.jsonl"] = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
        manifest["counts"][table] = len(rows)
    if tombstones is not None:
        members["tombstones.jsonl"] = "".join(json.dumps(t) + "\n" for t in tombstones).encode()
        manifest["tombstones"] = len(tombstones)
    manifest["members"] = {n: sha256_hex(d) for n, d in sorted(members.items())}
    raw = json.dumps(manifest, ensure_ascii=False, sort_keys=True).encode()
    write_zip_atomically(out, raw, sign(key, raw), members)
    return out


def _up_key(station: AppContext) -> str:
    return identity_for(station, upstream(station)[0])[2]


def test_laptop_station_county_round_trip(county, stations, tmp_path):
    a, b = stations
    a1, b1 = _laptop(a, tmp_path, "a1"), _laptop(b, tmp_path, "b1", "西")
    try:
        _round_trip(county, a, b, a1, b1, tmp_path)
    finally:
        a1.close()
        b1.close()


def _round_trip(county, a, b, a1, b1, tmp_path):
    exchange(a, a1, tmp_path)  # the officers, to sign with
    exchange(b, b1, tmp_path)
    a_own = add_subject(a, SubjectData(name="城关所登记的店", **SHOP))
    mistaken = add_subject(a, SubjectData(name="城关所重复录入的店", **SHOP))
    disputed = add_subject(a, SubjectData(name="城关所有争议的店", **SHOP))
    complained = add_subject(a, SubjectData(name="城关所被投诉的店", **SHOP))
    a_shop = add_subject(a1, SubjectData(name="城关现场登记的店", **SHOP))
    b_shop = add_subject(b1, SubjectData(name="西园现场登记的店", **SHOP))
    a_done = signed_inspection(a1, a_shop.id, [svc.OfficerData(n, c) for n, c in OFFICERS_DATA])
    b_done = signed_inspection(b1, b_shop.id, [svc.OfficerData(n, c) for n, c in B_OFFICERS], failures={})
    exchange(a1, a, tmp_path)
    exchange(b1, b, tmp_path)

    # up: each station forwards its own records and its laptop's, signed by its key
    up_a, _ = exchange(a, county, tmp_path)
    up_b, _ = exchange(b, county, tmp_path)
    assert up_a.conflicts == up_b.conflicts == 0
    assert count(county, Subject) == 6 and count(county, Inspection, status="signed") == 2
    assert count(a, Subject) == 5 and count(b, Subject) == 1  # each station: only its own
    with county.sessions() as s:
        filed = dict(s.execute(select(StationDevice.device_id, StationDevice.station)).all())
        hashes = s.scalars(select(User.password_hash)).all()
        creators = dict(s.execute(select(Subject.id, Subject.device_id)).all())
    assert filed == {a.device_id: A, a1.device_id: A, b.device_id: B, b1.device_id: B}
    assert creators[a_shop.id] == a1.device_id and creators[a_own.id] == a.device_id  # ids never lost
    assert len(hashes) == 4 and set(hashes) == {None}  # officers, no password verifier goes up

    # the county's statistics at once: each station's equal to the station's own, all the sum
    today = date.today()
    period = Period.quarter(today.year, (today.month - 1) // 3 + 1)
    everyone = report(county, period)
    assert everyone["stations"] == [COUNTY, A, B]
    for figure in ("inspections", "subjects_inspected", "failed_items"):
        own = [report(x, period)[figure]["total"] for x in (a, b)]
        assert [report(county, period, stations=[n])[figure]["total"] for n in (A, B)] == own, figure
        assert everyone[figure]["total"] == sum(own), figure
    assert everyone["inspections"]["by_station"] == {A: 1, B: 1}

    # down: the county's task for A's subject goes to A (and on to A's laptop), nothing of B's to A
    before = {t.id for t in list_tasks(a)}
    assert record_event(county, complained.id, "complaint", today, details="县局转办投诉").task_created
    [task] = [t for t in list_tasks(county) if t.id not in before]
    update_subject(county, disputed.id, dataclasses.replace(_data(county, disputed.id), phone="13900000001"))
    with county.sessions() as s:
        officer = s.scalar(select(User).where(User.cert_no == OFFICERS_DATA[0][1]))
    update_user(county, officer.id, name=officer.name, role="inspector", cert_no=officer.cert_no, grid="城关网格")
    down_a, sent_a = exchange(county, a, tmp_path)
    down_b, sent_b = exchange(county, b, tmp_path)
    to_a, to_b = records_in(sent_a), records_in(sent_b)
    assert [t["id"] for t in to_a["inspection_tasks"]] == [task.id] and "inspection_tasks" not in to_b
    b_devices = {b.device_id, b1.device_id}
    a_devices = {a.device_id, a1.device_id}
    assert sum(len(rows) for rows in to_a.values()) >= 3
    assert not [r for rows in to_a.values() for r in rows if r.get("device_id") in b_devices]
    assert not [r for rows in to_b.values() for r in rows if r.get("device_id") in a_devices]
    assert down_a.conflicts == down_b.conflicts == 0
    with a.sessions() as s:  # the county's edit of A's officer keeps the officer's password at A
        here = s.get(User, officer.id)
        assert here.grid == "城关网格" and here.password_hash is not None
    assert {t.id for t in list_tasks(a)} - before == {task.id} and list_tasks(b) == []
    exchange(a, a1, tmp_path)
    assert task.id in {t.id for t in list_tasks(a1)}

    # a tombstone down: the county withdraws its task; up: A deletes its mistaken subject,
    # and deletes the subject the county edited meanwhile (a delete against an edit: a conflict)
    delete_task(county, task.id)
    exchange(county, a, tmp_path)
    assert {t.id for t in list_tasks(a)} == before
    update_subject(county, disputed.id, dataclasses.replace(_data(county, disputed.id), phone="13900000002"))
    delete_subject(a, mistaken.id)
    delete_subject(a, disputed.id)
    up, _ = exchange(a, county, tmp_path)
    assert count(county, Subject, id=mistaken.id) == 0
    assert up.conflicts == 1 and get_subject(county, disputed.id).phone == "13900000002"
    with county.sessions() as s:
        [conflict] = s.scalars(select(SyncConflict).where(SyncConflict.resolved_at.is_(None))).all()
    assert conflict.record_id == disputed.id and conflict.deleted == "remote"

    # a signed record refuses a tombstone, even from an enrolled station: the package refused whole
    delete_subject(a, a_own.id)
    folder = tmp_path / "signed"
    [pkg] = sync.export_packages(a, folder, peer=upstream(a)[0])
    with county.sessions() as s:
        drawn = s.scalars(select(Signature.id).where(Signature.inspection_id == a_done)).all()
    assert len(drawn) >= 3
    dead = [{"table": "signatures", "id": drawn[0], "version": 1, "deleted_at": "2026-12-01T09:00:00",
             "deleted_by": "城关所", "device_id": a.device_id}]
    bad = forged(pkg, _up_key(a), folder / "forged.zip", tombstones=dead)
    with pytest.raises(InvalidInput, match="签名锁定"):
        sync.import_package(county, bad)
    assert count(county, Subject, id=a_own.id) == 1 and count(county, Inspection, id=a_done) == 1
    sync.import_package(county, pkg)
    assert count(county, Subject, id=a_own.id) == 0
    assert verify_chain(county).ok and verify_chain(a).ok and b_done


def _data(ctx: AppContext, subject_id: str) -> SubjectData:
    row = get_subject(ctx, subject_id)
    return SubjectData(name=row.name, category=row.category, legal_rep=row.legal_rep, address=row.address,
                       phone=row.phone, grid=row.grid, credit_code=row.credit_code)


def test_a_station_cannot_claim_another_stations_device(county, stations, tmp_path):
    a, b = stations
    a1 = _laptop(a, tmp_path, "a1")
    try:
        exchange(a1, a, tmp_path)
        add_subject(a1, SubjectData(name="城关现场登记的店", **SHOP))
        exchange(a1, a, tmp_path)
        exchange(a, county, tmp_path)
        add_subject(b, SubjectData(name="西园所登记的店", **SHOP))
        folder = tmp_path / "claim"
        [pkg] = sync.export_packages(b, folder, peer=upstream(b)[0])
        rows = records_in([pkg])["subjects"]
        assert len(rows) == 1
        claimed = [{**rows[0], "device_id": a1.device_id}]  # "made on A's laptop"
        with pytest.raises(InvalidInput, match=f"属于“{A}”"):
            sync.import_package(county, forged(pkg, _up_key(b), folder / "claim.zip", records={"subjects": claimed}))
        mine = [{**rows[0], "device_id": county.device_id}]  # "made at the county"
        with pytest.raises(InvalidInput, match="本级设备"):
            sync.import_package(county, forged(pkg, _up_key(b), folder / "mine.zip", records={"subjects": mine}))
        with county.sessions() as s:
            filed = dict(s.execute(select(StationDevice.device_id, StationDevice.station)).all())
        assert filed == {a.device_id: A, a1.device_id: A} and count(county, Subject) == 1
        sync.import_package(county, pkg)
        assert count(county, Subject) == 2 and count(county, StationDevice, station=B) == 1
    finally:
        a1.close()


def test_a_station_moves_to_another_county_only_with_consent(county, stations, tmp_path):
    a, _b = stations
    other = _named(AppContext.open(tmp_path / "other.db"), "遂平县市场监督管理局")
    try:
        offer = sync.add_device(other, A, kind="station")
        with pytest.raises(InvalidInput, match=f"已登记到上级“{COUNTY}”.*解除登记文件"):
            sync.join(a, offer)
        assert upstream(a)[1] == COUNTY
        # a release the other county signed is no consent of the first one
        other_release = sync.release_member(other, sync.list_devices(other)[0].id, tmp_path / "wrong.json")
        with pytest.raises(InvalidInput, match="解除登记文件无效"):
            sync.join(a, offer, (tmp_path / "wrong.json").read_bytes())
        assert other_release["hub_name"] == "遂平县市场监督管理局"
        member = next(d for d in sync.list_devices(county) if d.name == A)
        sync.release_member(county, member.id, tmp_path / "release.json")
        assert next(d for d in sync.list_devices(county) if d.name == A).revoked  # refused there from now on
        offer = sync.add_device(other, f"{A}（改登记）", kind="station")
        assert sync.join(a, offer, (tmp_path / "release.json").read_bytes()) == "station"
        assert upstream(a) == (other.device_id, "遂平县市场监督管理局")
        add_subject(a, SubjectData(name="城关所登记的店", **SHOP))
        exchange(a, other, tmp_path)
        assert count(other, Subject) == 1 and count(other, StationDevice, station=f"{A}（改登记）") == 1
    finally:
        other.close()


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    from tests.integration.test_hub import PY, ROOT

    return subprocess.run([PY, str(ROOT / "main.py"), *args], input=stdin, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def test_a_station_enrols_and_syncs_with_its_county_hub_from_the_cli(tmp_path):
    """``devices add --station`` at the county, the same ``devices enrol`` at the station, then
    ``sync push``/``pull`` to the county's hub (loopback), as the README shows."""
    from tests.integration.test_hub import HubProcess, Station

    county = Station(str(tmp_path / "county.db"), tmp_path / "county-hub")
    _named(county.ctx, COUNTY)
    station_db = tmp_path / "station.db"
    station = _named(AppContext.open(station_db), A)
    add_subject(station, SubjectData(name="城关所登记的店", **SHOP))
    station.close()
    county.ctx.close()
    made = _cli("devices", "add", "--db", county.db, "--name", A, "--station", "--out", str(tmp_path / "up.json"))
    assert made.returncode == 0, made.stderr
    code = made.stdout.split("一次性登记码：")[1][:14]
    joined = _cli("devices", "enrol", "--db", str(station_db), str(tmp_path / "up.json"), "--code-stdin", stdin=code)
    assert joined.returncode == 0 and "下级所" in joined.stdout, joined.stderr
    county.ctx = AppContext.open(county.db)
    hub = HubProcess(county)
    try:
        pushed = _cli("sync", "push", "--db", str(station_db), "--url", hub.url, "--json")
        assert pushed.returncode == 0, pushed.stderr
        assert json.loads(pushed.stdout)["packages"] == 1 and json.loads(pushed.stdout)["applied"] >= 1
        pulled = _cli("sync", "pull", "--db", str(station_db), "--url", hub.url, "--json")
        assert pulled.returncode == 0 and json.loads(pulled.stdout)["conflicts"] == 0, pulled.stderr
    finally:
        hub.stop()
    assert count(county.ctx, Subject) == 1 and count(county.ctx, StationDevice, station=A) == 1
    # a second county refuses nobody, but the station refuses it without the first county's consent
    other = AppContext.open(tmp_path / "other.db")
    code = sync.add_device(other, A, tmp_path / "o.json", kind="station")["enrolment_code"]
    other.close()
    refused = _cli("devices", "enrol", "--db", str(station_db), str(tmp_path / "o.json"), "--code-stdin", stdin=code)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "解除登记文件" in refused.stderr
    county.ctx.close()
    released = _cli("devices", "release", "--db", county.db, "--name", A, "--out", str(tmp_path / "r.json"))
    assert released.returncode == 0 and "已解除" in released.stdout, released.stderr
    station = AppContext.open(station_db)
    try:
        assert sync.join(station, open_enrolment((tmp_path / "o.json").read_bytes(), code),
                         (tmp_path / "r.json").read_bytes()) == "station"
    finally:
        station.close()


def test_a_station_file_is_no_laptop_file_and_a_laptop_no_station(county, tmp_path):
    offer = sync.add_device(county, A, kind="station")
    laptop = AppContext.open(tmp_path / "laptop.db")
    try:
        with pytest.raises(InvalidInput, match="下级所的登记文件"):
            sync.enrol_device(laptop, offer)  # the laptop's own way in (the GUI's 从文件加入所里)
        assert sync.join(laptop, sync.add_device(county, "笔记本1")) == "laptop"
        with pytest.raises(InvalidInput, match="笔记本，不能作为下级所"):
            sync.join(laptop, offer)
        with pytest.raises(InvalidInput, match="不能登记到自己"):
            sync.join(county, sync.add_device(county, "自己", kind="station"))
        assert upstream(laptop) is None and upstream(county) is None
    finally:
        laptop.close()
