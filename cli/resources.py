"""Published checklists and rules (docs/levels.md "What goes down"): publish a file for the levels
below, list what is published or received here."""
from __future__ import annotations

from pathlib import Path

from cli.app import EXIT_OK, open_context, print_json

STATE_LABELS = {"current": "现行", "superseded": "已被新版本取代", "ignored": "已忽略（与随软件发布或先发布的同版本内容不同，或内容无效）",
                "pending": "未生效（引用了本库没有的检查表，这些检查表发布或收到后生效）"}


def register(sub) -> None:
    """Add ``rules`` (publish, list) to the top-level subparsers."""
    rules = sub.add_parser("rules", help="（所、县局、市局）向下级发布新版本的检查表、触发规则、风险分级表或名册同义词")
    actions = rules.add_subparsers(dest="action", metavar="ACTION", required=True)

    pub = actions.add_parser("publish", help="发布一个文件（文件名如 cosmetics-531.v4.json、triggers.v4.json），随同步下发到下级和笔记本")
    pub.add_argument("--db", required=True, help="数据库文件或 PostgreSQL 地址")
    pub.add_argument("--file", required=True, type=Path, metavar="FILE.json", help="要发布的检查表或规则文件")
    pub.set_defaults(handler=cmd_publish)

    listing = actions.add_parser("list", help="列出本库发布或从上级收到的检查表和规则")
    listing.add_argument("--db", required=True, help="数据库文件或 PostgreSQL 地址")
    listing.add_argument("--json", action="store_true", help="以 JSON 输出")
    listing.set_defaults(handler=cmd_list)


def cmd_publish(args) -> int:
    from core.published import KIND_LABELS, publish

    resource = publish(open_context(args.db), args.file)
    print(f"已发布：{KIND_LABELS[resource.kind]} {resource.name} 第 {resource.version} 版（SHA-256 {resource.sha256[:16]}…），"
          "下次同步时下发到下级")
    return EXIT_OK


def cmd_list(args) -> int:
    from core.published import KIND_LABELS, list_published

    rows = list_published(open_context(args.db))
    if args.json:
        print_json([{"kind": r.kind, "name": r.name, "version": r.version, "sha256": r.sha256, "state": r.state,
                     "title": r.title, "published_at": r.published_at, "published_by": r.published_by} for r in rows])
        return EXIT_OK
    if not rows:
        print("尚未发布或收到任何检查表和规则（使用随软件发布的版本）")
    for r in rows:
        print(f"{KIND_LABELS[r.kind]}\t{r.name}\t第 {r.version} 版\t{STATE_LABELS[r.state]}\t{r.published_at}\t{r.published_by}\t{r.title}")
    return EXIT_OK
