"""``paperwork`` actions for the case papers (core.casework): 立案 (draft, submit, decide),
先行登记保存 and its 解除, 送达地址确认书, printing any of them."""
from __future__ import annotations

import json
from pathlib import Path

from cli.app import EXIT_OK, bad_input, open_context, print_json

# as core.casework.cases.DECISIONS (the core is not imported before a command runs)
DECISIONS = ("approve", "decline", "return")


def _db(parser) -> None:
    parser.add_argument("--db", required=True, help="数据库文件")


def register_casework(actions) -> None:
    """Add the case-paper actions to ``paperwork``."""
    draft = actions.add_parser("case-draft", help="由立案建议拟制案件来源登记表和立案审批表")
    _db(draft)
    draft.add_argument("--order", required=True, metavar="NUMBER", help="复查未整改到位的责令改正通知书文号")
    draft.add_argument("--opinion", default="", help="承办人意见")
    draft.set_defaults(handler=cmd_case_draft)

    submit = actions.add_parser("case-submit", help="承办人提交立案审批表，报所长审批")
    _db(submit)
    submit.add_argument("--filing", required=True, metavar="ID_OR_NUMBER", help="立案审批表的 ID 或文号")
    submit.add_argument("--opinion", default="", help="承办人意见（未填写过时必填）")
    submit.set_defaults(handler=cmd_case_submit)

    decide = actions.add_parser("case-decide", help="所长审批立案：approve 同意立案、decline 不予立案、return 退回")
    _db(decide)
    decide.add_argument("--filing", required=True, metavar="ID_OR_NUMBER", help="立案审批表的 ID 或文号")
    decide.add_argument("--decision", required=True, choices=DECISIONS, help="审批结论")
    decide.add_argument("--opinion", default="", help="审批意见（不予立案、退回时必填）")
    decide.set_defaults(handler=cmd_case_decide)

    hold = actions.add_parser("hold", help="出具先行登记保存证据通知书（物品清单为 JSON 文件）")
    _db(hold)
    hold.add_argument("--inspection", required=True, metavar="ID_OR_NUMBER", help="已签名的检查记录")
    hold.add_argument("--cause", required=True, help="涉嫌的违法行为")
    hold.add_argument("--items", required=True, type=Path, metavar="ITEMS.json",
                      help="物品清单：[{\"name\",\"spec\",\"batch\",\"quantity\",\"kept_at\"}, …]")
    hold.add_argument("--place", required=True, help="保存地点")
    hold.add_argument("--approved-by", required=True, help="批准的负责人")
    hold.add_argument("--keeping", default="就地封存，由当事人保管", help="保存方式")
    hold.set_defaults(handler=cmd_hold)

    release = actions.add_parser("release", help="出具解除先行登记保存证据通知书")
    _db(release)
    release.add_argument("--hold", required=True, metavar="ID_OR_NUMBER", help="先行登记保存证据通知书的文号")
    release.add_argument("--reason", required=True, help="解除理由")
    release.set_defaults(handler=cmd_release)

    address = actions.add_parser("address", help="登记送达地址确认书")
    _db(address)
    address.add_argument("--inspection", required=True, metavar="ID_OR_NUMBER", help="已签名的检查记录")
    address.add_argument("--recipient", required=True, help="受送达人")
    address.add_argument("--address", required=True, help="送达地址")
    address.add_argument("--phone", required=True, help="联系电话")
    address.add_argument("--postcode", default="", help="邮政编码")
    address.add_argument("--addressee", default="", help="收件人")
    address.add_argument("--electronic", default="", help="同意电子送达时的方式（如短信号码、电子邮箱）")
    address.set_defaults(handler=cmd_address)

    prints = actions.add_parser("print", help="将案件文书打印为 PDF")
    _db(prints)
    prints.add_argument("--document", required=True, metavar="ID_OR_NUMBER", help="文书的 ID 或文号")
    prints.add_argument("--out", required=True, type=Path, metavar="FILE.pdf", help="输出的 PDF 文件")
    prints.set_defaults(handler=cmd_print)

    listing = actions.add_parser("list", help="列出案件文书")
    _db(listing)
    listing.add_argument("--json", action="store_true", help="以 JSON 输出")
    listing.set_defaults(handler=cmd_list)


def cmd_case_draft(args) -> int:
    from core.casework import cases

    ctx = open_context(args.db)
    filing = cases.draft_case(ctx, rectification_id=args.order)
    if args.opinion:
        cases.edit_case(ctx, filing.id, handler_opinion=args.opinion)
    print(f"已拟制案件来源登记表：{filing.content['source_number']}")
    print(f"已拟制立案审批表：{filing.number}")
    return EXIT_OK


def cmd_case_submit(args) -> int:
    from core.casework import cases

    ctx = open_context(args.db)
    if args.opinion:
        cases.edit_case(ctx, args.filing, handler_opinion=args.opinion)
    print(f"已提交审批：{cases.submit_case(ctx, args.filing).number}")
    return EXIT_OK


def cmd_case_decide(args) -> int:
    from core.casework import cases

    record = cases.decide_case(open_context(args.db), args.filing, args.decision, args.opinion)
    print(f"{record.number}：{cases.DECISIONS[args.decision]}")
    return EXIT_OK


def cmd_hold(args) -> int:
    from core.casework import evidence

    try:
        items = json.loads(args.items.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        bad_input(f"无法读取物品清单 {args.items}（应为 UTF-8 编码的 JSON 数组）")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        bad_input("物品清单应为 JSON 数组，每项为一个对象")
    ctx = open_context(args.db)
    record = evidence.hold_evidence(ctx, args.inspection, cause=args.cause, items=items, place=args.place,
                                    keeping=args.keeping, approved_by=args.approved_by)
    print(f"已出具先行登记保存证据通知书：{record.number}（应于 {record.content['until']} 前作出处理决定）")
    return EXIT_OK


def cmd_release(args) -> int:
    from core.casework import evidence

    print(f"已出具解除先行登记保存证据通知书：{evidence.release_evidence(open_context(args.db), args.hold, reason=args.reason).number}")
    return EXIT_OK


def cmd_address(args) -> int:
    from core.casework import evidence

    record = evidence.confirm_address(open_context(args.db), args.inspection, recipient=args.recipient,
                                      address=args.address, phone=args.phone, postcode=args.postcode,
                                      addressee=args.addressee, electronic=args.electronic)
    print(f"已登记送达地址确认书：{record.number}")
    return EXIT_OK


def cmd_print(args) -> int:
    from core.printing import print_case_document

    print(print_case_document(open_context(args.db), args.document, args.out))
    return EXIT_OK


def cmd_list(args) -> int:
    from core.casework.store import list_case_documents

    rows = [{"number": r.number, "kind": r.kind, "title": r.title, "status": r.status_label,
             "party": r.party.get("name", "")} for r in list_case_documents(open_context(args.db))]
    if args.json:
        print_json(rows)
    else:
        for r in rows:
            print(f"{r['number']}\t{r['title']}\t{r['status']}\t{r['party']}")
    return EXIT_OK
