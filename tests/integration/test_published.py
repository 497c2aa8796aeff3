"""Checklists and rules published by a level for the levels below (docs/levels.md "What goes down").

A county publishes a provincial revision of the cosmetics checklist and new grade rules; they go down
to its station and on to the station's laptop, whose new inspection uses the published version. A
published row never goes up. The county runs on SQLite and on a real PostgreSQL (``county``).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import inspections as svc
from core import published
from core.checklists import checklists_dir
from core.errors import InvalidInput, RecordLocked
from core.rules import rules_dir
from core.subjects import SubjectData, add_subject
from core.users import PermissionDenied, UserRow
from db.models import Inspection, PublishedResource
from tests.conftest import OFFICERS_DATA
from tests.integration.test_levels import A, SHOP, _laptop, _station, county, exchange, records_in  # noqa: F401

TITLE = "化妆品经营者“5+3+1”检查表（省局修订）"


def revision(folder: Path, name: str = "cosmetics-531", version: int = 4, **changes) -> Path:
    """A new version of a shipped file, written as ``<name>.v<version>.json`` in ``folder``."""
    folder_of = rules_dir() if name in published.RULE_SCHEMAS else checklists_dir()
    source = max(folder_of.glob(f"{name}.v*.json"), key=lambda p: int(p.stem.rsplit(".v", 1)[1]))
    data = {**json.loads(source.read_text(encoding="utf-8")), "version": version, **changes}
    path = folder / f"{name}.v{version}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def count(ctx) -> int:
    with ctx.sessions() as s:
        return s.scalar(select(func.count()).select_from(PublishedResource))


def test_published_checklist_goes_down_to_the_laptop_and_never_up(county, tmp_path):
    station = _station(county, tmp_path, A, OFFICERS_DATA)
    laptop = _laptop(station, tmp_path, "a1")
    try:
        shipped_grades = published.rules(county)[1]
        published.publish(county, revision(tmp_path, title=TITLE))
        published.publish(county, revision(tmp_path, "grades", shipped_grades.version + 1,
                                           description="省局修订的风险分级"))
        assert published.templates(county)["cosmetics-531"].version == 4
        assert published.rules(county)[1].version == shipped_grades.version + 1

        _summary, down = exchange(county, station, tmp_path)
        assert len(records_in(down)["published_resources"]) == 2
        exchange(station, laptop, tmp_path)
        assert count(station) == count(laptop) == 2
        template = published.templates(laptop)["cosmetics-531"]
        assert (template.version, template.title) == (4, TITLE)
        assert published.rules(laptop)[1].version == shipped_grades.version + 1
        assert [r.state for r in published.list_published(laptop)] == ["current", "current"]

        shop = add_subject(laptop, SubjectData(name="城关现场登记的店", **SHOP))
        officers = [svc.OfficerData(n, c) for n, c in OFFICERS_DATA]
        inspection_id = svc.start_inspection(laptop, shop.id, "cosmetics-531", officers)
        with laptop.sessions() as s:
            assert s.get(Inspection, inspection_id).template_version == 4

        # up: the laptop's package and the station's carry the inspection, no published row — not
        # even one the station published itself for its laptops (the county would refuse it)
        published.publish(station, revision(tmp_path, "device-operator", 5, title="医疗器械经营者检查表（所内修订）"))
        _summary, up = exchange(laptop, station, tmp_path)
        assert "inspections" in records_in(up) and "published_resources" not in records_in(up)
        _summary, up = exchange(station, county, tmp_path)
        assert "inspections" in records_in(up) and "published_resources" not in records_in(up)
        assert count(county) == 2 and count(station) == 3
        _summary, down = exchange(station, laptop, tmp_path)
        assert [r["name"] for r in records_in(down)["published_resources"]] == ["device-operator"]
        assert published.templates(laptop)["device-operator"].version == 5
    finally:
        laptop.close()
        station.close()


def test_publish_refuses_bad_files_laptops_and_inspectors(ctx, tmp_path):
    with pytest.raises(InvalidInput, match="现行已是第 3 版"):
        published.publish(ctx, revision(tmp_path, version=3, title=TITLE))  # the shipped version, other content
    bad = revision(tmp_path, version=5, sections=[])
    with pytest.raises(InvalidInput, match="格式错误"):
        published.publish(ctx, bad)
    misnamed = tmp_path / "cosmetics-531.v9.json"
    misnamed.write_text(revision(tmp_path, version=6).read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(InvalidInput, match="应为 cosmetics-531.v6.json"):
        published.publish(ctx, misnamed)
    with pytest.raises(InvalidInput, match="文件名"):
        published.publish(ctx, tmp_path / "../../etc.json")
    inspector = UserRow("u1", "王建国", "inspector", "41170021001", "", True)
    ctx.user = inspector
    with pytest.raises(PermissionDenied):
        published.publish(ctx, revision(tmp_path, version=7))
    ctx.user = None
    ctx._write_settings({"sync.role": "device"})
    with pytest.raises(InvalidInput, match="笔记本"):
        published.publish(ctx, revision(tmp_path, version=7))
    assert count(ctx) == 0


def test_published_rows_are_never_changed(ctx, tmp_path):
    published.publish(ctx, revision(tmp_path, title=TITLE))
    with pytest.raises(InvalidInput, match="现行已是第 4 版"):
        published.publish(ctx, revision(tmp_path, title="再改一次"))
    with pytest.raises(RecordLocked):
        with ctx.transaction() as s:
            s.scalar(select(PublishedResource)).body = "{}"
    with pytest.raises(RecordLocked):
        with ctx.transaction() as s:
            s.delete(s.scalar(select(PublishedResource)))
    assert count(ctx) == 1 and published.templates(ctx)["cosmetics-531"].title == TITLE


def test_same_version_other_content_is_ignored_with_a_warning(ctx, tmp_path, caplog):
    """A row for a shipped (name, version) with other content: the shipped file wins (logged)."""
    body = json.loads(revision(tmp_path, version=3, title=TITLE).read_text(encoding="utf-8"))
    resource = published.parse_resource("checklist", json.dumps(body, ensure_ascii=False), "test")
    with ctx.transaction() as s:
        s.add(PublishedResource(device_id=ctx.device_id, kind="checklist", name="cosmetics-531", resource_version=3,
                                body=resource.body, sha256=resource.sha256, published_at=ctx.clock(),
                                published_by="上级"))
    with caplog.at_level(logging.WARNING, logger="core.published"):
        template = published.templates(ctx)["cosmetics-531"]
    assert (template.version, template.title) != (3, TITLE) and template.version == 3
    assert [r.state for r in published.list_published(ctx)] == ["ignored"]
    assert "cosmetics-531 v3" in caplog.text and "shipped" in caplog.text


def test_cli_rules_publish_and_list(tmp_path):
    from core.context import AppContext
    from tests.integration.test_cli import run

    db = tmp_path / "county.db"
    AppContext.open(db).close()
    good = revision(tmp_path, title=TITLE)
    result = run("rules", "publish", "--db", str(db), "--file", str(good))
    assert result.returncode == 0 and "已发布：检查表 cosmetics-531 第 4 版" in result.stdout, result.stderr
    for bad, message in ((good, "现行已是第 4 版"), (revision(tmp_path, version=5, sections=[]), "格式错误"),
                         (tmp_path / "notes.json", "文件名")):
        refused = run("rules", "publish", "--db", str(db), "--file", str(bad))
        assert refused.returncode == 2 and refused.stderr.startswith("错误：") and message in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    listed = run("rules", "list", "--db", str(db), "--json")
    assert listed.returncode == 0, listed.stderr
    assert [(r["name"], r["version"], r["state"]) for r in json.loads(listed.stdout)] == [("cosmetics-531", 4, "current")]
    laptop = AppContext.open(db)
    laptop._write_settings({"sync.role": "device"})
    laptop.close()
    refused = run("rules", "publish", "--db", str(db), "--file", str(revision(tmp_path, version=6)))
    assert refused.returncode == 2 and "笔记本" in refused.stderr


def test_published_trigger_rules_need_the_checklists_they_name(ctx, tmp_path, caplog):
    """Trigger rules mapping a category to a checklist that is in force nowhere here are refused when
    published, and passed over (logged) when such a row arrives: a task they made could not start."""
    shipped = published.rules(ctx)[0]
    mapped = {**shipped.checklists, "cosmetics_operator": "cosmetics-province"}
    with pytest.raises(InvalidInput, match="cosmetics-province"):
        published.publish(ctx, revision(tmp_path, "triggers", shipped.version + 1, checklists=mapped))
    province = json.loads((checklists_dir() / "cosmetics-531.v3.json").read_text(encoding="utf-8"))
    (tmp_path / "cosmetics-province.v1.json").write_text(json.dumps(
        {**province, "code": "cosmetics-province", "version": 1, "title": TITLE}, ensure_ascii=False), encoding="utf-8")
    published.publish(ctx, tmp_path / "cosmetics-province.v1.json")
    published.publish(ctx, revision(tmp_path, "triggers", shipped.version + 1, checklists=mapped))
    rules = published.rules(ctx)[0]
    assert rules.version == shipped.version + 1 and rules.checklist_for("cosmetics_operator") == "cosmetics-province"

    orphan = published.parse_resource("triggers", json.dumps({**json.loads(revision(
        tmp_path, "triggers", shipped.version + 2).read_text(encoding="utf-8")), "checklists": {
        **mapped, "default": "nowhere"}}), "test")
    with ctx.transaction() as s:  # as if it had arrived from above
        s.add(PublishedResource(device_id=ctx.device_id, kind="triggers", name="triggers",
                                resource_version=orphan.version, body=orphan.body, sha256=orphan.sha256,
                                published_at=ctx.clock(), published_by="上级"))
    with caplog.at_level(logging.WARNING, logger="core.published"):
        assert published.rules(ctx)[0].version == shipped.version + 1
    assert f"triggers v{shipped.version + 2} passed over" in caplog.text and "nowhere" in caplog.text
    assert [(r.name, r.version, r.state) for r in published.list_published(ctx)] == [
        ("cosmetics-province", 1, "current"), ("triggers", shipped.version + 1, "current"),
        ("triggers", shipped.version + 2, "pending")]  # passed over: listed as not in force
