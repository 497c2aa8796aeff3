"""Risk grades and trigger rules as versioned data in ``resources/rules/``.

Both files are schema-validated when loaded (at start-up and by every command that
uses them); an invalid file gives one clear error naming the file and the place.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core import schema_errors
from core.errors import InvalidInput
from core.paths import resources_dir

PRIORITY_LABELS = {"high": "高", "medium": "中", "low": "低"}
PRIORITY_ORDER = {"high": 0, "medium": 1, "low": 2}
GRADE_LABELS = {3: "三级", 2: "二级", 1: "一级"}


def rules_dir() -> Path:
    return resources_dir() / "rules"


def _validated(path: Path, schema_name: str) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"无法读取规则文件 {path.name}：{exc}") from exc
    return checked(data, schema_name, path.name)


@lru_cache(maxsize=4)
def _validator(schema_name: str):
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads((rules_dir() / schema_name).read_text(encoding="utf-8")))


def checked(data: object, schema_name: str, source: str) -> dict:
    """``data`` (a rules file's JSON, shipped or published) against its schema; InvalidInput naming the place."""
    errors = sorted(_validator(schema_name).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise InvalidInput(f"规则文件 {source} 格式错误：{schema_errors.describe(errors[0])}")
    return data  # type: ignore[return-value]


def _newest(prefix: str, directory: Path) -> Path:
    files = sorted(directory.glob(f"{prefix}.v*.json"), key=lambda p: int(p.stem.rsplit(".v", 1)[1]))
    if not files:
        raise InvalidInput(f"缺少规则文件 {prefix}.v*.json（目录 {directory}）")
    return files[-1]


@dataclass(frozen=True)
class EventType:
    code: str
    label: str
    basis: str


@dataclass(frozen=True)
class Rule:
    event_type: str
    priority: str
    deadline: dict
    categories: tuple[str, ...] = ()
    grades: tuple[int, ...] = ()
    checklist: str | None = None
    grade_change: dict | None = None

    def applies(self, category: str, grade: int | None) -> bool:
        return (not self.categories or category in self.categories) and (not self.grades or grade in self.grades)


@dataclass(frozen=True)
class TriggerRules:
    version: int
    event_types: dict[str, EventType]
    rules: tuple[Rule, ...]
    checklists: dict[str, str]

    def event_type(self, code_or_label: str) -> EventType | None:
        text = code_or_label.strip()
        for event_type in self.event_types.values():
            if text in (event_type.code, event_type.label):
                return event_type
        return None

    def rule_for(self, event_type: str, category: str, grade: int | None) -> Rule:
        for rule in self.rules:
            if rule.event_type == event_type and rule.applies(category, grade):
                return rule
        raise InvalidInput(f"没有适用于事件类型“{self.event_types[event_type].label}”的规则")

    def checklist_for(self, category: str, rule: Rule | None = None) -> str:
        if rule is not None and rule.checklist:
            return rule.checklist
        return self.checklists.get(category, self.checklists["default"])


@dataclass(frozen=True)
class GradeInfo:
    grade: int
    label: str
    who: str
    baseline: dict
    baseline_text: str


@dataclass(frozen=True)
class GradeTable:
    version: int
    graded_categories: tuple[str, ...]
    default_grade: int
    grades: dict[int, GradeInfo]


def load_trigger_rules(directory: Path | None = None) -> TriggerRules:
    directory = directory or rules_dir()
    path = _newest("triggers", directory)
    return trigger_rules_from(_validated(path, "schema.triggers.json"), path.name)


def trigger_rules_from(data: dict, source: str) -> TriggerRules:
    """Trigger rules from a schema-checked file's JSON, with the checks a schema cannot make."""
    event_types = {e["code"]: EventType(e["code"], e["label"], e["basis"]) for e in data["event_types"]}
    if len(event_types) != len(data["event_types"]):
        raise InvalidInput(f"规则文件 {source} 格式错误：事件类型编码重复")
    rules = []
    for n, r in enumerate(data["rules"]):
        if r["event_type"] not in event_types:
            raise InvalidInput(f"规则文件 {source} 格式错误：rules/{n}: 未定义的事件类型“{r['event_type']}”")
        rules.append(Rule(
            event_type=r["event_type"], priority=r["priority"], deadline=r["deadline"],
            categories=tuple(r.get("categories", ())), grades=tuple(r.get("grades", ())),
            checklist=r.get("checklist"), grade_change=r.get("grade_change"),
        ))
    missing = set(event_types) - {r.event_type for r in rules}
    if missing:
        raise InvalidInput(f"规则文件 {source} 格式错误：事件类型 {'、'.join(sorted(missing))} 没有规则")
    return TriggerRules(data["version"], event_types, tuple(rules), dict(data["checklists"]))


def load_grade_table(directory: Path | None = None) -> GradeTable:
    directory = directory or rules_dir()
    path = _newest("grades", directory)
    return grade_table_from(_validated(path, "schema.grades.json"), path.name)


def grade_table_from(data: dict, source: str) -> GradeTable:
    """A grade table from a schema-checked file's JSON, with the checks a schema cannot make."""
    grades = {g["grade"]: GradeInfo(g["grade"], g["label"], g["who"], g["baseline"], g["baseline_text"])
              for g in data["grades"]}
    if set(grades) != {1, 2, 3}:
        raise InvalidInput(f"规则文件 {source} 格式错误：必须且只能定义一级、二级、三级")
    return GradeTable(data["version"], tuple(data["graded_categories"]), data["default_grade"], grades)


@lru_cache(maxsize=1)
def default_rules() -> tuple[TriggerRules, GradeTable]:
    """The shipped rules, loaded and validated once per process."""
    return load_trigger_rules(), load_grade_table()
