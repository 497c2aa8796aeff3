"""Backups of the database file: one now, and restoring one."""
from __future__ import annotations

from pathlib import Path

from cli.app import EXIT_OK, login


def register(sub) -> None:
    """Add ``backup`` and ``restore`` to the top-level subparsers."""
    bak = sub.add_parser("backup", help="立即备份数据库（图形界面每天也会自动备份一次）")
    bak.add_argument("--db", required=True, help="数据库文件")
    bak.set_defaults(handler=cmd_backup)

    res = sub.add_parser("restore", help="用备份替换数据库（先备份当前数据库）")
    res.add_argument("--db", required=True, help="数据库文件")
    res.add_argument("backup", type=Path, help="备份文件，见 backup 的输出或 <db>-backups 文件夹")
    res.set_defaults(handler=cmd_restore)


def cmd_backup(args) -> int:
    from core.backup import make_backup
    from core.unlock import unlock_file

    unlock_file(Path(args.db), login())
    print(make_backup(Path(args.db)))
    return EXIT_OK


def cmd_restore(args) -> int:
    from core.backup import restore_backup
    from core.unlock import unlock_file

    unlock_file(Path(args.db), login())
    if args.backup.is_file():
        unlock_file(args.backup, login())
    restore_backup(args.backup, Path(args.db))
    print(f"已从备份 {args.backup} 恢复数据库 {args.db}")
    return EXIT_OK
