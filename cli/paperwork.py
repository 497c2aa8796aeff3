"""Forms that follow an inspection: 送达回证 (record and print), 询问笔录 (print)."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from cli.app import EXIT_OK, bad_input, open_context
from cli.casework import register_casework

# as core.service_receipts.METHODS (the core is not imported before a command runs)
METHODS = ("直接送达", "留置送达", "邮寄送达", "委托送达", "电子送达")


def register(sub) -> None:
    """Add ``serve`` (送达回证) and ``print-questioning`` (询问笔录) to the top-level subparsers."""
    serve = sub.add_parser("serve", help="登记送达回证并打印为 PDF（责令改正通知书等文书的送达）")
    serve.add_argument("--db", required=True, help="数据库文件")
    serve.add_argument("--inspection", required=True, metavar="ID_OR_NUMBER", help="检查记录的 ID 或文书编号")
    serve.add_argument("--document", default="rectification", choices=("rectification", "record", "other"),
                       help="送达的文书：rectification 责令改正通知书（默认）、record 现场检查笔录、other 其他文书")
    serve.add_argument("--doc-name", default="", help="其他文书的名称（--document other）")
    serve.add_argument("--doc-number", default="", help="其他文书的文号（--document other）")
    serve.add_argument("--method", required=True, choices=METHODS, help="送达方式")
    serve.add_argument("--recipient", required=True, help="受送达人")
    serve.add_argument("--place", required=True, help="送达地点（邮寄送达为收件地址）")
    serve.add_argument("--served-at", metavar="YYYY-MM-DDTHH:MM", help="送达时间（默认：现在）")
    serve.add_argument("--reason", default="", help="留置送达：受送达人拒绝签收的理由")
    serve.add_argument("--witness", default="", help="留置送达：见证人姓名")
    serve.add_argument("--witness-unit", default="", help="留置送达：见证人单位")
    serve.add_argument("--media", default="", help="留置送达：拍照或录像的记录（文件名、执法记录仪编号及时段）")
    serve.add_argument("--mail-no", default="", help="邮寄送达：邮件号码")
    serve.add_argument("--note", default="", help="备注")
    serve.add_argument("--out", required=True, type=Path, metavar="FILE.pdf", help="输出的 PDF 文件")
    serve.set_defaults(handler=cmd_serve)

    prq = sub.add_parser("print-questioning", help="将询问笔录打印为 PDF")
    prq.add_argument("--db", required=True, help="数据库文件")
    prq.add_argument("--questioning", required=True, metavar="ID_OR_NUMBER", help="询问笔录的 ID 或文书编号")
    prq.add_argument("--out", required=True, type=Path, metavar="FILE.pdf", help="输出的 PDF 文件")
    prq.set_defaults(handler=cmd_print_questioning)

    group = sub.add_parser("paperwork", help="检查后续文书：案件来源登记、立案审批、先行登记保存、送达地址确认、作废询问笔录")
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    register_casework(actions)
    vq = actions.add_parser("void-questioning", help="作废未签名的询问笔录（编号记入作废登记）")
    vq.add_argument("--db", required=True, help="数据库文件")
    vq.add_argument("--questioning", required=True, metavar="ID_OR_NUMBER", help="询问笔录的 ID 或文书编号")
    vq.add_argument("--reason", required=True, help="作废原因")
    vq.set_defaults(handler=cmd_void_questioning)


def cmd_serve(args) -> int:
    from core.printing import print_service_receipt
    from core.service_receipts import record_service

    served_at = None
    if args.served_at:
        try:
            served_at = datetime.fromisoformat(args.served_at)
        except ValueError:
            bad_input(f"送达时间格式不正确：{args.served_at}（例如 2026-05-12T09:30）")
    ctx = open_context(args.db)
    receipt = record_service(
        ctx, args.inspection, method=args.method, recipient=args.recipient, place=args.place, document=args.document,
        doc_name=args.doc_name, doc_number=args.doc_number, served_at=served_at, refusal_reason=args.reason,
        witness_name=args.witness, witness_unit=args.witness_unit, media_ref=args.media, mail_no=args.mail_no,
        note=args.note)
    print(f"已登记送达回证：{receipt.number}")
    print(print_service_receipt(ctx, receipt.id, args.out))
    return EXIT_OK


def cmd_print_questioning(args) -> int:
    from core.printing import print_questioning

    print(print_questioning(open_context(args.db), args.questioning, args.out))
    return EXIT_OK


def cmd_void_questioning(args) -> int:
    from core.void_register import void_questioning

    print(f"已作废询问笔录：{void_questioning(open_context(args.db), args.questioning, args.reason)}")
    return EXIT_OK
