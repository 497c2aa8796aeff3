"""Checklist templates as versioned data (``resources/checklists/``).

A template file is ``{code}.v{version}.json`` validated by ``schema.json`` plus a few
checks a schema cannot express. Inspections keep a snapshot of the template they
were recorded against (``ChecklistTemplate.to_json``), so old records read as recorded.
See docs/checklist-format.md.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core import schema_errors
from core.errors import InvalidInput
from core.paths import resources_dir

RESULTS = ("pass", "fail", "na")
RESULT_LABELS = {"pass": "符合", "fail": "不符合", "na": "不适用", None: "未检查"}


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    text: str
    basis: str
    fail_text: str
    remedy: str
    # a local working requirement: failures are advised on, never ordered (责令改正) or penalised
    advisory: bool = False
    # format 2: ``basis`` is the duty provision breached; the penalty provision is kept apart
    penalty_basis: str = ""
    penalty_likely: bool = False        # a failure usually carries a fine: 另行依法处理
    cases: tuple[str, ...] = ()         # the alternatives of an either-or fail_text
    product: bool = False               # the finding names product, specification, batch, quantity
    order_authority: str = ""           # overrides the template's order_authority


@dataclass(frozen=True)
class ChecklistSection:
    code: str
    title: str
    basis: str
    group: str
    items: tuple[ChecklistItem, ...]


@dataclass(frozen=True)
class ChecklistTemplate:
    code: str
    version: int
    title: str
    short_title: str
    description: str
    subject_categories: tuple[str, ...]
    sections: tuple[ChecklistSection, ...]
    notes: tuple[str, ...]
    raw: dict
    order_authority: str = ""  # format 2: the provision that authorises an order at inspection

    def authority_of(self, item: ChecklistItem) -> str:
        return item.order_authority or self.order_authority

    @property
    def items(self) -> list[ChecklistItem]:
        return [item for section in self.sections for item in section.items]

    def item(self, code: str) -> ChecklistItem:
        for item in self.items:
            if item.code == code:
                return item
        raise InvalidInput(f"检查表“{self.title}”中没有检查项 {code}")

    def section_of(self, item_code: str) -> ChecklistSection:
        for section in self.sections:
            if any(i.code == item_code for i in section.items):
                return section
        raise InvalidInput(f"检查表“{self.title}”中没有检查项 {item_code}")

    def to_json(self) -> str:
        return json.dumps(self.raw, ensure_ascii=False, sort_keys=True)


def checklists_dir() -> Path:
    return resources_dir() / "checklists"


@lru_cache(maxsize=1)
def _schema_validator():
    from jsonschema import Draft202012Validator

    schema = json.loads((checklists_dir() / "schema.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def parse_template(data: dict, *, source: str = "template") -> ChecklistTemplate:
    """Validate a template dict and build the template; raise InvalidInput on any error."""
    errors = sorted(_schema_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise InvalidInput(f"检查表模板 {source} 格式错误：{schema_errors.describe(errors[0])}")
    section_codes: set[str] = set()
    item_codes: set[str] = set()
    for section in data["sections"]:
        if section["code"] in section_codes:
            raise InvalidInput(f"检查表模板 {source} 格式错误：章节编号 {section['code']} 重复")
        section_codes.add(section["code"])
        for item in section["items"]:
            code = item["code"]
            if code in item_codes:
                raise InvalidInput(f"检查表模板 {source} 格式错误：检查项编号 {code} 重复")
            if not code.startswith(section["code"]):
                raise InvalidInput(
                    f"检查表模板 {source} 格式错误：检查项 {code} 不以章节编号 {section['code']} 开头"
                )
            item_codes.add(code)
    return ChecklistTemplate(
        code=data["code"],
        version=data["version"],
        title=data["title"],
        short_title=data["short_title"],
        description=data["description"],
        subject_categories=tuple(data["subject_categories"]),
        sections=tuple(
            ChecklistSection(
                code=s["code"],
                title=s["title"],
                basis=s["basis"],
                group=s.get("group", ""),
                items=tuple(
                    ChecklistItem(
                        i["code"], i["text"], i["basis"], i["fail_text"], i["remedy"], i.get("advisory", False),
                        penalty_basis=i.get("penalty_basis", ""), penalty_likely=i.get("penalty_likely", False),
                        cases=tuple(i.get("cases", ())), product=i.get("product", False),
                        order_authority=i.get("order_authority", ""),
                    )
                    for i in s["items"]
                ),
            )
            for s in data["sections"]
        ),
        notes=tuple(data.get("notes", ())),
        raw=data,
        order_authority=data.get("order_authority", ""),
    )


def load_template_file(path: Path) -> ChecklistTemplate:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"无法读取检查表模板 {path.name}：{exc}") from exc
    template = parse_template(data, source=path.name)
    expected = f"{template.code}.v{template.version}.json"
    if path.name != expected:
        raise InvalidInput(f"检查表模板文件名 {path.name} 与内容不符，应为 {expected}")
    return template


@lru_cache(maxsize=64)
def template_from_snapshot(text: str) -> ChecklistTemplate:
    """Rebuild the template an inspection stored (no file involved).

    Cached: the same few snapshots are read on every autosave, and validating one costs
    milliseconds. The template is immutable, so sharing it is safe.
    """
    return parse_template(json.loads(text), source="snapshot")


def load_templates(directory: Path | None = None) -> dict[str, ChecklistTemplate]:
    """The newest version of every template in the folder, by code.

    Cached per folder until a file in it changes (name, size or modification time).
    """
    directory = directory or checklists_dir()
    stamp = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(directory.glob("*.json")))
    return dict(_load_templates(directory, stamp))


@lru_cache(maxsize=8)
def _load_templates(directory: Path, _stamp: tuple) -> dict[str, ChecklistTemplate]:
    newest: dict[str, ChecklistTemplate] = {}
    for path in sorted(directory.glob("*.v*.json")):
        template = load_template_file(path)
        current = newest.get(template.code)
        if current is None or template.version > current.version:
            newest[template.code] = template
    return newest
