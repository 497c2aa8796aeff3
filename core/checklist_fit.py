"""Which checklist fits which subject: the category map in the trigger rules and each template's categories.

The rules file (``resources/rules/triggers.v*.json``, ``checklists``) names the checklist a
category is inspected with; a template's ``subject_categories`` say which subjects it can be
used for at all. The new-inspection dialog preselects the first and warns, in Chinese, when
an inspector picks a checklist that neither names.
"""
from __future__ import annotations

from core.checklists import ChecklistTemplate, load_templates
from core.errors import InvalidInput
from core.rules import TriggerRules, default_rules
from core.subjects import CATEGORIES


def checklist_for_category(category: str, *, rules: TriggerRules | None = None) -> str:
    """The code of the checklist the station's rules give for a subject category."""
    rules = rules if rules is not None else default_rules()[0]
    return rules.checklist_for(category)


def checklist_fits(category: str, template_code: str, *, templates: dict[str, ChecklistTemplate] | None = None,
                   rules: TriggerRules | None = None) -> str:
    """"" when the checklist fits a subject of this category, else one Chinese warning line.

    A checklist fits when the rules map the category to it, or when the template lists the
    category among its ``subject_categories``.
    """
    templates = templates if templates is not None else load_templates()
    template = templates.get(template_code)
    if template is None:
        raise InvalidInput(f"没有检查表模板“{template_code}”")
    expected = checklist_for_category(category, rules=rules)
    if template_code == expected or category in template.subject_categories:
        return ""
    label = CATEGORIES.get(category, category)
    advice = f"，应使用《{templates[expected].title}》" if expected in templates else ""
    return f"注意：《{template.title}》不适用于{label}{advice}。"
