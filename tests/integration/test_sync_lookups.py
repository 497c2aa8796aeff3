"""The import's look-ups by many ids (``db.bulk.select_in``) on SQLite and on a real PostgreSQL.

The ids travel as one parameter (a JSON text for ``json_each`` on SQLite, an array literal for
``= ANY`` on PostgreSQL, or psycopg's escaped list when an id holds a quote or a backslash):
whatever characters an id holds, exactly the rows with one of those ids come back, and the
extra parameters keep their places.
"""
from __future__ import annotations

import pytest

from core.context import AppContext
from db import bulk

ODD = ["a,b", '"quoted"', "{x,y}", "it's", "中文编号", "back\\slash", "NULL", "", " padded ", "tab\there"]


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_select_in_finds_exactly_the_ids_given(engine, request, tmp_path, monkeypatch):
    pg_server = request.getfixturevalue("pg_server") if engine == "postgresql" else None
    ctx = AppContext.open(pg_server.create_database() if pg_server else tmp_path / "s.db")
    try:
        rows = [("peer-1", "subjects", rid, n) for n, rid in enumerate(ODD + [f"id-{i}" for i in range(20)])]
        rows.append(("peer-2", "subjects", "a,b", 99))  # the same id for another peer: not asked for
        with ctx.engine.begin() as conn:
            bulk.insert_tuples(conn, "sync_base", ("peer_id", "table_name", "record_id", "version"), rows)
        monkeypatch.setattr(bulk, "IDS_AT_ONCE", 3)  # several look-ups, their results joined
        # the quote and the backslash first: their chunk goes as a list, the others as a literal
        first = ['"quoted"', "back\\slash", "x"]
        wanted = first + [o for o in ODD if o not in first] + ["id-3", "id-17", "not-there"]
        with ctx.engine.connect() as conn:
            found = bulk.select_in(conn, "SELECT record_id, version FROM sync_base WHERE peer_id = {p} AND",
                                   "record_id", wanted, ("peer-1",))
        assert len(found) == len(ODD) + 2
        assert sorted(found) == sorted((rid, n) for _p, _t, rid, n in rows if _p == "peer-1"
                                       and rid in wanted)
        with ctx.engine.connect() as conn:
            assert bulk.select_in(conn, "SELECT record_id FROM sync_base WHERE", "record_id", []) == []
    finally:
        ctx.close()


def test_pg_text_array_only_for_ids_it_can_quote():
    assert bulk.pg_text_array(["a", "b-1", "中文", "a,b", "{x}", ""]) == '{"a","b-1","中文","a,b","{x}",""}'
    assert bulk.pg_text_array(['say "hi"', "a"]) == ['say "hi"', "a"]
    assert bulk.pg_text_array(["back\\slash"]) == ["back\\slash"]
    assert bulk.pg_text_array([1, "a"]) == [1, "a"]
