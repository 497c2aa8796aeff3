"""Users and roles: adding a user, the password read from standard input."""
from __future__ import annotations

import sys

from cli.app import EXIT_OK, open_context


def register(sub) -> None:
    """Add ``users add`` to the top-level subparsers."""
    users = sub.add_parser("users", help="users and roles")
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    u_add = users_sub.add_parser("add", help="add a user; the password is read from standard input")
    u_add.add_argument("--db", required=True, help="database file")
    u_add.add_argument("--role", required=True, choices=["inspector", "grid_worker", "admin"], help="role")
    u_add.add_argument("--name", required=True, help="name, also the log-in name")
    u_add.add_argument("--password-stdin", action="store_true", required=True,
                       help="read the password from the first line of standard input")
    u_add.add_argument("--cert-no", default="", help="执法证号 (inspectors)")
    u_add.add_argument("--grid", default="", help="grid (grid workers)")
    u_add.set_defaults(handler=cmd_users_add)


def cmd_users_add(args) -> int:
    from core.users import add_user

    password = sys.stdin.readline().rstrip("\r\n")
    user = add_user(open_context(args.db, create=True), name=args.name, role=args.role, password=password,
                    cert_no=args.cert_no, grid=args.grid)
    print(f"已添加{user.role_label} {user.name}")
    return EXIT_OK
