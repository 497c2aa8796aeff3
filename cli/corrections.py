"""更正 of a signed record: start a correction, approve it (the station admin)."""
from __future__ import annotations

from cli.app import EXIT_OK, open_context, print_json


def register(sub) -> None:
    """Add ``correct`` and ``approve-correction`` to the top-level subparsers."""
    correct = sub.add_parser("correct", help="更正已签名的检查记录：新建一份引用原记录、另有编号的记录")
    correct.add_argument("--db", required=True, help="数据库文件")
    correct.add_argument("--of", required=True, metavar="ID_OR_NUMBER", help="被更正的已签名原记录（ID 或文书编号）")
    correct.add_argument("--statement", required=True, help="更正内容")
    correct.add_argument("--reason", required=True, help="更正原因")
    correct.add_argument("--json", action="store_true", help="以 JSON 输出")
    correct.set_defaults(handler=cmd_correct)

    approve = sub.add_parser("approve-correction", help="批准已完成的更正，之后才能签名锁定（站所管理员）")
    approve.add_argument("--db", required=True, help="数据库文件")
    approve.add_argument("--inspection", required=True, metavar="ID_OR_NUMBER", help="更正记录（ID 或文书编号）")
    approve.set_defaults(handler=cmd_approve)


def cmd_correct(args) -> int:
    from core.corrections import correction_of, request_correction

    ctx = open_context(args.db)
    info = correction_of(ctx, request_correction(ctx, args.of, statement=args.statement, reason=args.reason))
    if args.json:
        print_json({"id": info.inspection_id, "number": info.number, "original": info.original_number})
    else:
        print(f"已新建更正记录 {info.number}（更正 {info.original_number}）：完成后经站所管理员批准，再签名锁定")
        print(info.inspection_id)
    return EXIT_OK


def cmd_approve(args) -> int:
    from core.corrections import approve_correction, correction_of
    from core.inspections import load_inspection

    ctx = open_context(args.db)
    record = load_inspection(ctx, args.inspection)
    approve_correction(ctx, record.id)
    info = correction_of(ctx, record.id)
    print(f"已批准更正 {info.number}（更正 {info.original_number}）")
    return EXIT_OK
