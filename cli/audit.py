"""The hash-chained audit log: checking that no entry was edited or removed."""
from __future__ import annotations

import sys

from pathlib import Path

from cli.app import EXIT_BAD_INPUT, EXIT_OK, open_context


def register(sub) -> None:
    """Add ``audit verify`` to the top-level subparsers."""
    audit = sub.add_parser("audit", help="哈希链审计日志")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    a_ver = audit_sub.add_parser(
        "verify", help="审计链完整且与找到的每个锚点（数据库内、<db>.anchors、备份中、对方的）一致时退出码 0；"
                       "否则退出码 2，并指出第一条有问题的记录或缺少的内容")
    a_ver.add_argument("--db", required=True, help="数据库文件")
    a_ver.add_argument("--anchors-from", type=Path, metavar="PEER_DB",
                       help="同时核对对方（所里的数据库）为本库保存的锚点")
    a_ver.set_defaults(handler=cmd_audit_verify)


def cmd_audit_verify(args) -> int:
    from core.anchors import verify_audit

    check = verify_audit(open_context(args.db), peer_db=args.anchors_from)
    if check.ok:
        print(check.message)
        return EXIT_OK
    print(check.message, file=sys.stderr)  # the check's message is the one line: no "错误：" prefix
    return EXIT_BAD_INPUT
