"""Document numbers: the void register (作废登记) — list it, print it, void a draft."""
from __future__ import annotations

from pathlib import Path

from cli.app import EXIT_OK, open_context, print_json


def register(sub) -> None:
    """Add ``numbers`` (voided, print, void) to the top-level subparsers."""
    numbers = sub.add_parser("numbers", help="文书编号：作废登记")
    actions = numbers.add_subparsers(dest="action", metavar="ACTION", required=True)

    voided = actions.add_parser("voided", help="列出作废登记：不再使用的文书编号")
    voided.add_argument("--db", required=True, help="数据库文件")
    voided.add_argument("--year", type=int, help="只列该年作废的编号")
    voided.add_argument("--json", action="store_true", help="以 JSON 输出")
    voided.set_defaults(handler=cmd_voided)

    prt = actions.add_parser("print", help="将作废登记打印为 PDF（文书编号作废登记表）")
    prt.add_argument("--db", required=True, help="数据库文件")
    prt.add_argument("--year", type=int, help="只列该年作废的编号")
    prt.add_argument("--out", required=True, type=Path, metavar="FILE.pdf", help="输出的 PDF 文件")
    prt.set_defaults(handler=cmd_print)

    void = actions.add_parser("void", help="作废未签名的检查记录，其编号记入作废登记")
    void.add_argument("--db", required=True, help="数据库文件")
    void.add_argument("--inspection", required=True, metavar="ID_OR_NUMBER", help="检查记录的 ID 或文书编号")
    void.add_argument("--reason", required=True, help="作废原因")
    void.set_defaults(handler=cmd_void)


def cmd_voided(args) -> int:
    from core.void_register import list_voided

    rows = list_voided(open_context(args.db), year=args.year)
    if args.json:
        print_json([{"number": r.number, "kind": r.doc_kind, "inspection_id": r.inspection_id, "reason": r.reason,
                     "voided_by": r.voided_by, "voided_at": r.voided_at.isoformat(timespec="seconds")} for r in rows])
    else:
        for r in rows:
            print(f"{r.number}\t{r.doc_label}\t{r.voided_at:%Y-%m-%d %H:%M}\t{r.voided_by}\t{r.reason}")
    return EXIT_OK


def cmd_print(args) -> int:
    from core.void_register import print_voided

    print(print_voided(open_context(args.db), args.out, year=args.year))
    return EXIT_OK


def cmd_void(args) -> int:
    from core.void_register import void_draft

    for number in void_draft(open_context(args.db), args.inspection, args.reason):
        print(f"已作废：{number}")
    return EXIT_OK
