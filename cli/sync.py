"""Sync between the station and its laptops: packages, the HTTP hub, and registered devices.

docs/sync-format.md describes the packages, the enrolment file and the hub.
"""
from __future__ import annotations

import sys
from pathlib import Path

from cli.app import EXIT_OK, bad_input, open_context, print_json


def register(sub) -> None:
    """Add ``sync`` and ``devices`` to the top-level subparsers (``hub`` is the hub's own, ``hub.command``)."""
    sync = sub.add_parser("sync", help="用U盘或共享文件夹批量同步（见 docs/sync-format.md）")
    sync_sub = sync.add_subparsers(dest="sync_command", metavar="ACTION", required=True)
    s_exp = sync_sub.add_parser("export", help="为所里或每台笔记本写出同步包，输出其路径")
    s_exp.add_argument("--db", required=True, help="数据库文件")
    s_exp.add_argument("--out", required=True, type=Path, metavar="DIR", help="写入同步包的文件夹")
    s_exp.add_argument("--max-mb", type=float, default=50, help="超过此大小（MB）时分成多个同步包（默认 50）")
    s_exp.add_argument("--json", action="store_true", help="以 JSON 输出路径")
    s_exp.set_defaults(handler=cmd_sync_export)
    s_imp = sync_sub.add_parser("import", help="校验并导入同步包，输出摘要")
    s_imp.add_argument("--db", required=True, help="数据库文件")
    s_imp.add_argument("files", type=Path, nargs="+", metavar="FILE", help="同步包 .zip 文件，按批次顺序")
    s_imp.add_argument("--json", action="store_true", help="以 JSON 输出摘要")
    s_imp.set_defaults(handler=cmd_sync_import)

    s_push = sync_sub.add_parser("push", help="（笔记本，或已登记到县局的所）导出本机的同步包并上传到上级的同步服务")
    s_push.add_argument("--db", required=True, help="笔记本（或所）的数据库")
    s_push.add_argument("--url", required=True, help="上级（所里或县局）同步服务的地址，如 http://192.168.1.10:8765")
    s_push.add_argument("files", type=Path, nargs="*", metavar="FILE",
                        help="上传这些同步包（如先前 sync export 写出的），而不重新导出")
    s_push.add_argument("--max-mb", type=float, default=50, help="超过此大小（MB）时分成多个同步包（默认 50）")
    s_push.add_argument("--json", action="store_true", help="以 JSON 输出摘要")
    s_push.set_defaults(handler=cmd_sync_push)
    s_pull = sync_sub.add_parser("pull", help="（笔记本，或已登记到县局的所）从上级的同步服务下载同步包并导入")
    s_pull.add_argument("--db", required=True, help="笔记本（或所）的数据库")
    s_pull.add_argument("--url", required=True, help="上级（所里或县局）同步服务的地址，如 http://192.168.1.10:8765")
    s_pull.add_argument("--json", action="store_true", help="以 JSON 输出摘要")
    s_pull.set_defaults(handler=cmd_sync_pull)


    devices = sub.add_parser("devices", help="在所里登记、参与同步的笔记本")
    devices_sub = devices.add_subparsers(dest="devices_command", metavar="ACTION", required=True)
    d_add = devices_sub.add_parser("add", help="（所里）登记一台笔记本，或（县局、市局）登记一个下级所，并写出其登记文件")
    d_add.add_argument("--db", required=True, help="所里（或县局、市局）的数据库")
    d_add.add_argument("--name", required=True, help="笔记本名称，如 执法笔记本1；下级所的名称，如 城关市场监督管理所")
    d_add.add_argument("--station", action="store_true",
                       help="登记的是下级所（或下级县局），它用同一个 devices enrol 加入（见 docs/levels.md）")
    d_add.add_argument("--out", required=True, type=Path, metavar="FILE",
                       help="要写出的登记文件（用此处显示的一次性登记码加密）")
    d_add.set_defaults(handler=cmd_devices_add)
    d_enrol = devices_sub.add_parser("enrol", help="（笔记本）用所里的登记文件加入所里；（所）用县局的登记文件加入县局")
    d_enrol.add_argument("--db", required=True, help="笔记本（或所）的数据库（不存在时创建）")
    d_enrol.add_argument("file", type=Path, help="上级 devices add 写出的登记文件")
    d_enrol.add_argument("--release", type=Path, metavar="FILE",
                         help="（所改登记到另一个县局时）原县局 devices release 写出的解除登记文件")
    d_enrol.add_argument("--code-stdin", action="store_true", required=True,
                         help="从标准输入的第一行读取所里 devices add 显示的一次性登记码")
    d_enrol.set_defaults(handler=cmd_devices_enrol)
    d_list = devices_sub.add_parser("list", help="（所里）列出登记的笔记本（已吊销的注明）")
    d_list.add_argument("--db", required=True, help="所里的数据库文件")
    d_list.set_defaults(handler=cmd_devices_list)
    d_revoke = devices_sub.add_parser("revoke", help="（所里）吊销丢失或被盗的笔记本："
                                                     "此后它的同步包和同步请求一律拒绝")
    d_revoke.add_argument("--db", required=True, help="所里的数据库文件")
    which = d_revoke.add_mutually_exclusive_group()  # one of them: checked by the handler (one Chinese line)
    which.add_argument("--name", help="笔记本名称")
    which.add_argument("--id", dest="device_id", help="笔记本的设备 ID")
    which.add_argument("--device-no", type=int, help="笔记本的设备号")
    d_revoke.set_defaults(handler=cmd_devices_revoke)
    d_release = devices_sub.add_parser("release", help="（县局、市局）解除一个下级所的登记：吊销它，"
                                                       "并写出它改登记到另一个上级时所需的解除登记文件")
    d_release.add_argument("--db", required=True, help="县局（或市局）的数据库")
    d_release.add_argument("--name", required=True, help="下级所的名称")
    d_release.add_argument("--out", required=True, type=Path, metavar="FILE", help="要写出的解除登记文件")
    d_release.set_defaults(handler=cmd_devices_release)


# --- packages -----------------------------------------------------------------------------------

def cmd_sync_export(args) -> int:
    from core.sync import export_packages

    paths = export_packages(open_context(args.db), args.out, max_mb=args.max_mb)
    if args.json:
        print_json([str(p) for p in paths])
    else:
        for path in paths:
            print(path)
    return EXIT_OK


def cmd_sync_import(args) -> int:
    from core.sync import import_packages

    ctx = open_context(args.db)
    _refuse_missing(args.files)
    summary = import_packages(ctx, args.files)
    if args.json:
        print_json(summary.as_dict())
    else:
        note = "（均已导入过，未作任何更改）" if summary.already_imported else ""
        print(f"更新 {summary.applied} 条，未变 {summary.unchanged} 条，冲突 {summary.conflicts} 条{note}")
    return EXIT_OK


def _refuse_missing(files: list[Path]) -> None:
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        bad_input(f"找不到同步包 {missing[0]}")


# --- the hub and its clients -------------------------------------------------------------------

def cmd_sync_push(args) -> int:
    from core import sync as sync_client

    _refuse_missing(args.files)
    summary = sync_client.push(open_context(args.db), args.url, args.files, max_mb=args.max_mb)
    return _print_hub_summary(args, summary)


def cmd_sync_pull(args) -> int:
    from core import sync as sync_client

    summary = sync_client.pull(open_context(args.db), args.url)
    return _print_hub_summary(args, summary)


def _print_hub_summary(args, summary) -> int:
    if args.json:
        print_json(summary.as_dict())
    else:
        verb = "上传" if args.sync_command == "push" else "下载"
        print(f"{verb} {summary.packages} 个同步包：更新 {summary.applied} 条，未变 {summary.unchanged} 条，"
              f"冲突 {summary.conflicts} 条，其中已导入过的同步包 {summary.already_imported} 个")
    return EXIT_OK


# --- devices -----------------------------------------------------------------------------------

def cmd_devices_add(args) -> int:
    from core.sync import add_device

    enrolment = add_device(open_context(args.db, create=True), args.name, args.out,
                           kind="station" if args.station else "laptop")
    what = "下级所" if args.station else ""
    print(f"已登记{what} {enrolment['device_name']}（设备号 {enrolment['device_no']}），登记文件：{args.out}")
    print(f"一次性登记码：{enrolment['enrolment_code']}（当面告知{'下级所的管理员' if args.station else '笔记本的使用人'}，"
          "不要写在U盘上）")
    return EXIT_OK


def cmd_devices_enrol(args) -> int:
    from core.sync import open_enrolment
    from core.sync.levels import join

    try:
        raw = args.file.read_bytes()
        release = args.release.read_bytes() if args.release is not None else None
    except OSError as exc:
        bad_input(f"无法读取文件 {exc.filename}")
    data = open_enrolment(raw, sys.stdin.readline().strip())
    # a new laptop database is encrypted; its key is wrapped by a device key file until the
    # first user logs in (core.dbkeys), so the first sync from the station works
    kind = join(open_context(args.db, create=True, encrypt=True), data, release)
    what = "下级所" if kind == "station" else ""
    print(f"已登记为 {data['station_name']} 的{what} {data['device_name']}（设备号 {data['device_no']}）")
    return EXIT_OK


def cmd_devices_list(args) -> int:
    from core.sync import list_devices

    for device in list_devices(open_context(args.db)):
        mark = f"\t已吊销 {device.revoked_at:%Y-%m-%d %H:%M}" if device.revoked else ""
        kind = "\t下级所" if device.kind == "station" else ""
        print(f"{device.device_no}\t{device.name}\t{device.id}{kind}{mark}")
    return EXIT_OK


def cmd_devices_revoke(args) -> int:
    from core.sync import list_devices, revoke_device

    if args.name is None and args.device_id is None and args.device_no is None:
        bad_input("请用 --name、--id 或 --device-no 指明要吊销的设备")
    ctx = open_context(args.db)
    if args.name is not None:
        found, what = [d for d in list_devices(ctx) if d.name == args.name.strip()], f"名为“{args.name}”的设备"
    elif args.device_id is not None:
        found, what = [d for d in list_devices(ctx) if d.id == args.device_id.strip()], f"设备 {args.device_id}"
    else:
        found, what = [d for d in list_devices(ctx) if d.device_no == args.device_no], f"设备号 {args.device_no}"
    if not found:
        bad_input(f"本所没有登记{what}（devices list 列出已登记的设备）")
    device = revoke_device(ctx, found[0].id)
    print(f"已吊销 {device.name}（设备号 {device.device_no}，{device.revoked_at:%Y-%m-%d %H:%M}）："
          "此后它的同步包和同步请求一律拒绝")
    return EXIT_OK


def cmd_devices_release(args) -> int:
    from core.sync import list_devices
    from core.sync.levels import release_member

    ctx = open_context(args.db)
    found = [d for d in list_devices(ctx) if d.name == args.name.strip() and d.kind == "station"]
    if not found:
        bad_input(f"本库没有登记名为“{args.name}”的下级所（devices list 列出已登记的设备）")
    release_member(ctx, found[0].id, args.out)
    print(f"已解除 {found[0].name} 的登记（已吊销），解除登记文件：{args.out}；"
          "它登记到另一个上级时用 devices enrol --release 提供此文件")
    return EXIT_OK
