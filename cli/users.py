"""Users and roles: adding a user, the password read from standard input (the rest is in the GUI's 用户管理)."""
from __future__ import annotations

import sys

from cli.app import EXIT_OK, bad_input, open_context, print_json


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
    u_keys = users_sub.add_parser("keys", help="列出一名执法人员的签名密钥（有效的和已停用的）")
    u_keys.add_argument("--db", required=True, help="数据库文件")
    u_keys.add_argument("--name", required=True, help="执法人员姓名")
    u_keys.add_argument("--json", action="store_true", help="以 JSON 输出")
    u_keys.set_defaults(handler=cmd_users_keys)
    u_revoke = users_sub.add_parser("revoke-key", help="停用一名执法人员当前的签名密钥（密钥遗失或泄露）；"
                                                       "已签的记录仍然有效，重设密码后生成新密钥")
    u_revoke.add_argument("--db", required=True, help="数据库文件")
    u_revoke.add_argument("--name", required=True, help="执法人员姓名")
    u_revoke.set_defaults(handler=cmd_users_revoke_key)


def cmd_users_add(args) -> int:
    from core.users import add_user

    password = sys.stdin.readline().rstrip("\r\n")
    user = add_user(open_context(args.db, create=True), name=args.name, role=args.role, password=password,
                    cert_no=args.cert_no, grid=args.grid)
    print(f"已添加{user.role_label} {user.name}")
    return EXIT_OK


def cmd_users_keys(args) -> int:
    from core.officer_keys import keys_of, officer_by_name

    ctx = open_context(args.db)
    keys = keys_of(ctx, officer_by_name(ctx, args.name))
    if args.json:
        print_json([{"key_id": k.id, "public_key": k.public_key, "valid_from": k.valid_from.isoformat(),
                     "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None, "here": k.here} for k in keys])
    else:
        for k in keys:
            print(f"{k.id}\t{k.fingerprint}\t{k.valid_from:%Y-%m-%d %H:%M}\t{k.state_label}")
    return EXIT_OK


def cmd_users_revoke_key(args) -> int:
    from core.officer_keys import officer_by_name
    from core.users import revoke_signing_key

    ctx = open_context(args.db)
    if not revoke_signing_key(ctx, officer_by_name(ctx, args.name)):
        bad_input(f"执法人员{args.name.strip()}没有有效的签名密钥")
    print(f"已停用执法人员{args.name.strip()}的签名密钥；此前签名的记录仍然有效，"
          "重设其密码后将生成新的签名密钥")
    return EXIT_OK
