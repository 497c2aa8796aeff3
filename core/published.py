"""Checklists and rules a hub publishes for the levels below (docs/levels.md "What goes down").

The program ships its checklists (``resources/checklists``), trigger rules, grade tables and
register synonyms (``resources/rules``), versioned. A station, county or city may publish a newer
version — a provincial checklist revision, new trigger rules — as a row of ``published_resources``:
the file's JSON (canonical text), its SHA-256, the kind, the name (a checklist's code; the kind
itself for the others) and the version read from it. The rows are synced down like the level's
other records and never change once written (a new version is a new row).

The loaders here give the shipped files PLUS the published rows of this database, choosing the
current version as the shipped loaders do (the newest version wins). A published row whose
(name, version) is already shipped, or published before, with other content is ignored with a
logged warning: the shipped file (or the first one published) wins. Every body is checked with the
same JSON schema (and the same extra checks) as a shipped file, when published, when it arrives in
a package (``check_incoming``) and when it is loaded. The result is cached per database until a
row is added (rows are never changed nor deleted).
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
from contextlib import nullcontext
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from core.checklists import ChecklistTemplate, checklists_dir, load_templates, parse_template
from core.errors import InvalidInput
from core.rules import (
    GradeTable, TriggerRules, checked, default_rules, grade_table_from, rules_dir, trigger_rules_from,
)
from core.users import require
from db.models import PublishedResource

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.context import AppContext

log = logging.getLogger(__name__)

KIND_LABELS = {"checklist": "检查表", "triggers": "触发规则", "grades": "风险分级表", "register-synonyms": "名册导入同义词"}
RULE_SCHEMAS = {"triggers": "schema.triggers.json", "grades": "schema.grades.json",
                "register-synonyms": "schema.register-synonyms.json"}
MAX_BODY = 2_000_000  # characters of a body (the shipped files: 1–13 kB)
NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*\Z")
NAME_MAX = 64
FILE_NAME = re.compile(r"([a-z0-9]+(?:-[a-z0-9]+)*)\.v([1-9][0-9]{0,8})\.json\Z")
VERSION_MAX = 1_000_000


@dataclass(frozen=True)
class Resource:
    """A checked checklist or rules file: what a row of ``published_resources`` holds."""

    kind: str
    name: str
    version: int
    data: dict
    body: str       # canonical JSON (sorted keys, no spaces): the text the SHA-256 is of
    sha256: str


@dataclass(frozen=True)
class PublishedRow:
    kind: str
    name: str
    version: int
    sha256: str
    published_at: str
    published_by: str
    state: str      # "current", "superseded", "ignored" (clashes with a shipped or earlier version), "pending"
    #                 (trigger rules naming a checklist not in force here: they apply once it is)
    title: str = ""  # a checklist's title, a rules file's description ("" when the row is ignored as invalid)


def canonical(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _refuse_constant(name: str):
    raise ValueError(f"非有限数值 {name}")


def parse_resource(kind: Any, body: Any, source: str) -> Resource:
    """``body`` (JSON text) as a resource of ``kind``, checked as a shipped file is; InvalidInput otherwise."""
    if kind not in KIND_LABELS:
        raise InvalidInput(f"{source}：未知的发布类型（可用：{'、'.join(KIND_LABELS)}）")
    if type(body) is not str or len(body) > MAX_BODY:
        raise InvalidInput(f"{source}：内容应为不超过 {MAX_BODY:,} 个字符的 JSON 文本")
    try:
        data = json.loads(body, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise InvalidInput(f"{source}：不是有效的 JSON（{exc}）") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{source}：内容应为 JSON 对象")
    if kind == "checklist":
        template = parse_template(data, source=source)
        name, version = template.code, template.version
    else:
        checked(data, RULE_SCHEMAS[kind], source)
        if kind == "triggers":
            trigger_rules_from(data, source)
        elif kind == "grades":
            grade_table_from(data, source)
        name, version = kind, data["version"]
    if len(name) > NAME_MAX or NAME.match(name) is None:
        raise InvalidInput(f"{source}：名称应为小写字母、数字和连字符（至多 {NAME_MAX} 个字符）")
    if type(version) is not int or not 1 <= version <= VERSION_MAX:
        raise InvalidInput(f"{source}：版本号应在 1 至 {VERSION_MAX:,} 之间")
    text = canonical(data)
    return Resource(kind, name, version, data, text, hashlib.sha256(text.encode("utf-8")).hexdigest())


def read_resource_file(path: Path) -> Resource:
    """A checklist or rules file to publish, named as the shipped ones are: ``<code>.v<N>.json`` for a
    checklist, ``triggers.v<N>.json``, ``grades.v<N>.json``, ``register-synonyms.v<N>.json``."""
    path = Path(path)
    found = FILE_NAME.match(path.name)
    if found is None:
        raise InvalidInput(f"文件名 {path.name[:80]} 不符合格式：检查表为 <编码>.v<版本>.json，规则为 triggers.v<版本>.json、"
                           "grades.v<版本>.json 或 register-synonyms.v<版本>.json")
    kind = found.group(1) if found.group(1) in RULE_SCHEMAS else "checklist"
    try:
        if path.stat().st_size > MAX_BODY * 4:
            raise InvalidInput(f"文件 {path.name} 过大（上限 {MAX_BODY * 4 // 1_000_000} MB）")
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"无法读取文件 {path.name}：{exc}") from None
    resource = parse_resource(kind, text, path.name)
    expected = f"{resource.name}.v{resource.version}.json"
    if path.name != expected:
        raise InvalidInput(f"文件名 {path.name} 与内容不符，应为 {expected}")
    return resource


@lru_cache(maxsize=1)
def shipped() -> dict[tuple[str, str, int], str]:
    """(kind, name, version) → canonical JSON of every file shipped with the program."""
    found: dict[tuple[str, str, int], str] = {}
    for folder, kinds in ((checklists_dir(), None), (rules_dir(), RULE_SCHEMAS)):
        for path in sorted(folder.glob("*.v*.json")):
            match = FILE_NAME.match(path.name)
            if match is None or (kinds is not None and match.group(1) not in kinds):
                continue
            kind = "checklist" if kinds is None else match.group(1)
            found[(kind, match.group(1), int(match.group(2)))] = canonical(json.loads(path.read_text(encoding="utf-8")))
    return found


# --- publishing --------------------------------------------------------------------------------

def publish(ctx: AppContext, path: Path) -> Resource:
    """Publish the file at ``path`` for the levels below; refused on a laptop, for a version not above
    the current one, or a file that fails its schema. Admin or system ("manage_resources")."""
    require(ctx, "manage_resources")
    if ctx.setting_or("sync.role", "") == "device":
        raise InvalidInput("本机是已登记到所里的笔记本，不能发布检查表或规则：只有所、县局、市局可以发布")
    resource = read_resource_file(path)
    label = f"{KIND_LABELS[resource.kind]}“{resource.name}”"
    newest = max((v for (k, n, v) in _versions(ctx) if (k, n) == (resource.kind, resource.name)), default=0)
    if resource.version <= newest:
        raise InvalidInput(f"{label}第 {resource.version} 版不能发布：现行已是第 {newest} 版，"
                           f"新发布的版本号须大于 {newest}")
    if resource.kind == "triggers":
        missing = _unknown_checklists(trigger_rules_from(resource.data, path.name), templates(ctx))
        if missing:
            raise InvalidInput(f"{label}第 {resource.version} 版引用了本库没有的检查表：{'、'.join(missing)}；"
                               "请先发布这些检查表")
    with ctx.transaction() as s:
        s.add(PublishedResource(
            device_id=ctx.device_id, kind=resource.kind, name=resource.name, resource_version=resource.version,
            body=resource.body, sha256=resource.sha256, published_at=ctx.clock(),
            published_by=ctx.user.name if ctx.user is not None else "系统"))
    return resource


def _versions(ctx: AppContext) -> set[tuple[str, str, int]]:
    """Every (kind, name, version) shipped or published here (whatever its state)."""
    with ctx.sessions() as s:
        rows = set(s.execute(select(PublishedResource.kind, PublishedResource.name,
                                    PublishedResource.resource_version)).tuples())
    return set(shipped()) | rows


# --- what is in force here --------------------------------------------------------------------

@dataclass(frozen=True)
class _Overlay:
    usable: dict[tuple[str, str, int], Resource]       # published, valid, not clashing
    rows: tuple[PublishedRow, ...]


def _overlay(ctx: AppContext, session: Session | None = None) -> _Overlay:
    """The published rows of this database, checked once per database until one is added.

    ``session``: the caller's, when it is inside a transaction (read in it, not beside it)."""
    with (nullcontext(session) if session is not None else ctx.sessions()) as s:
        stamp = s.scalar(select(func.count()).select_from(PublishedResource))
        cache = ctx.__dict__.setdefault("_published_cache", {})
        if cache.get("stamp") == stamp:
            return cache["overlay"]
        records = list(s.scalars(select(PublishedResource).order_by(
            PublishedResource.published_at, PublishedResource.id)))
        usable: dict[tuple[str, str, int], Resource] = {}
        states: list[tuple[PublishedResource, str, str]] = []
        ships = shipped()
        for row in records:
            key = (row.kind, row.name, row.resource_version)
            try:
                resource = parse_resource(row.kind, row.body, f"发布的{KIND_LABELS.get(row.kind, row.kind)} {row.name}")
                if (resource.name, resource.version, resource.sha256) != (row.name, row.resource_version, row.sha256):
                    raise InvalidInput("名称、版本或 SHA-256 与内容不符")
            except InvalidInput as exc:
                log.warning("published %s %s v%s (%s) ignored: %s", row.kind, row.name, row.resource_version, row.id,
                            exc.message)
                states.append((row, "ignored", ""))
                continue
            title = " ".join(str(resource.data.get("title" if row.kind == "checklist" else "description", "")).split())
            first = ships.get(key) or (usable[key].body if key in usable else None)
            if first is not None:
                if first != resource.body:
                    log.warning("published %s %s v%s (%s) ignored: that version is %s with other content",
                                row.kind, row.name, row.resource_version, row.id,
                                "shipped" if key in ships else "published already")
                states.append((row, "ignored", title))
                continue
            usable[key] = resource
            states.append((row, "ok", title))
        newest: dict[tuple[str, str], int] = {}
        for kind, name, version in (*ships, *usable):
            newest[(kind, name)] = max(version, newest.get((kind, name), 0))
        rows = tuple(PublishedRow(
            r.kind, r.name, r.resource_version, r.sha256, r.published_at.isoformat(sep=" "), r.published_by,
            state if state == "ignored" else (
                "current" if newest[(r.kind, r.name)] == r.resource_version else "superseded"), title)
            for r, state, title in states)
        overlay = _Overlay(usable, rows)
        cache.update(stamp=stamp, overlay=overlay, derived={})
        return overlay


def _derived(ctx: AppContext, key: str, build, session: Session | None = None):
    overlay = _overlay(ctx, session)
    derived = ctx.__dict__["_published_cache"]["derived"]
    if key not in derived:
        derived[key] = build(overlay)
    return derived[key]


def list_published(ctx: AppContext) -> list[PublishedRow]:
    """The rows published here or received from above, oldest first, with their state.

    Trigger rules are "current" when ``rules(ctx)`` uses them; a newer version passed over there (it
    names a checklist not in force here) is "pending", and the older one in force stays "current"."""
    in_force = rules(ctx)[0].version

    def state(row: PublishedRow) -> str:
        if row.kind != "triggers" or row.state == "ignored":
            return row.state
        return "current" if row.version == in_force else "pending" if row.version > in_force else "superseded"
    return [replace(row, state=state(row)) for row in _overlay(ctx).rows]


def templates(ctx: AppContext, session: Session | None = None) -> dict[str, ChecklistTemplate]:
    """``load_templates()`` with the checklists published here: the newest version of each code."""
    def build(overlay: _Overlay) -> dict[str, ChecklistTemplate]:
        newest = dict(load_templates())
        for (kind, name, version), resource in sorted(overlay.usable.items()):
            if kind == "checklist" and (name not in newest or version > newest[name].version):
                newest[name] = parse_template(resource.data, source=f"{name}.v{version}")
        return newest
    return dict(_derived(ctx, "templates", build, session))


def _newest_published(overlay: _Overlay, kind: str, above: int) -> Resource | None:
    best = None
    for (k, _name, version), resource in overlay.usable.items():
        if k == kind and version > above and (best is None or version > best.version):
            best = resource
    return best


def _unknown_checklists(triggers: TriggerRules, known: dict[str, ChecklistTemplate]) -> list[str]:
    """The checklist codes ``triggers`` names (per category, per rule) that are not in ``known``."""
    codes = {*triggers.checklists.values(), *(r.checklist for r in triggers.rules if r.checklist)}
    return sorted(codes - set(known))


def rules(ctx: AppContext, session: Session | None = None) -> tuple[TriggerRules, GradeTable]:
    """``default_rules()`` with the trigger rules and grade table published here, the newest version of each.

    Published trigger rules naming a checklist that is in force nowhere here are passed over (logged):
    a task they made could never be started."""
    def build(overlay: _Overlay) -> tuple[TriggerRules, GradeTable]:
        triggers, grades = default_rules()
        known = templates(ctx, session)
        candidates = sorted((r for (k, _n, v), r in overlay.usable.items() if k == "triggers" and v > triggers.version),
                            key=lambda r: r.version, reverse=True)
        for found in candidates:
            newer = trigger_rules_from(found.data, f"triggers.v{found.version}")
            missing = _unknown_checklists(newer, known)
            if not missing:
                triggers = newer
                break
            log.warning("published triggers v%s passed over: no checklist %s here", found.version, ", ".join(missing))
        found = _newest_published(overlay, "grades", grades.version)
        if found is not None:
            grades = grade_table_from(found.data, f"grades.v{found.version}")
        return triggers, grades
    return _derived(ctx, "rules", build, session)


def newest_synonyms(ctx: AppContext, shipped_version: int) -> tuple[int, dict] | None:
    """The register synonyms published here when newer than the shipped ``shipped_version``: (version, data)."""
    found = _newest_published(_overlay(ctx), "register-synonyms", shipped_version)
    return None if found is None else (found.version, found.data)


# --- rows that arrive in a package ----------------------------------------------------------------

def check_incoming(record: dict) -> str | None:
    """What is wrong with one incoming ``published_resources`` row (its columns already type-checked),
    or None: the body must be a valid file of its kind whose name, version and SHA-256 are the row's."""
    try:
        resource = parse_resource(record["kind"], record["body"], "内容")
    except InvalidInput as exc:
        return exc.message
    if record["sha256"] != hashlib.sha256(record["body"].encode("utf-8")).hexdigest():
        return "内容的 SHA-256 与 sha256 字段不符"
    if (record["name"], record["resource_version"]) != (resource.name, resource.version):
        return f"名称或版本与内容不符（内容为 {resource.name} 第 {resource.version} 版）"
    if record["body"] != resource.body:
        return "内容不是规范格式的 JSON"
    if record["version"] != 1:
        return "发布的内容不能修改（记录版本应为 1）"
    return None
