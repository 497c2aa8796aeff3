"""The ``hub`` subcommand: run the station's sync hub (the entry point registers it beside the CLI's).

It lives with the hub, not in ``cli``, so the interfaces stay independent of each other;
the CLI's parser and its error-to-exit mapping run it like any other subcommand. Only
argparse is imported until the command runs.
"""
from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    """Add ``hub`` to the top-level subparsers."""
    hub = sub.add_parser("hub", help="（所里的电脑）运行同步服务，笔记本通过网络与所里同步（见 docs/sync-format.md“HTTP hub”）")
    hub.add_argument("--db",
                     help="（必填）所里的数据库：文件，或数据库地址，如 postgresql+psycopg://user@host/db")
    hub.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1，仅本机；0.0.0.0 为局域网）")
    hub.add_argument("--port", type=int, default=8765, help="端口（默认 8765）")
    hub.add_argument("--data-dir", type=Path, metavar="DIR",
                     help="附件和待发同步包的文件夹（默认：SQLite 数据库文件旁；服务器数据库为"
                          "用户数据文件夹）")
    hub.add_argument("--max-upload-mb", type=float, default=64, help="接收的同步包最大大小（默认 64 MB）")
    hub.add_argument("--request-timeout", type=float, default=15, metavar="SECONDS",
                     help="等待请求头、以及请求体两段之间的最长时间（默认 15 秒）")
    hub.set_defaults(handler=cmd_hub)
    actions = hub.add_subparsers(dest="hub_command", metavar="ACTION")
    move = actions.add_parser("migrate-db", help="把站所的 SQLite 同步服务数据库迁移到新的空 PostgreSQL 数据库"
                                                 "（一个事务，核对行数和审计链；见 docs/deployment.md）")
    move.add_argument("--from", dest="source", required=True, metavar="STATION.db", help="站所现有的数据库文件（只读取）")
    move.add_argument("--to", dest="target", required=True, metavar="URL",
                      help="新的空 PostgreSQL 数据库，如 postgresql+psycopg://yxjc@localhost/county")
    move.add_argument("--data-dir", type=Path, metavar="DIR",
                      help="服务器上同步服务的数据文件夹（以后 hub --data-dir 用同一个）：附件复制到 DIR/attachments")
    move.add_argument("--json", action="store_true", help="以 JSON 输出摘要")
    move.set_defaults(handler=cmd_migrate_db)


def cmd_hub(args) -> int:
    from core.context import AppContext
    from core.errors import InvalidInput
    from hub.server import serve

    if not args.db:
        raise InvalidInput("缺少必填参数：--db（用 main.py hub --help 查看用法）")
    if not 0 < args.port < 65536:
        raise InvalidInput(f"端口无效：{args.port}")
    if not 0.5 <= args.request_timeout <= 3600:
        raise InvalidInput(f"--request-timeout 应在 0.5 至 3600 秒之间：{args.request_timeout:g}")
    _check_port_free(args.host, args.port)
    if args.data_dir is not None:
        ctx = AppContext.open(args.db, attachments_dir=args.data_dir / "attachments")
        outbox = args.data_dir / "hub-outbox"
    else:
        ctx = AppContext.open(args.db)
        outbox = None

    def ready(_hub) -> None:
        print(f"同步服务已开启：数据库 {ctx.engine.url.render_as_string(hide_password=True)}，"
              f"地址 http://{args.host}:{args.port}（按 Ctrl+C 停止）", flush=True)

    serve(ctx, args.host, args.port, outbox=outbox, max_upload_mb=args.max_upload_mb,
          request_timeout=args.request_timeout, ready=ready)
    return 0


def cmd_migrate_db(args) -> int:
    import json

    from core.migrate_db import copy_database

    def progress(table: str, done: int, total: int) -> None:
        if not args.json:
            print(f"  [{done}/{total}] {table}", flush=True)

    attachments = args.data_dir / "attachments" if args.data_dir is not None else None
    report = copy_database(args.source, args.target, attachments_to=attachments, progress=progress)
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(f"已迁移到 {report.target}：{len(report.tables)} 个表共 {report.rows} 行，行数与源数据库一致；"
              f"审计链完整（{report.audit_entries} 条，末条 {report.audit_head[:16]}…）"
              + (f"；附件 {report.attachments} 个已复制到 {attachments}" if attachments is not None else ""))
    return 0


def _check_port_free(host: str, port: int) -> None:
    """One Chinese line when the address cannot be listened on (the server would say it in English)."""
    import socket

    try:
        with socket.create_server((host, port)):
            pass
    except OSError:
        from core.errors import InvalidInput

        raise InvalidInput(f"无法在 {host}:{port} 开启同步服务：端口已被占用（同步服务可能已在运行）或地址不属于本机") from None
