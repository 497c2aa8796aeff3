"""Which checklist fits which subject: the category map in the trigger rules and each template's categories.

The rules (``resources/rules/triggers.v*.json``, ``checklists``, or a newer version a level above
published: core.published) name the checklist a category is inspected with; a template's
``subject_categories`` say which subjects it can be used for at all. The new-inspection dialog
preselects the first and warns, in Chinese, when an inspector picks a checklist that neither names.
The pure functions take the templates and rules in force; ``proposed_checklist`` and
``fit_warning`` read them from the database (shipped plus published).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from core import published
from core.checklists import ChecklistTemplate
from core.errors import InvalidInput
from core.rules import TriggerRules
from core.subjects import CATEGORIES

if TYPE_CHECKING:
    from core.context import AppContext


def checklist_for_category(category: str, *, rules: TriggerRules) -> str:
    """The code of the checklist ``rules`` give for a subject category."""
    return rules.checklist_for(category)


def checklist_fits(category: str, template_code: str, *, templates: dict[str, ChecklistTemplate],
                   rules: TriggerRules) -> str:
    """"" when the checklist fits a subject of this category, else one Chinese warning line.

    A checklist fits when the rules map the category to it, or when the template lists the
    category among its ``subject_categories``.
    """
    template = templates.get(template_code)
    if template is None:
        raise InvalidInput(f"没有检查表模板“{template_code}”")
    expected = checklist_for_category(category, rules=rules)
    if template_code == expected or category in template.subject_categories:
        return ""
    label = CATEGORIES.get(category, category)
    advice = f"，应使用《{templates[expected].title}》" if expected in templates else ""
    return f"注意：《{template.title}》不适用于{label}{advice}。"


def proposed_checklist(ctx: AppContext, category: str) -> str:
    """The checklist the rules in force here (shipped or published) give for ``category``."""
    return checklist_for_category(category, rules=published.rules(ctx)[0])


def fit_warning(ctx: AppContext, category: str, template_code: str) -> str:
    """``checklist_fits`` with the checklists and rules in force here (shipped or published)."""
    return checklist_fits(category, template_code, templates=published.templates(ctx), rules=published.rules(ctx)[0])
