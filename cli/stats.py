"""Statistics (统计) for a period: the figures as text or JSON, the report as Excel or PDF."""
from __future__ import annotations

from cli.app import EXIT_OK, bad_input, open_context, print_json


def register(sub) -> None:
    """Add ``stats`` to the top-level subparsers."""
    stats = sub.add_parser("stats", help="某一期间的统计：数字、Excel、PDF")
    stats.add_argument("action", nargs="?", choices=["rebuild-summary"],
                       help="rebuild-summary：从检查记录重建检查家次、户数、覆盖率所用的按月摘要（SQLite；平时自动保持）")
    stats.add_argument("--db", required=True, help="数据库文件")
    stats.add_argument("--from", dest="date_from", help="起始日，YYYY-MM-DD")
    stats.add_argument("--to", dest="date_to", help="截止日，YYYY-MM-DD（含）")
    stats.add_argument("--period", help="年（2026）、季度（2026Q4）或月（2026-10），代替 --from/--to")
    stats.add_argument("--json", action="store_true", help="以一个 JSON 对象输出数字")
    stats.add_argument("--xlsx", help="将报表写入此 Excel 文件（.xlsx）")
    stats.add_argument("--pdf", help="将报表写入此 PDF 文件")
    stats.add_argument("--station", action="append", metavar="NAME",
                       help="县局、市局数据库：只统计此站所（可多次给出，或逗号分隔；all 为全部站所）")
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

    if args.action == "rebuild-summary":
        return cmd_rebuild_summary(args)
    period = period_of(args)  # bad dates are refused before the database is opened
    for name, suffix in ((args.xlsx, ".xlsx"), (args.pdf, ".pdf")):
        if name and not name.lower().endswith(suffix):
            bad_input(f"输出文件名应以 {suffix} 结尾：{name}")
    chosen = [name for value in args.station or () for name in value.replace("，", ",").split(",")]
    if args.station and not any(name.strip() for name in chosen):
        bad_input("--station 后应为站所名称（或 all）")
    result = report(open_context(args.db), period, stations=chosen or None)
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


def cmd_rebuild_summary(args) -> int:
    """``stats rebuild-summary --db PATH``: the per-month subject sets again from the records."""
    from core.stats import rebuild_summary

    if args.period or args.date_from or args.date_to or args.xlsx or args.pdf or args.station or args.json:
        bad_input("rebuild-summary 只需要 --db")
    months = rebuild_summary(open_context(args.db))
    print(f"已重建统计摘要：{months} 个月" if months is not None else "此数据库不使用统计摘要（PostgreSQL），无需重建")
    return EXIT_OK
