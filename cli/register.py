"""The register of subjects: the demo station and the subjects import."""
from __future__ import annotations


from cli.app import EXIT_OK, add_file_import, bad_input, open_context, print_json


def register(sub) -> None:
    """Add ``demo`` and ``subjects import`` to the top-level subparsers."""
    demo = sub.add_parser("demo", help="建立或补齐示例站所")
    demo.add_argument("--db", required=True, help="数据库文件")
    demo.set_defaults(handler=cmd_demo)

    add_file_import(sub, "subjects", "监管对象名册",
                    "从 .xlsx 或 .csv 导入监管对象（列：名称、统一社会信用代码、类别、地址、法定代表人、联系电话、网格）",
                    cmd_subjects_import)


def cmd_demo(args) -> int:
    from core.demo import create_demo

    ctx = open_context(args.db, create=True)
    added = create_demo(ctx)
    print(f"示例站所已就绪：新增 {added['subjects']} 个监管对象、{added['inspections']} 条检查记录")
    return EXIT_OK


def cmd_subjects_import(args) -> int:
    from core.subjects import import_subjects

    if not args.file.is_file():  # before the database is set up: a typo creates nothing
        bad_input(f"找不到文件 {args.file}")
    ctx = open_context(args.db, create=True)
    summary = import_subjects(ctx, args.file)
    if args.json:
        print_json(summary.as_dict())
    else:
        print(f"导入 {summary.imported} 个，跳过（已存在）{summary.skipped} 个，拒绝 {len(summary.rejected)} 行")
        for row in summary.rejected:
            print(f"  第 {row['row']} 行：{row['reason']}")
    return EXIT_OK
