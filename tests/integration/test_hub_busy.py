"""A busy hub turns an upload away (503, Retry-After) before verifying it, and the laptop comes back.

Found by tests/perf/hub_load_bench.py: with 40 laptops pushing to a PostgreSQL hub on a loaded
machine every upload queued, the laptops' requests timed out after 60 s and were sent again while
the hub still verified and imported the abandoned ones — the backlog grew to uvicorn's limit and
one package in 12 minutes was answered. The hub now admits a few uploads at once
(``hub.service.DEFAULT_MAX_PENDING_PUSHES``) and the client waits out a 503 (``HubClient.push_file``).
"""
from __future__ import annotations

import pytest

from core.context import AppContext
from core.errors import InvalidInput
from core.sync import client as sync_client
from tests.perf import hub_load_bench


def _inspections(db: str) -> int:
    ctx = AppContext.open(db)
    try:
        return hub_load_bench.table_counts(ctx, ["inspections"])["inspections"]
    finally:
        ctx.close()


def test_busy_hub_turns_the_upload_away_and_the_laptop_retries(tmp_path):
    db = str(tmp_path / "county.db")
    hub_ctx = AppContext.open(db, attachments_dir=tmp_path / "hub-data" / "attachments")
    [sender] = hub_load_bench.make_senders(hub_ctx, tmp_path / "laptops", 1, 1, 1)
    hub_ctx.close()
    runner = hub_load_bench.HubRunner(db, tmp_path / "hub-data", mode="thread",
                                      hub_options={"max_pending_pushes": 0})
    try:
        waits: list[float] = []
        client = sync_client.HubClient(runner.url, sender.device_id, sender.private_key, sleep=waits.append)
        with pytest.raises(InvalidInput, match="同步服务正忙"):
            client.push_file(sender.package)
        assert len(waits) == sync_client.BUSY_RETRIES == client.busy_retries
        assert all(1.0 <= w <= 3.0 for w in waits)  # Retry-After 2 s, with jitter
        assert runner.hub.pending_pushes == 0
        assert _inspections(db) == 0  # turned away: nothing imported

        def room_after_waiting(seconds: float) -> None:
            waits.append(seconds)
            runner.hub.max_pending_pushes = 1

        waits.clear()
        client.sleep = room_after_waiting
        answer = client.push_file(sender.package)
        assert len(waits) == 1 and answer["applied"] > 0 and answer["conflicts"] == 0
        assert runner.hub.pending_pushes == 0
    finally:
        runner.stop()
    assert _inspections(db) == 1


def test_retry_after_is_bounded():
    resp = lambda value: sync_client.HubResponse(503, {"Retry-After": value}, b"")  # noqa: E731
    assert [sync_client.retry_after(resp(v)) for v in ("5", "0", "99999", "soon", "")] == [5.0, 1.0, 30.0, 2.0, 2.0]


def test_a_pull_told_the_database_is_busy_asks_again(tmp_path):
    """The office PC holds the station's database while a laptop pulls: the export the listing starts
    waits for it (SQLite's busy timeout, shortened here to 0.2 s) and is refused "busy", nothing
    written; the hub answers 503 with Retry-After and the laptop, having waited, asks again and gets its
    packages. Fault before: only a push waited out a 503; the pull stopped with "HTTP 503"."""
    from sqlalchemy import event

    db = str(tmp_path / "county.db")
    hub_ctx = AppContext.open(db, attachments_dir=tmp_path / "hub-data" / "attachments")
    [sender] = hub_load_bench.make_senders(hub_ctx, tmp_path / "laptops", 1, 1, 1)
    hub_ctx.close()
    runner = hub_load_bench.HubRunner(db, tmp_path / "hub-data", mode="thread")
    office = AppContext.open(db)
    office_tx = office.transaction()
    waits: list[float] = []
    try:
        event.listen(runner.ctx.engine.pool, "checkout",
                     lambda dbapi_connection, *_: dbapi_connection.execute("PRAGMA busy_timeout = 200"))
        runner.ctx.engine.dispose()  # the pool's connections made before (with 5 s) are not used again
        s = office_tx.__enter__()
        s.connection().exec_driver_sql("UPDATE subjects SET phone = phone")  # the write lock, held

        def office_done_after_waiting(seconds: float) -> None:
            waits.append(seconds)
            if len(waits) == 2:
                office_tx.__exit__(None, None, None)

        client = sync_client.HubClient(runner.url, sender.device_id, sender.private_key,
                                       sleep=office_done_after_waiting)
        listing = client.checked("GET", "/api/v1/packages?after=0").json()
        assert len(waits) == 2 == client.busy_retries  # refused twice while held, then answered
        assert all(1.0 <= w <= 3.0 for w in waits)  # Retry-After 2 s, with jitter
        assert [p["seq"] for p in listing["packages"]] == [1]
    finally:
        if len(waits) < 2:
            office_tx.__exit__(None, None, None)
        office.close()
        runner.stop()
