"""Lists to Excel (导出): the register, the inspection list, the year's plan and its draw, the leads."""
from __future__ import annotations

from cli.app import EXIT_OK, bad_input, open_context


def register(sub) -> None:
    """Add ``export`` to the top-level subparsers."""
    export = sub.add_parser("export", help="导出清单到 Excel：监管对象、检查记录、检查计划或线索")
    export.add_argument("--db", required=True, help="数据库文件")
    export.add_argument("--what", required=True, choices=("subjects", "inspections", "plan", "leads"),
                        help="导出哪一份清单")
    export.add_argument("--out", required=True, help="输出的 Excel 文件（.xlsx）")
    export.add_argument("--from", dest="date_from", help="起始日期 YYYY-MM-DD（检查记录按检查日期，线索按上报日期）")
    export.add_argument("--to", dest="date_to", help="截止日期 YYYY-MM-DD（含当日）")
    export.add_argument("--category", help="监管对象类别（监管对象、检查记录）")
    export.add_argument("--grid", help="网格（监管对象、检查记录）")
    export.add_argument("--status", help="状态（监管对象：active/closed/cancelled；检查记录：draft/completed/signed；"
                                         "线索：reported/received/assigned/handled/closed）")
    export.add_argument("--kind", help="检查类型：enforcement（执法检查）或 routine（日常巡查）")
    export.add_argument("--year", type=int, help="计划年度（默认取 --to 所在年份，否则为今年）")
    export.set_defaults(handler=cmd_export)


def cmd_export(args) -> int:
    from core.exports import ExportFilter, check_filter, export_xlsx, period_of
    from core.stats import parse_day

    if not args.out.lower().endswith(".xlsx"):
        bad_input(f"输出文件名应以 .xlsx 结尾：{args.out}")
    period = period_of(parse_day(args.date_from) if args.date_from else None,
                       parse_day(args.date_to) if args.date_to else None)
    filters = ExportFilter(period=period, category=args.category, grid=args.grid, status=args.status,
                           kind=args.kind, year=args.year)
    check_filter(args.what, filters)  # bad input is refused before the database is opened
    done = export_xlsx(open_context(args.db), args.what, args.out, filters)
    print(f"已导出 {done.rows} 条：{done.path}")
    return EXIT_OK
