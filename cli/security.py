"""The database encrypted at rest: encrypting a plain database, and the station's recovery of a laptop.

docs/keys.md: the database key, its wraps in ``<db>.keys``, the station's recovery key.
"""
from __future__ import annotations

from pathlib import Path

from cli.app import EXIT_OK, bad_input, login, open_context


def register(sub) -> None:
    """Add ``encrypt`` and ``recover`` to the top-level subparsers."""
    enc = sub.add_parser("encrypt", help="加密一个未加密的数据库（笔记本升级后首次启动时图形界面也会自动加密）")
    enc.add_argument("--db", required=True, help="数据库文件")
    enc.set_defaults(handler=cmd_encrypt)

    rec = sub.add_parser("recover", help="（所里）用所里的恢复密钥打开一台笔记本的数据库，可为一位用户设新密码")
    rec.add_argument("--db", required=True, help="笔记本的数据库文件")
    rec.add_argument("--station-db", required=True, type=Path, help="所里的数据库文件（持有恢复密钥）")
    rec.add_argument("--user", help="在笔记本上为该用户设置新密码（同时生成其解锁封装）")
    rec.add_argument("--new-password-file", type=Path, help="新密码所在的文件（与 --user 一起用）")
    rec.set_defaults(handler=cmd_recover)


def cmd_encrypt(args) -> int:
    from core.unlock import encrypt_database

    ctx = open_context(args.db)
    try:
        encrypt_database(ctx, login())
    finally:
        ctx.close()
    print(f"已加密数据库 {args.db}（密钥封装在 {args.db}.keys）")
    return EXIT_OK


def cmd_recover(args) -> int:
    from core.unlock import recover

    if bool(args.user) != bool(args.new_password_file):
        bad_input("--user 与 --new-password-file 需要一起使用")
    user = None
    if args.user:
        try:
            password = args.new_password_file.read_text(encoding="utf-8")[:4096].rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            bad_input(f"无法读取密码文件 {args.new_password_file}：{exc}")
        user = (args.user, password)
    if not Path(args.db).is_file():
        bad_input(f"数据库不存在：{args.db}")
    station = open_context(str(args.station_db))
    try:
        names = recover(Path(args.db), station, user=user)
    finally:
        station.close()
    print(f"已用所里的恢复密钥打开 {args.db}；可解锁的用户：{'、'.join(names) or '（无）'}")
    return EXIT_OK
