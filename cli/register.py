"""The register of subjects: the demo station and the subjects import."""
from __future__ import annotations


from cli.app import EXIT_OK, add_delete, add_file_import, bad_input, confirm_delete, open_context, print_json


def register(sub) -> None:
    """Add ``demo``, ``subjects import`` and ``subjects delete`` to the top-level subparsers."""
    demo = sub.add_parser("demo", help="建立或补齐示例站所")
    demo.add_argument("--db", required=True, help="数据库文件")
    demo.set_defaults(handler=cmd_demo)

    imp = add_file_import(sub, "subjects", "监管对象名册",
                          "从站所自己的 .xlsx 或 .csv 导入监管对象（表头可在标题行之下；列名和类别的同义词见 "
                          "resources/rules/register-synonyms.v*.json 和数据库旁的 register-synonyms.json）",
                          cmd_subjects_import, more=lambda actions: add_delete(
                              actions, "delete", "删除误录或重复登记的监管对象（已有检查记录、任务或线索的不能删除）",
                              cmd_subjects_delete, ("--subject", "ID_OR_CODE", "监管对象编号或统一社会信用代码")))
    imp.add_argument("--preview", action="store_true", help="逐行显示将导入的内容，不写入任何数据")


def cmd_demo(args) -> int:
    from core.demo import create_demo

    ctx = open_context(args.db, create=True, encrypt=True)  # a new demo database is encrypted
    added = create_demo(ctx)
    print(f"示例站所已就绪：新增 {added['subjects']} 个监管对象、{added['inspections']} 条检查记录")
    return EXIT_OK


def cmd_subjects_import(args) -> int:
    from core.register_import import import_subjects, preview_import

    if not args.file.is_file():  # before the database is set up: a typo creates nothing
        bad_input(f"找不到文件 {args.file}")
    ctx = open_context(args.db, create=True)
    if args.preview:
        plan = preview_import(ctx, args.file)
        if args.json:
            print_json({"header_row": plan.header_row, "mapping": plan.mapping, "unused": plan.unused,
                        "rows": [{"row": r.row, "outcome": r.outcome, "reason": r.reason,
                                  "name": r.values.get("name", "")} for r in plan.rows]})
            return EXIT_OK
        print(f"表头在第 {plan.header_row} 行；列的对应：{plan.mapping_text}")
        for r in plan.rows:
            print(f"  第 {r.row} 行 {r.values.get('name', '')}：{r.outcome_label}")
        print(f"将导入 {plan.count('import')} 个，跳过 {plan.count('duplicate')} 个，拒绝 {plan.count('rejected')} 行（未写入）")
        return EXIT_OK
    summary = import_subjects(ctx, args.file)
    if args.json:
        print_json(summary.as_dict())
    else:
        print(f"导入 {summary.imported} 个，跳过（已存在）{summary.skipped} 个，拒绝 {len(summary.rejected)} 行")
        for row in summary.rejected:
            print(f"  第 {row['row']} 行：{row['reason']}")
    return EXIT_OK


def cmd_subjects_delete(args) -> int:
    from core.deletions import delete_subject
    from core.subjects import find_subject

    ctx = open_context(args.db)
    subject = find_subject(ctx, args.subject)
    confirm_delete(args, f"监管对象“{subject.name}”（{subject.credit_code or '无统一社会信用代码'}）")
    delete_subject(ctx, subject.id)
    print(f"已删除监管对象“{subject.name}”；下次同步时各笔记本上也会删除")
    return EXIT_OK
