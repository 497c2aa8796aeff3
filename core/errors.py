"""Domain errors. Each carries one clear, user-facing (Chinese) message."""
from __future__ import annotations


class DomainError(Exception):
    """Bad input or a forbidden action: nothing was changed."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    """Input that fails validation (a wrong credit code, a missing field...)."""


class StorageFailure(InvalidInput):
    """The database could not be written or read (a full disk, an I/O error, a read-only or damaged
    file): nothing was changed. ``kind`` is one of ``DATABASE_PROBLEMS``; the message names the
    database, which is for the person at this computer, not for a peer (``without_where``)."""

    def __init__(self, message: str, kind: str):
        super().__init__(message)
        self.kind = kind

    def without_where(self, where: str) -> str:
        """The same line with ``where`` (a neutral name) in place of the database's file or URL."""
        return DATABASE_PROBLEMS[self.kind].format(where=where, detail="")


class Busy(StorageFailure):
    """The database is held by another program or transaction (a locked SQLite file, a PostgreSQL
    serialization failure or deadlock): nothing was changed, and the same request may simply run again."""


CHANGED_MEANWHILE = "这条记录在保存前已被另一处修改（例如所里刚导入的同步包），本次修改未保存；请重新打开记录，确认后再改"


class ChangedMeanwhile(Busy):
    """A row another transaction changed and committed after this one read it (optimistic locking,
    ``db.models.SyncMixin``): this one's change was not written over it. Run again, the same
    service reads the row as it is now and makes its change on top."""

    def __init__(self):
        super().__init__(CHANGED_MEANWHILE, "busy")


class NotFound(DomainError):
    """The record asked for does not exist."""


class RecordLocked(DomainError):
    """The inspection is signed: its content can no longer change."""


class WorkflowError(DomainError):
    """The action is not allowed in the record's current state."""


# What a database that cannot be opened or written is, in one line (``db.engine.DatabaseProblem.kind``).
DATABASE_PROBLEMS = {
    "missing": "数据库不存在：{where}",
    "empty": "数据库是空的（尚未建立）：{where}",
    "directory": "数据库路径是一个文件夹，不是数据库文件：{where}",
    "not_sqlite": "不是本软件的数据库文件（不是 SQLite 数据库）：{where}",
    "foreign": "不是本软件的数据库（没有本软件的结构版本）：{where}",
    "newer": "数据库由更新版本的软件创建（结构版本 {detail}），请先升级本软件：{where}",
    "interrupted": "数据库结构升级未能完成（可能曾被中断），数据库未作更改；请用 restore 从备份恢复：{where}",
    "corrupt": "数据库文件已损坏，请用 restore 从备份恢复：{where}",
    "disk_full": "磁盘空间不足，未保存任何更改：{where}",
    "io": "磁盘读写出错，未保存任何更改（请检查磁盘或U盘）：{where}",
    "busy": "数据库正被另一个程序占用，请稍后再试：{where}",
    "readonly": "数据库文件只读，无法写入：{where}",
    "cannot_open": "无法打开数据库文件（请检查路径和权限）：{where}",
    "key_needed": "数据库已加密，需要用户名和密码才能打开（命令行：--as 姓名 --password-file 密码文件）：{where}",
    "wrong_key": "数据库的密钥不正确，无法打开：{where}",
    # a server database (PostgreSQL): the server's own reason, never the password
    "cannot_connect": "无法连接数据库服务器 {where}（请检查地址、端口、数据库名、用户名和密码）：{detail}",
}


def database_message(problem) -> str:
    """The Chinese line for a ``db.engine.DatabaseProblem`` (anything with kind, where, detail)."""
    return DATABASE_PROBLEMS[problem.kind].format(where=problem.where, detail=problem.detail)
