"""Attachment files at rest: how many are encrypted, encrypting the plain ones in place, and
moving the signature images still in the database out into files."""
from __future__ import annotations

import sys

from cli.app import EXIT_BAD_INPUT, EXIT_OK, open_context, print_json


def register(sub) -> None:
    """Add ``attachments status``, ``encrypt`` and ``move-signatures`` to the top-level subparsers."""
    parser = sub.add_parser("attachments", help="附件（照片、纸质原件扫描件、线索照片）的加密状态")
    actions = parser.add_subparsers(dest="attachments_command", metavar="ACTION", required=True)
    status = actions.add_parser("status", help="逐个读取附件：已加密、明文与无法读取（密钥不符或被改动）的数量")
    status.add_argument("--db", required=True, help="数据库文件")
    status.add_argument("--json", action="store_true", help="以 JSON 输出")
    status.set_defaults(handler=cmd_status)
    enc = actions.add_parser("encrypt", help="把明文附件就地加密（需要加密数据库的附件密钥；中断后可再次运行）")
    enc.add_argument("--db", required=True, help="数据库文件")
    enc.set_defaults(handler=cmd_encrypt)
    move = actions.add_parser("move-signatures", help="把仍存于数据库中的签名图像移入附件目录（可中断，可再次运行）")
    move.add_argument("--db", required=True, help="数据库文件")
    move.add_argument("--json", action="store_true", help="以 JSON 输出")
    move.set_defaults(handler=cmd_move_signatures)


def cmd_status(args) -> int:
    from core.attachments import attachment_status

    status = attachment_status(open_context(args.db))
    if args.json:
        print_json({"total": status.total, "encrypted": status.encrypted, "plain": status.plain,
                    "problems": status.problems})
    else:
        print(status.describe())
    for line in status.problems:
        print(f"错误：{line}", file=sys.stderr)
    return EXIT_OK if status.ok else EXIT_BAD_INPUT


def cmd_encrypt(args) -> int:
    from core.attachments import encrypt_existing

    print(encrypt_existing(open_context(args.db)).describe())
    return EXIT_OK


def cmd_move_signatures(args) -> int:
    from core.inspections.signature_files import move_signatures

    summary = move_signatures(open_context(args.db))
    if args.json:
        print_json({"moved": summary.moved, "damaged": summary.damaged, "remaining": summary.remaining})
    else:
        print(summary.describe())
    return EXIT_OK
