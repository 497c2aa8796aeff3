"""Grid workers' leads (线索), overdue first."""
from __future__ import annotations

from cli.app import open_context, print_overdue_first


def register(sub) -> None:
    """Add ``leads`` to the top-level subparsers."""
    leads = sub.add_parser("leads", help="网格员上报的线索，逾期的在前")
    leads.add_argument("--db", required=True, help="数据库文件")
    leads.add_argument("--status", choices=["reported", "received", "assigned", "handled", "fed_back", "closed"],
                       help="只列出此状态的线索")
    leads.add_argument("--json", action="store_true", help="以 JSON 输出")
    leads.set_defaults(handler=cmd_leads)


def cmd_leads(args) -> int:
    from core.leads import list_leads

    return print_overdue_first(args, list_leads(open_context(args.db), status=args.status), lambda r, flag: (
        f"{r.reported_at:%Y-%m-%d %H:%M}\t{r.status_label}{flag}\t{r.category_label}\t{r.subject}\t{r.reporter}"))
