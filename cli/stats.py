"""Statistics (统计) for a period: the figures as text or JSON, the report as Excel or PDF."""
from __future__ import annotations

from cli.app import EXIT_OK, bad_input, open_context, print_json


def register(sub) -> None:
    """Add ``stats`` to the top-level subparsers."""
    stats = sub.add_parser("stats", help="statistics for a period (统计): figures, Excel, PDF")
    stats.add_argument("--db", required=True, help="database file")
    stats.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD")
    stats.add_argument("--to", dest="date_to", help="last day, YYYY-MM-DD (included)")
    stats.add_argument("--period", help="a year (2026), quarter (2026Q4) or month (2026-10), instead of --from/--to")
    stats.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    stats.add_argument("--xlsx", help="write the report to this Excel file (.xlsx)")
    stats.add_argument("--pdf", help="write the report to this PDF file")
    stats.set_defaults(handler=cmd_stats)


def period_of(args):
    from core.stats import Period, parse_day, parse_period

    if args.period and (args.date_from or args.date_to):
        bad_input("--period 与 --from/--to 只能选一种")
    if args.period:
        return parse_period(args.period)
    if not (args.date_from and args.date_to):
        bad_input("请用 --from 和 --to 指定统计期间，或用 --period（如 2026Q4）")
    return Period.range(parse_day(args.date_from), parse_day(args.date_to))


def cmd_stats(args) -> int:
    from core.reports import report_tables, write_pdf, write_xlsx
    from core.stats import report

    period = period_of(args)  # bad dates are refused before the database is opened
    for name, suffix in ((args.xlsx, ".xlsx"), (args.pdf, ".pdf")):
        if name and not name.lower().endswith(suffix):
            bad_input(f"输出文件名应以 {suffix} 结尾：{name}")
    result = report(open_context(args.db), period)
    if args.xlsx:
        write_xlsx(result, args.xlsx)
    if args.pdf:
        write_pdf(result, args.pdf)
    if args.json:
        print_json(result)
    elif not (args.xlsx or args.pdf):
        print(f"{result['station']}  {period.label}（{period.start} 至 {period.end}）")
        for table in report_tables(result):
            print(f"\n{table.title}（单位：{table.unit}）")
            print("\t".join(table.headers))
            for row in table.rows:
                print("\t".join("—" if v is None else (f"{v:.1%}" if isinstance(v, float) and v <= 1 else str(v))
                                for v in row))
    return EXIT_OK
