"""The paperwork after an inspection that one ``case_documents`` row holds whole.

``cases``: 案件来源登记表 and 立案审批表 from a 立案建议, with the approval chain (承办人 → 所长).
``evidence``: 先行登记保存证据通知书 with its item list, and its 解除. ``address``: 送达地址确认书.
Each has its own number series (``kinds.PREFIX_KEYS``, 站所设置), prints through ``core.printing``
(stories in ``core.forms.casework``) and verifies by its QR (``core.verification``); once signed
(issued or decided) it is locked (content hash, ``core.guards``, ``db.document_lock``) and syncs.
``store`` holds the shared record, loading and numbering.
"""
