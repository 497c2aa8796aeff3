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
    hub.add_argument("--db", required=True,
                     help="所里的数据库：文件，或数据库地址，如 postgresql+psycopg://user@host/db")
    hub.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1，仅本机；0.0.0.0 为局域网）")
    hub.add_argument("--port", type=int, default=8765, help="端口（默认 8765）")
    hub.add_argument("--data-dir", type=Path, metavar="DIR",
                     help="附件和待发同步包的文件夹（默认：SQLite 数据库文件旁；服务器数据库为"
                          "用户数据文件夹）")
    hub.add_argument("--max-upload-mb", type=float, default=64, help="接收的同步包最大大小（默认 64 MB）")
    hub.add_argument("--request-timeout", type=float, default=15, metavar="SECONDS",
                     help="等待请求头、以及请求体两段之间的最长时间（默认 15 秒）")
    hub.set_defaults(handler=cmd_hub)


def cmd_hub(args) -> int:
    from core.context import AppContext
    from core.errors import InvalidInput
    from hub.server import serve

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


def _check_port_free(host: str, port: int) -> None:
    """One Chinese line when the address cannot be listened on (the server would say it in English)."""
    import socket

    try:
        with socket.create_server((host, port)):
            pass
    except OSError:
        from core.errors import InvalidInput

        raise InvalidInput(f"无法在 {host}:{port} 开启同步服务：端口已被占用（同步服务可能已在运行）或地址不属于本机") from None
