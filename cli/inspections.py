"""Inspections: the list, printing a form to PDF, and checking a printed form's QR code."""
from __future__ import annotations

import sys
from pathlib import Path

from cli.app import EXIT_BAD_INPUT, EXIT_OK, add_delete, confirm_delete, need_db, open_context, print_json


def register(sub) -> None:
    """Add ``inspections``, ``print`` and ``verify`` to the top-level subparsers."""
    insp = sub.add_parser("inspections", help="列出检查记录")
    insp.add_argument("--db", help="数据库文件（必填）")
    insp.add_argument("--json", action="store_true", help="以 JSON 输出")
    insp.set_defaults(handler=cmd_inspections)
    actions = insp.add_subparsers(dest="inspections_command", metavar="ACTION")
    add_delete(actions, "remove-photo", "删除未签名检查记录中的一张照片（已签名锁定的记录不能删除）", cmd_remove_photo,
               ("--inspection", "ID_OR_NUMBER", "检查记录 ID 或文书编号"), ("--photo", "ID", "照片编号"))

    prt = sub.add_parser("print", help="将一次检查的一种文书打印为 PDF")
    prt.add_argument("--db", required=True, help="数据库文件")
    prt.add_argument("--inspection", required=True, metavar="ID_OR_NUMBER", help="检查记录 ID 或文书编号")
    prt.add_argument("--form", required=True, choices=["record", "checklist", "rectification", "review"],
                     help="record 现场检查笔录，checklist 检查记录表，rectification 责令改正通知书，review 整改复查意见书（复查记录）")
    prt.add_argument("--out", required=True, type=Path, metavar="FILE.pdf", help="要写出的 PDF 文件")
    prt.set_defaults(handler=cmd_print)

    ver = sub.add_parser("verify", help="用数据库核验打印文书上二维码的内容")
    ver.add_argument("--db", required=True, help="数据库文件")
    ver.add_argument("payload", help="二维码中的文字")
    ver.set_defaults(handler=cmd_verify)


def cmd_inspections(args) -> int:
    from core.inspections import list_inspections

    rows = list_inspections(open_context(need_db(args, "inspections")))
    if args.json:
        print_json([{"id": r.id, "number": r.number, "subject": r.subject_name, "template": r.template_code,
                     "status": r.status} for r in rows])
    else:
        for r in rows:
            print(f"{r.number}\t{r.status}\t{r.subject_name}\t{r.template_code}\t{r.id}")
    return EXIT_OK


def cmd_remove_photo(args) -> int:
    from core.inspections import load_inspection, remove_photo

    ctx = open_context(args.db)
    record = load_inspection(ctx, args.inspection)
    photos = [p for p in record.photos if p.id == args.photo]
    if not photos:
        from cli.app import bad_input

        bad_input(f"检查记录 {record.number} 中没有照片“{args.photo}”")
    confirm_delete(args, f"检查记录 {record.number} 的照片“{photos[0].original_name}”")
    remove_photo(ctx, record.id, args.photo)
    print(f"已删除检查记录 {record.number} 的一张照片")
    return EXIT_OK


def cmd_print(args) -> int:
    from core.printing import print_form

    path = print_form(open_context(args.db), args.inspection, args.form, args.out)
    print(path)
    return EXIT_OK


def cmd_verify(args) -> int:
    from core.verification import verify_payload

    verdict = verify_payload(open_context(args.db), args.payload)
    if verdict.ok:
        print(verdict.message)
        return EXIT_OK
    print(verdict.message, file=sys.stderr)  # the verdict is the one line: no "错误：" prefix
    return EXIT_BAD_INPUT
