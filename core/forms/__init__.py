"""The stories (what each form prints) of the three A4 forms; ``core.printing`` lays them out.

``common`` (the page, tables, citations grouped by law, signature cells), ``record``
(现场检查笔录, or 巡查记录 for a visit that cannot produce enforcement documents),
``rectification`` (责令改正通知书), ``checklist`` (检查记录表, the 笔录's 附件1). The
typesetting helpers (paragraphs, styles, the font) come in on the page (``Page.kit``), so
these modules do not import ``core.printing``. See docs/forms.md "Legal elements".
"""
from __future__ import annotations

from core.forms.casework import CASE_STORIES
from core.forms.checklist import checklist_story
from core.forms.common import Page
from core.forms.questioning import questioning_story
from core.forms.record import record_story
from core.forms.rectification import rectification_story
from core.forms.review import review_story
from core.forms.service import service_story

STORIES = {"record": record_story, "checklist": checklist_story, "rectification": rectification_story,
           "questioning": questioning_story,  # 询问笔录 (core.questioning)
           "service": service_story,  # 送达回证 (core.service_receipts)
           "review": review_story,  # 整改复查意见书 of a re-inspection (core.reinspection)
           **CASE_STORIES}  # 案件来源登记表, 立案审批表, 先行登记保存 and its 解除, 送达地址确认书 (core.casework)

__all__ = ["STORIES", "Page"]
