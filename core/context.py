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
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from core import anchors, dbkeys, encryption, guards
from core.errors import Busy, ChangedMeanwhile, InvalidInput, StorageFailure, database_message
from core.events import EventBus, InspectionSigned
from core.tasks import after_signing
from core.users import require
from db.engine import DatabaseProblem, database_url, open_database, sqlite_file, storage_problem
from db.models import Setting

DEFAULT_SETTINGS = {
    "station_name": "示例市场监督管理所",
    "organ_name": "示例市市场监督管理局",
    "prefix.inspection": "示市监药检",
    "prefix.rectification": "示市监责改",
    "prefix.questioning": "示市监询",
    "prefix.service": "示市监送",
    # the case papers (core.casework.kinds.PREFIX_KEYS)
    "prefix.case_source": "示市监案源",
    "prefix.case_filing": "示市监立",
    "prefix.evidence_hold": "示市监先保",
    "prefix.evidence_release": "示市监解保",
    "prefix.address_confirm": "示市监址",
    # Each device writes its device_no into its document numbers (core.numbering),
    # so two laptops working offline never issue the same number.
    "device_no": "0",
    "rectification_days": "15",
    # printed on the 责令改正通知书 (行政复议法 / 行政诉讼法): where and how long to appeal
    "review_organ": "示例市人民政府",
    "review_days": "60",
    "court": "示例市人民法院",
    "lawsuit_months": "6",
}


# Settings any logged-in user may change: what the GUI remembers between sessions (the
# officers last chosen, the hub address last used, the sync panel's last result). Every
# other key is a station setting (names, document prefixes, device_no, sync keys...):
# only an admin (or the system) changes those.
MEMORY_SETTINGS = frozenset({"gui.last_officers", "hub_url", "last_result"})


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def on_top_of_changes(action: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a service for a change a user has just made; if a row it read was changed by another
    (a sync import committed meanwhile) before it wrote (``ChangedMeanwhile``, nothing written), run
    it once more: it reads the row as it is now and makes the same change on top, keeping the other's."""
    try:
        return action(*args, **kwargs)
    except ChangedMeanwhile:
        return action(*args, **kwargs)


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
    # the attachments' key (core.dbkeys.file_key of the database key) when the database is
    # encrypted; None: attachment files are written plain (core.attachments)
    file_key: bytes | None = field(default=None, repr=False)
    # the database file when it is encrypted (its key is remembered by db.cipher for this process)
    encrypted_file: Path | None = None

    @classmethod
    def open(cls, db: str | Path, *, create: bool = True, attachments_dir: Path | None = None,
             progress: Callable[[str], None] | None = None, login: tuple[str, str] | None = None,
             encrypt: bool | None = None) -> AppContext:
        """Open the database ``db`` (a file or a URL).

        ``create=False`` (commands that read, verify, export or import): a missing or
        empty database is refused ("数据库不存在" / "数据库是空的") and nothing is created. ``create``
        (commands that set a station or laptop up, the GUI): file and schema are made
        as needed. Either way a folder, a file that is not ours or a newer schema is
        refused with one Chinese line (``InvalidInput``) and left as it was. ``progress(revision)``:
        after each migration step of an upgrade (``core.schema.pending_upgrades`` lists them).
        """
        url = database_url(db)
        path = sqlite_file(url)
        key, made = encryption.key_before_open(path, create=create, login=login, encrypt=encrypt)
        try:
            engine, sessions = open_database(url, create=create, progress=progress)
        except DatabaseProblem as problem:
            encryption.undo_new_key(path, made)
            raise InvalidInput(database_message(problem)) from problem
        except BaseException:
            encryption.undo_new_key(path, made)
            raise
        guards.install(sessions)
        if attachments_dir is None:
            if url.startswith("sqlite:///"):
                db_file = Path(url.removeprefix("sqlite:///"))
                attachments_dir = db_file.parent / f"{db_file.stem}-attachments"
            else:
                from core.paths import user_data_dir

                attachments_dir = user_data_dir() / "attachments"
        ctx = cls(engine=engine, sessions=sessions, attachments_dir=attachments_dir)
        if key is not None:
            ctx.file_key, ctx.encrypted_file = dbkeys.file_key(key), path
        # follow-ups across areas, subscribed here so no service imports another for them
        ctx.events.subscribe(InspectionSigned, after_signing)
        ctx._ensure_settings()
        encryption.after_open(ctx)
        from core.inspections.signature_files import after_open as move_some_signatures

        move_some_signatures(ctx)  # old signature PNGs out of the database, a bounded chunk each open
        return ctx

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed when the block ends, rolled back on any error.

        A full disk (or a database that became unreadable or locked) is ``StorageFailure``
        (``Busy`` when locked) with one Chinese line; the database has rolled the whole unit back.
        A row another transaction changed after this one read it (a sync import that committed
        meanwhile) is not written over: ``ChangedMeanwhile`` (``db.models.SyncMixin``).
        """
        try:
            with self.sessions() as session, session.begin():
                session.info["actor"] = self.user.name if self.user is not None else "系统"
                session.info["clock"] = self.clock
                yield session
        except StaleDataError as exc:  # a row changed by another transaction since this one read it
            raise ChangedMeanwhile() from exc
        except DBAPIError as exc:
            kind = storage_problem(exc)
            if kind is None:
                raise
            problem = Busy if kind == "busy" else StorageFailure
            raise problem(database_message(DatabaseProblem(kind, self.where)), kind) from exc

    @property
    def where(self) -> str:
        """The database, as the user named it: its file, or the URL without a password."""
        if self.engine.dialect.name == "sqlite" and self.engine.url.database:
            return self.engine.url.database
        return self.engine.url.render_as_string(hide_password=True)

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

    def reload_settings(self) -> None:
        """Read the settings again: another process (the CLI, the hub) may have changed them."""
        with self.sessions() as s:
            self._settings = {row.key: row.value for row in s.scalars(select(Setting))}

    def setting(self, key: str) -> str:
        return self._settings[key]

    def set_setting(self, key: str, value: str) -> None:
        self.set_settings({key: value})

    def set_settings(self, values: dict[str, str]) -> None:
        """Save several settings in one transaction.

        Station settings need the "settings" permission (an admin, or the system); the
        GUI's memory (``MEMORY_SETTINGS``) is anyone's.
        """
        if any(key not in MEMORY_SETTINGS for key in values):
            require(self, "settings")
        self._write_settings(values)

    def _write_settings(self, values: dict[str, str]) -> None:
        """Save settings with no permission check: for core services that checked their own
        (registering a device, enrolling this laptop) — never call it from an interface."""
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
