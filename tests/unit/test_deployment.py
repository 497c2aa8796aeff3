"""docs/deployment.md and what it points at stay true: the unit files exist and run the hub as the
doc says, and a server database gets the pool the doc's table gives."""
from __future__ import annotations

import re
from pathlib import Path

from core.servers import (MAX_REMEMBERED_BYTES, REMEMBERED, is_server, remember_server, remembered_server, server_url,
                          without_password)
from db.engine import SERVER_POOL, make_engine

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")


def test_the_files_the_deployment_doc_names_exist():
    named = sorted(set(re.findall(r"packaging/linux/[\w.-]+", DOC)))
    assert len(named) == 3, named
    for name in named:
        assert (ROOT / name).is_file(), name
    unit = (ROOT / "packaging/linux/yaoxiehua-hub.service").read_text(encoding="utf-8")
    [start] = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    assert " hub --db ${YXJC_DB} " in start and "--data-dir /var/lib/yaoxiehua" in start
    assert "PASSWORD" not in start and "EnvironmentFile=/etc/yaoxiehua/hub.env" in unit
    assert "OnCalendar=" in (ROOT / "packaging/linux/yaoxiehua-backup.timer").read_text(encoding="utf-8")
    assert "## Enrolling stations" in DOC and "docs/levels.md" in DOC


def test_a_server_database_gets_the_documented_pool():
    engine = make_engine("postgresql+psycopg://yxjc:secret@127.0.0.1:5432/county")  # (no connection made)
    try:
        assert engine.pool.size() == SERVER_POOL["pool_size"] == 5 and engine.pool._max_overflow == 10
        assert engine.pool._pre_ping is True and engine.pool._recycle == 1800
    finally:
        engine.dispose()
    for key, value in (("pool_size", "5"), ("max_overflow", "10"), ("pool_recycle", "1800 s")):
        assert re.search(rf"`{key}` \| {value} \|", DOC), key


def test_the_console_url_never_shows_its_password():
    url = server_url(host="192.168.10.5", port="5432", database="county", user="yxjc", password="p@ss:word")
    assert is_server(url) and not is_server("station.db") and not is_server("sqlite:///x.db")
    assert "p%40ss" in url and "p@ss" not in without_password(url) and "***" in without_password(url)


def test_the_console_remembers_its_server_but_never_the_password(tmp_path):
    assert remembered_server(tmp_path) is None
    remember_server(host=" 192.168.10.5 ", port=5433, database="county", user="yxjc", folder=tmp_path)
    assert remembered_server(tmp_path) == {"host": "192.168.10.5", "port": 5433, "database": "county", "user": "yxjc"}
    assert "password" not in (tmp_path / REMEMBERED).read_text(encoding="utf-8")


def test_a_remembered_server_file_that_is_not_ours_is_ignored(tmp_path):
    path = tmp_path / REMEMBERED
    for text in ("not json", "[1, 2]", '{"host": "h", "port": 0, "database": "d", "user": "u"}',
                 '{"host": "h", "port": true, "database": "d", "user": "u"}',
                 '{"host": "", "port": 5432, "database": "d", "user": "u"}',
                 '{"host": "h", "port": 5432, "database": 7, "user": "u"}',
                 '{"host": "h", "port": 5432, "database": "d"}',
                 '{"host": "%s", "port": 5432, "database": "d", "user": "u"}' % ("h" * (MAX_REMEMBERED_BYTES + 1))):
        path.write_text(text, encoding="utf-8")
        assert remembered_server(tmp_path) is None, text
