"""A record printed for wet signatures, and the scan of its signed paper, travel from a laptop
to the station; the station recomputes the v2 hash and keeps the scan's file."""
from __future__ import annotations

import pytest

from core.attachments import read_attachment
from core import inspections as svc
from core import sync
from core.errors import WorkflowError
from core.verification import make_payload, verify_payload
from tests.integration.helpers import officer_passwords, answer_all, register_officers
from tests.integration.test_sync import enrolled_laptop, photo_file, pull_master_data


def test_wet_signed_record_and_its_scan_sync_to_the_station(ctx, subject, officers, tmp_path):
    register_officers(ctx)
    laptop, _ = enrolled_laptop(ctx, tmp_path, "笔记本1")
    try:
        pull_master_data(ctx, laptop, tmp_path / "down")
        inspection_id = svc.start_inspection(laptop, subject.id, "cosmetics-531", officers)
        answer_all(laptop, inspection_id, {"G1": "无记录"})
        svc.update_details(laptop, inspection_id, party_present_name="张三")
        svc.complete_inspection(laptop, inspection_id)
        with pytest.raises(WorkflowError, match="未按纸质签名打印锁定"):
            svc.attach_paper_scan(laptop, inspection_id, photo_file(tmp_path))
        content_hash = svc.lock_for_wet_signing(laptop, inspection_id, officer_passwords(laptop, inspection_id))
        svc.attach_paper_scan(laptop, inspection_id, photo_file(tmp_path))
        record = svc.load_inspection(laptop, inspection_id)
        assert record.content_hash == content_hash == record.current_hash()  # the scan is not in the hash
        [scan] = svc.paper_scans(laptop, inspection_id)
        up = tmp_path / "up"
        up.mkdir()
        [package] = sync.export_packages(laptop, up)
        sync.import_package(ctx, package)
        record = svc.load_inspection(ctx, inspection_id)
        assert record.locked and record.legal["wet"] and record.current_hash() == record.content_hash
        assert verify_payload(ctx, make_payload(record, "record")).ok
        [arrived] = svc.paper_scans(ctx, inspection_id)
        assert read_attachment(ctx, arrived.path) == read_attachment(laptop, scan.path) and arrived.path != scan.path
    finally:
        laptop.close()
