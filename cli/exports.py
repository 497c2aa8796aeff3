"""Lists to Excel (导出): the register, the inspection list, the year's plan and its draw, the leads."""
from __future__ import annotations

from cli.app import EXIT_OK, bad_input, open_context


def register(sub) -> None:
    """Add ``export`` to the top-level subparsers."""
    export = sub.add_parser("export", help="a list to Excel: subjects, inspections, plan or leads (导出)")
    export.add_argument("--db", required=True, help="database file")
    export.add_argument("--what", required=True, choices=("subjects", "inspections", "plan", "leads"),
                        help="which list")
    export.add_argument("--out", required=True, help="the Excel file to write (.xlsx)")
    export.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD (inspections: their date; leads: reported)")
    export.add_argument("--to", dest="date_to", help="last day, YYYY-MM-DD (included)")
    export.add_argument("--category", help="subject category (subjects, inspections)")
    export.add_argument("--grid", help="grid (subjects, inspections)")
    export.add_argument("--status", help="status (subjects: active/closed/cancelled; inspections: draft/completed/"
                                         "signed; leads: reported/received/assigned/handled/closed)")
    export.add_argument("--kind", help="inspection kind: enforcement or routine")
    export.add_argument("--year", type=int, help="the plan's year (default: that of --to, else this year)")
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
