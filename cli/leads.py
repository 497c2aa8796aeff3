"""Grid workers' leads (线索), overdue first."""
from __future__ import annotations

from cli.app import EXIT_OK, add_delete, confirm_delete, need_db, open_context, print_overdue_first


def register(sub) -> None:
    """Add ``leads`` and ``leads remove-photo`` to the top-level subparsers."""
    leads = sub.add_parser("leads", help="网格员上报的线索，逾期的在前")
    leads.add_argument("--db", help="数据库文件（必填）")
    leads.add_argument("--status", choices=["reported", "received", "assigned", "handled", "fed_back", "closed"],
                       help="只列出此状态的线索")
    leads.add_argument("--json", action="store_true", help="以 JSON 输出")
    leads.set_defaults(handler=cmd_leads)
    actions = leads.add_subparsers(dest="leads_command", metavar="ACTION")
    add_delete(actions, "remove-photo", "删除尚未处置的线索的一张照片", cmd_remove_photo,
               ("--photo", "ID", "照片编号（leads --json 中 photos 的一项）"))


def cmd_leads(args) -> int:
    from core.leads import list_leads

    return print_overdue_first(args, list_leads(open_context(need_db(args, "leads")), status=args.status), lambda r, flag: (
        f"{r.reported_at:%Y-%m-%d %H:%M}\t{r.status_label}{flag}\t{r.category_label}\t{r.subject}\t{r.reporter}"))


def cmd_remove_photo(args) -> int:
    from core.deletions import remove_lead_photo
    from core.leads import list_leads

    ctx = open_context(args.db)
    leads = [lead for lead in list_leads(ctx) if args.photo in lead.photo_ids]
    if not leads:
        from cli.app import bad_input

        bad_input(f"找不到线索照片“{args.photo}”")
    lead = leads[0]
    confirm_delete(args, f"线索“{lead.subject}”（{lead.reported_at:%Y-%m-%d}）的第 "
                         f"{lead.photo_ids.index(args.photo) + 1} 张照片")
    remove_lead_photo(ctx, args.photo)
    print(f"已删除线索“{lead.subject}”的一张照片；下次同步时各笔记本上也会删除")
    return EXIT_OK
