"""Users and roles: adding a user, the password read from standard input (the rest is in the GUI's 用户管理)."""
from __future__ import annotations

import sys

from cli.app import EXIT_OK, open_context


def register(sub) -> None:
    """Add ``users add`` to the top-level subparsers."""
    users = sub.add_parser("users", help="用户和角色（其余管理在图形界面的“用户管理”中）")
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    u_add = users_sub.add_parser("add", help="添加用户；密码从标准输入读取")
    u_add.add_argument("--db", required=True, help="数据库文件")
    u_add.add_argument("--role", required=True, choices=["inspector", "grid_worker", "admin"], help="角色：inspector 执法人员，grid_worker 网格员，admin 站所管理员")
    u_add.add_argument("--name", required=True, help="姓名，也是登录名")
    u_add.add_argument("--password-stdin", action="store_true", required=True,
                       help="从标准输入的第一行读取密码")
    u_add.add_argument("--cert-no", default="", help="执法证号（执法人员必填）")
    u_add.add_argument("--grid", default="", help="所在网格（网格员必填）")
    u_add.set_defaults(handler=cmd_users_add)


def cmd_users_add(args) -> int:
    from core.users import add_user

    password = sys.stdin.readline().rstrip("\r\n")
    user = add_user(open_context(args.db, create=True), name=args.name, role=args.role, password=password,
                    cert_no=args.cert_no, grid=args.grid)
    print(f"已添加{user.role_label} {user.name}")
    return EXIT_OK
