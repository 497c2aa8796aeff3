"""The register of subjects: the demo station and the subjects import."""
from __future__ import annotations


from cli.app import EXIT_OK, add_file_import, bad_input, open_context, print_json


def register(sub) -> None:
    """Add ``demo`` and ``subjects import`` to the top-level subparsers."""
    demo = sub.add_parser("demo", help="create or top up a demo station")
    demo.add_argument("--db", required=True, help="database file")
    demo.set_defaults(handler=cmd_demo)

    add_file_import(sub, "subjects", "the register of subjects",
                    "import subjects from .xlsx or .csv (columns 名称, 统一社会信用代码, 类别, 地址, 法定代表人, 联系电话, 网格)",
                    cmd_subjects_import)


def cmd_demo(args) -> int:
    from core.demo import create_demo

    ctx = open_context(args.db, create=True)
    added = create_demo(ctx)
    print(f"demo station ready: {added['subjects']} subjects and {added['inspections']} inspections added")
    return EXIT_OK


def cmd_subjects_import(args) -> int:
    from core.register_import import import_subjects

    if not args.file.is_file():  # before the database is set up: a typo creates nothing
        bad_input(f"找不到文件 {args.file}")
    ctx = open_context(args.db, create=True)
    summary = import_subjects(ctx, args.file)
    if args.json:
        print_json(summary.as_dict())
    else:
        print(f"imported {summary.imported}, skipped {summary.skipped}, rejected {len(summary.rejected)}")
        for row in summary.rejected:
            print(f"  row {row['row']}: {row['reason']}")
    return EXIT_OK
