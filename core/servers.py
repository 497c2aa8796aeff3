"""A county's or city's PostgreSQL database as the GUI opens it (the console): the URL made from
what the log-in's 连接到县局服务器… asks, and the URL as it may be shown or logged — never its password.

The console opens an existing database (``create=False``): a county's schema is made by its hub
(``main.py hub --db postgresql+psycopg://…``, docs/deployment.md), not by a desktop.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from core.errors import InvalidInput

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10  # seconds: an unreachable server is refused soon, not after the OS's minutes
MAX_FIELD = 200
REMEMBERED = "server.json"  # in the data folder: the last server connected to, never its password
MAX_REMEMBERED_BYTES = 4096


def is_server(db: str | Path | None) -> bool:
    """True for a server database's URL (``postgresql+psycopg://…``), False for a file or SQLite URL."""
    text = str(db or "")
    return "://" in text and not text.startswith("sqlite")


def without_password(db: str | Path) -> str:
    """``db`` as it may be shown or logged: a URL with its password as ``***``, a path as it is."""
    if not is_server(db):
        return str(db)
    try:
        return make_url(str(db)).render_as_string(hide_password=True)
    except ArgumentError:
        return "（无效的数据库地址）"


def server_url(*, host: str, port: str | int, database: str, user: str, password: str) -> str:
    """The SQLAlchemy URL of a PostgreSQL database (psycopg 3), from the fields a person typed."""
    host, database, user = (host or "").strip(), (database or "").strip(), (user or "").strip()
    if not host or len(host) > MAX_FIELD or any(c in host for c in " /@?#"):
        raise InvalidInput("请填写数据库服务器的地址（主机名或 IP，如 192.168.1.10）")
    try:
        number = int(str(port).strip())
    except ValueError:
        number = 0
    if not 1 <= number <= 65535:
        raise InvalidInput(f"端口“{port}”无效（PostgreSQL 默认 5432）")
    if not database or len(database) > MAX_FIELD:
        raise InvalidInput("请填写数据库名（如 county）")
    if not user or len(user) > MAX_FIELD:
        raise InvalidInput("请填写数据库用户名")
    url = URL.create("postgresql+psycopg", username=user, password=password or None, host=host, port=number,
                     database=database, query={"connect_timeout": str(CONNECT_TIMEOUT)})
    return url.render_as_string(hide_password=False)


def open_server(url: str):
    """The context on an existing server database (refused in one line when it cannot be reached)."""
    from core.context import AppContext

    if not is_server(url):
        raise InvalidInput("不是数据库服务器的地址（应为 postgresql+psycopg://…）")
    return AppContext.open(url, create=False)


def _remembered_file(folder: Path | None) -> Path:
    from core.paths import user_data_dir

    return (folder if folder is not None else user_data_dir()) / REMEMBERED


def remember_server(*, host: str, port: int, database: str, user: str, folder: Path | None = None) -> None:
    """Keep the fields of the server just connected to, so the console asks for the password only.
    The password is never written. A folder that cannot be written loses only the convenience."""
    path = _remembered_file(folder)
    fields = {"host": host.strip(), "port": int(port), "database": database.strip(), "user": user.strip()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(fields, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        log.warning("could not remember the server: %s", exc)


def remembered_server(folder: Path | None = None) -> dict | None:
    """The fields ``remember_server`` kept, or None when there are none or the file is not what it
    wrote (too big, not JSON, a field missing, out of range or of the wrong type): then the console
    starts empty, as on first use."""
    path = _remembered_file(folder)
    try:
        if path.stat().st_size > MAX_REMEMBERED_BYTES:
            return None
        fields = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(fields, dict):
        return None
    texts = [fields.get(name) for name in ("host", "database", "user")]
    port = fields.get("port")
    if not all(isinstance(t, str) and 0 < len(t) <= MAX_FIELD for t in texts):
        return None
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        return None
    return {"host": texts[0], "port": port, "database": texts[1], "user": texts[2]}
