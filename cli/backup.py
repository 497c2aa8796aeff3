"""Backups of the database file: one now, and restoring one."""
from __future__ import annotations

from pathlib import Path

from cli.app import EXIT_OK


def register(sub) -> None:
    """Add ``backup`` and ``restore`` to the top-level subparsers."""
    bak = sub.add_parser("backup", help="make a backup copy of the database now (the GUI also makes one a day)")
    bak.add_argument("--db", required=True, help="database file")
    bak.set_defaults(handler=cmd_backup)

    res = sub.add_parser("restore", help="replace the database by a backup (the current one is backed up first)")
    res.add_argument("--db", required=True, help="database file")
    res.add_argument("backup", type=Path, help="backup file, see `backup` output or the <db>-backups folder")
    res.set_defaults(handler=cmd_restore)


def cmd_backup(args) -> int:
    from core.backup import make_backup

    print(make_backup(Path(args.db)))
    return EXIT_OK


def cmd_restore(args) -> int:
    from core.backup import restore_backup

    restore_backup(args.backup, Path(args.db))
    print(f"已从备份 {args.backup} 恢复数据库 {args.db}")
    return EXIT_OK
