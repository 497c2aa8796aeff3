"""``audit verify`` on two cores (core.audit.verify_chain(workers=2)): the second half is walked in
another process from its first entry's own stored link, so the join between the halves is where an
attacker would hide a cut. Whatever is done to the log, the verdict, the count, the bad entry and the
message must be the ones the one walk gives (here with ``parallel_from=1``: a small log split too)."""
from __future__ import annotations

from tests.support import rawdb  # noqa: E402  (encrypted or plain test databases)

from pathlib import Path

import pytest

from core.audit import verify_chain
from core.context import AppContext
from core.subjects import SubjectData, add_subject


def _verdicts(ctx: AppContext) -> tuple[tuple, tuple]:
    one = verify_chain(ctx)
    two = verify_chain(ctx, workers=2, parallel_from=1)
    return (one.ok, one.entries, one.bad_seq, one.message), (two.ok, two.entries, two.bad_seq, two.message)


@pytest.fixture
def logged(tmp_path):
    ctx = AppContext.open(tmp_path / "station.db")
    for n in range(60):
        add_subject(ctx, SubjectData(name=f"测试店{n:02d}", category="cosmetics_operator", grid="东区"))
    with ctx.engine.connect() as conn:
        low, high = conn.exec_driver_sql("SELECT min(seq), max(seq) FROM audit_log").one()
    yield ctx, Path(ctx.engine.url.database), low, high
    ctx.close()


def _middle(low: int, high: int) -> int:
    """Where verify_chain splits a log this short (the first part three quarters of it)."""
    return low + max(1, int((high - low) * 0.75))


def test_an_intact_log_gives_the_same_verdict_and_the_hashes_asked_for(logged):
    ctx, _db, low, high = logged
    one, two = _verdicts(ctx)
    assert one == two and one[0] and one[1] == high - low + 1 >= 60
    seqs = {low + 3, _middle(low, high), high}
    assert verify_chain(ctx, at_seqs=seqs, workers=2, parallel_from=1).found == verify_chain(ctx, at_seqs=seqs).found
    assert len(verify_chain(ctx, at_seqs=seqs).found) == 3


@pytest.mark.parametrize("where", ["early", "before the join", "at the join", "after the join", "last"])
@pytest.mark.parametrize("attack", ["edit", "delete", "relink"])
def test_a_tampered_log_gives_the_same_verdict_wherever_it_is_cut(logged, where, attack):
    ctx, db, low, high = logged
    middle = _middle(low, high)
    seq = {"early": low + 2, "before the join": middle - 1, "at the join": middle, "after the join": middle + 1,
           "last": high}[where]
    con = rawdb.connect(db, isolation_level=None)
    try:
        if attack == "edit":
            con.execute("UPDATE audit_log SET after_json = after_json || ' ' WHERE seq = ?", (seq,))
        elif attack == "delete":
            con.execute("DELETE FROM audit_log WHERE seq = ?", (seq,))
        else:  # the entry's link made to look like the one before it (and its hash left as it was)
            con.execute("UPDATE audit_log SET prev_hash = (SELECT hash FROM audit_log WHERE seq = ?) WHERE seq = ?",
                        (seq - 2, seq))
    finally:
        con.close()
    one, two = _verdicts(ctx)
    assert one == two
    # the last entry cut off leaves a whole chain (the anchors tell that: test_lock_and_anchors.py)
    assert one[0] is (attack == "delete" and where == "last")
