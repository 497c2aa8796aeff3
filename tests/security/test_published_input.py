"""Published checklists and rules are hostile until validated (docs/levels.md "What goes down").

One test per hole: a laptop's package carrying a published row (a laptop cannot publish for its
station), a member station's package carrying one up to its county, and from the level above a
tampered body (SHA-256), a body that fails its schema, a name that is a path, a name or version
that is not the body's, a change to a row already published, a tombstone for one. Each is refused
whole with nothing written; a valid row for a shipped version with other content is stored but
ignored by the loaders (the shipped file wins).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import published
from core.context import AppContext
from core.errors import InvalidInput
from core.subjects import SubjectData, add_subject
from core.sync import export_packages, import_packages
from core.sync.devices import identity_for, upstream
from db.models import PublishedResource, Subject
from tests.conftest import OFFICERS_DATA
from tests.integration.test_levels import A, COUNTY, SHOP, _laptop, _named, _peer, _station, forged, records_in
from tests.integration.test_published import TITLE, revision


def count(ctx: AppContext, model=PublishedResource) -> int:
    with ctx.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.fixture
def levels(tmp_path):
    """A county (SQLite) that published a checklist revision, its station and the station's laptop."""
    county = _named(AppContext.open(tmp_path / "county.db", attachments_dir=tmp_path / "county-att"), COUNTY)
    station = _station(county, tmp_path, A, OFFICERS_DATA)
    laptop = _laptop(station, tmp_path, "a1")
    published.publish(county, revision(tmp_path, title=TITLE))
    yield county, station, laptop
    for ctx in (laptop, station, county):
        ctx.close()


def _down(county: AppContext, station: AppContext, folder: Path) -> tuple[Path, list[dict], str]:
    """The county's package for the station, its published rows, and the county's key for it."""
    [path] = export_packages(county, folder, peer=_peer(county, station))
    return path, records_in([path])["published_resources"], identity_for(county, _peer(county, station))[2]


def _body(data: dict) -> tuple[str, str]:
    text = published.canonical(data)
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()


def _refused(ctx: AppContext, path: Path, match: str) -> None:
    before = (count(ctx), count(ctx, Subject))
    with pytest.raises(InvalidInput, match=match):
        import_packages(ctx, [path])
    assert (count(ctx), count(ctx, Subject)) == before


def test_a_laptops_package_with_a_published_row_is_refused(levels, tmp_path):
    county, station, laptop = levels
    _path, [row], _key = _down(county, station, tmp_path / "down")
    add_subject(laptop, SubjectData(name="笔记本登记的店", **SHOP))
    [up] = export_packages(laptop, tmp_path / "up")
    key = identity_for(laptop, _peer(laptop, station))[2]
    evil = forged(up, key, tmp_path / "evil.zip", records={"published_resources": [{**row, "device_id": laptop.device_id}]})
    _refused(station, evil, "只接受上级发布的")
    assert import_packages(station, [up]).applied >= 1  # the same package without it goes in


def test_a_member_stations_package_with_a_published_row_is_refused_by_its_county(levels, tmp_path):
    county, station, _laptop = levels
    _path, [row], _key = _down(county, station, tmp_path / "down")
    add_subject(station, SubjectData(name="所里登记的店", **SHOP))
    [up] = export_packages(station, tmp_path / "up", peer=upstream(station)[0])
    assert "published_resources" not in records_in([up])
    key = identity_for(station, upstream(station)[0])[2]
    claimed = {**row, "id": "0190a000-0000-7000-8000-000000000001", "device_id": station.setting("sync.up.device_id")}
    _refused(county, forged(up, key, tmp_path / "evil.zip", records={"published_resources": [claimed]}), "只接受上级发布的")


@pytest.mark.parametrize("hole, change, match", [
    ("sha256", lambda r: {**r, "body": r["body"].replace("省局修订", "私自改动")}, "SHA-256"),
    ("schema", lambda r: {**r, **dict(zip(("body", "sha256"), _body({**json.loads(r["body"]), "sections": []})))},
     "格式错误"),
    ("path name", lambda r: {**r, "name": "../../resources/checklists/cosmetics-531"}, "name"),
    ("other name", lambda r: {**r, "name": "device-operator"}, "名称或版本与内容不符"),
    ("other version", lambda r: {**r, "resource_version": 9}, "名称或版本与内容不符"),
    ("not canonical", lambda r: {**r, **dict(zip(("body", "sha256"), (
        (text := json.dumps(json.loads(r["body"]), ensure_ascii=False, indent=2)),
        hashlib.sha256(text.encode()).hexdigest())))}, "规范格式"),
    ("edited version", lambda r: {**r, "version": 2}, "不能修改"),
    ("oversized", lambda r: {**r, "body": " " * (published.MAX_BODY + 1)}, "超过"),
    ("unknown kind", lambda r: {**r, "kind": "script"}, "kind"),
])
def test_a_tampered_row_from_above_is_refused(levels, tmp_path, hole, change, match):
    county, station, _laptop = levels
    path, [row], key = _down(county, station, tmp_path / "down")
    _refused(station, forged(path, key, tmp_path / "evil.zip", records={"published_resources": [change(row)]}), match)
    assert import_packages(station, [path]).applied >= 1 and count(station) == 1  # the real one goes in


def test_a_published_row_cannot_be_changed_nor_deleted_by_a_later_package(levels, tmp_path):
    county, station, _laptop = levels
    first, [row], _key = _down(county, station, tmp_path / "d1")
    import_packages(station, [first])
    published.publish(county, revision(tmp_path, "cosmetics-531", 5))  # so the county writes a second package
    second, _rows, key = _down(county, station, tmp_path / "d2")
    body, sha = _body({**json.loads(row["body"]), "title": "私自改动的检查表"})
    _refused(station, forged(second, key, tmp_path / "edit.zip", records={"published_resources": [
        {**row, "body": body, "sha256": sha}]}), "改动了已发布的")
    tombstone = {"table": "published_resources", "id": row["id"], "version": 1, "deleted_at": "2026-01-01T00:00:00",
                 "deleted_by": "县局", "device_id": county.device_id}
    _refused(station, forged(second, key, tmp_path / "delete.zip", tombstones=[tombstone]), "不能经同步删除")
    assert published.templates(station)["cosmetics-531"].title == TITLE


def test_a_shipped_version_with_other_content_from_above_is_kept_but_ignored(levels, tmp_path):
    county, station, _laptop = levels
    path, [row], key = _down(county, station, tmp_path / "down")
    shipped = json.loads(published.shipped()[("checklist", "cosmetics-531", 3)])
    body, sha = _body({**shipped, "title": "冒充随软件发布的第3版"})
    clash = {**row, "id": "0190a000-0000-7000-8000-000000000002", "resource_version": 3, "body": body, "sha256": sha}
    import_packages(station, [forged(path, key, tmp_path / "clash.zip", records={"published_resources": [row, clash]})])
    assert sorted(r.state for r in published.list_published(station)) == ["current", "ignored"]
    templates = published.templates(station)
    assert templates["cosmetics-531"].title == TITLE  # v4, published
    assert all(t.title != "冒充随软件发布的第3版" for t in templates.values())
