"""The application context: one open database, its attachments folder and settings.

``main.py`` builds one and hands it to the services; tests build one on a temp folder.
"""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from core import anchors, guards
from core.events import EventBus, InspectionSigned
from core.tasks import after_signing
from db.engine import database_url, open_database
from db.models import Setting

DEFAULT_SETTINGS = {
    "station_name": "示例市场监督管理所",
    "organ_name": "示例市市场监督管理局",
    "prefix.inspection": "示市监药检",
    "prefix.rectification": "示市监责改",
    # Each device issues document numbers in its own block (device_no × 10000 + n),
    # so two laptops working offline never issue the same number.
    "device_no": "0",
    "rectification_days": "15",
}


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


@dataclass
class AppContext:
    engine: Engine
    sessions: sessionmaker[Session]
    attachments_dir: Path
    clock: Callable[[], datetime] = field(default=_now)
    # the logged-in user (core.users.UserRow); None: the system (headless CLI, service tests)
    user: Any = None
    events: EventBus = field(default_factory=EventBus)
    # failed log-ins of names that are no user here: name → (failures, locked until)
    unknown_logins: dict[str, tuple[int, datetime | None]] = field(default_factory=dict)
    _settings: dict[str, str] = field(default_factory=dict)

    @classmethod
    def open(cls, db: str | Path, *, attachments_dir: Path | None = None) -> AppContext:
        url = database_url(db)
        engine, sessions = open_database(url)
        guards.install(sessions)
        if attachments_dir is None:
            if url.startswith("sqlite:///"):
                db_file = Path(url.removeprefix("sqlite:///"))
                attachments_dir = db_file.parent / f"{db_file.stem}-attachments"
            else:
                from core.paths import user_data_dir

                attachments_dir = user_data_dir() / "attachments"
        ctx = cls(engine=engine, sessions=sessions, attachments_dir=attachments_dir)
        # follow-ups across areas, subscribed here so no service imports another for them
        ctx.events.subscribe(InspectionSigned, after_signing)
        ctx._ensure_settings()
        return ctx

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed when the block ends, rolled back on any error."""
        with self.sessions() as session, session.begin():
            session.info["actor"] = self.user.name if self.user is not None else "系统"
            session.info["clock"] = self.clock
            yield session

    def _ensure_settings(self) -> None:
        with self.transaction() as s:
            stored = {row.key: row.value for row in s.scalars(select(Setting))}
            for key, value in DEFAULT_SETTINGS.items():
                if key not in stored:
                    s.add(Setting(key=key, value=value))
                    stored[key] = value
            if "device_id" not in stored:
                stored["device_id"] = str(uuid.uuid4())
                s.add(Setting(key="device_id", value=stored["device_id"]))
        self._settings = stored

    def setting(self, key: str) -> str:
        return self._settings[key]

    def set_setting(self, key: str, value: str) -> None:
        self.set_settings({key: value})

    def set_settings(self, values: dict[str, str]) -> None:
        """Save several settings in one transaction."""
        with self.transaction() as s:
            for key, value in values.items():
                s.merge(Setting(key=key, value=value))
        self._settings.update(values)

    def setting_or(self, key: str, default: str) -> str:
        return self._settings.get(key, default)

    @property
    def device_id(self) -> str:
        return self._settings["device_id"]

    def close(self) -> None:
        anchors.seal_if_pending(self.engine)  # what a throttled transaction left unsealed
        self.engine.dispose()
