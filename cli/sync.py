"""Sync between the station and its laptops: packages, the HTTP hub, and registered devices.

docs/sync-format.md describes the packages, the enrolment file and the hub.
"""
from __future__ import annotations

import sys
from pathlib import Path

from cli.app import EXIT_OK, bad_input, open_context, print_json


def register(sub) -> None:
    """Add ``sync`` and ``devices`` to the top-level subparsers (``hub`` is the hub's own, ``hub.command``)."""
    sync = sub.add_parser("sync", help="batch sync by USB stick or shared folder (docs/sync-format.md)")
    sync_sub = sync.add_subparsers(dest="sync_command", metavar="ACTION", required=True)
    s_exp = sync_sub.add_parser("export", help="write the batch package(s) for the station or each laptop, print their paths")
    s_exp.add_argument("--db", required=True, help="database file")
    s_exp.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder to write the packages to")
    s_exp.add_argument("--max-mb", type=float, default=50, help="split into several packages above this size (default 50)")
    s_exp.add_argument("--json", action="store_true", help="print the paths as JSON")
    s_exp.set_defaults(handler=cmd_sync_export)
    s_imp = sync_sub.add_parser("import", help="verify and import packages, print a summary")
    s_imp.add_argument("--db", required=True, help="database file")
    s_imp.add_argument("files", type=Path, nargs="+", metavar="FILE", help="package .zip files, in batch order")
    s_imp.add_argument("--json", action="store_true", help="print the summary as JSON")
    s_imp.set_defaults(handler=cmd_sync_import)

    s_push = sync_sub.add_parser("push", help="(laptop) export this laptop's batch and upload it to the station hub")
    s_push.add_argument("--db", required=True, help="the laptop's database file")
    s_push.add_argument("--url", required=True, help="the hub, e.g. http://192.168.1.10:8765")
    s_push.add_argument("files", type=Path, nargs="*", metavar="FILE",
                        help="upload these packages (e.g. from an earlier sync export) instead of a fresh export")
    s_push.add_argument("--max-mb", type=float, default=50, help="split into several packages above this size (default 50)")
    s_push.add_argument("--json", action="store_true", help="print the summary as JSON")
    s_push.set_defaults(handler=cmd_sync_push)
    s_pull = sync_sub.add_parser("pull", help="(laptop) download the station's packages from the hub and import them")
    s_pull.add_argument("--db", required=True, help="the laptop's database file")
    s_pull.add_argument("--url", required=True, help="the hub, e.g. http://192.168.1.10:8765")
    s_pull.add_argument("--json", action="store_true", help="print the summary as JSON")
    s_pull.set_defaults(handler=cmd_sync_pull)


    devices = sub.add_parser("devices", help="laptops registered with the station for sync")
    devices_sub = devices.add_subparsers(dest="devices_command", metavar="ACTION", required=True)
    d_add = devices_sub.add_parser("add", help="(station) register a laptop and write its enrolment file")
    d_add.add_argument("--db", required=True, help="the station's database file")
    d_add.add_argument("--name", required=True, help="laptop name, e.g. 执法笔记本1")
    d_add.add_argument("--out", required=True, type=Path, metavar="FILE",
                       help="enrolment file to write (sealed with the one-time code printed here)")
    d_add.set_defaults(handler=cmd_devices_add)
    d_enrol = devices_sub.add_parser("enrol", help="(laptop) enrol this database with the station's enrolment file")
    d_enrol.add_argument("--db", required=True, help="the laptop's database file (created if missing)")
    d_enrol.add_argument("file", type=Path, help="enrolment file from `devices add`")
    d_enrol.add_argument("--code-stdin", action="store_true", required=True,
                         help="read the one-time code `devices add` printed from the first line of standard input")
    d_enrol.set_defaults(handler=cmd_devices_enrol)
    d_list = devices_sub.add_parser("list", help="(station) list registered laptops (revoked ones marked)")
    d_list.add_argument("--db", required=True, help="the station's database file")
    d_list.set_defaults(handler=cmd_devices_list)
    d_revoke = devices_sub.add_parser("revoke", help="(station) revoke a lost or stolen laptop: its packages and "
                                                     "hub requests are refused from now on")
    d_revoke.add_argument("--db", required=True, help="the station's database file")
    which = d_revoke.add_mutually_exclusive_group()  # one of them: checked by the handler (one Chinese line)
    which.add_argument("--name", help="the laptop's name")
    which.add_argument("--id", dest="device_id", help="the laptop's device id")
    which.add_argument("--device-no", type=int, help="the laptop's device number")
    d_revoke.set_defaults(handler=cmd_devices_revoke)


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

    enrolment = add_device(open_context(args.db, create=True), args.name, args.out)
    print(f"已登记 {enrolment['device_name']}（设备号 {enrolment['device_no']}），登记文件：{args.out}")
    print(f"一次性登记码：{enrolment['enrolment_code']}（当面告知笔记本的使用人，不要写在U盘上）")
    return EXIT_OK


def cmd_devices_enrol(args) -> int:
    from core.sync import enrol_device, open_enrolment

    try:
        raw = args.file.read_bytes()
    except OSError:
        bad_input(f"无法读取登记文件 {args.file}")
    data = open_enrolment(raw, sys.stdin.readline().strip())
    enrol_device(open_context(args.db, create=True), data)
    print(f"已登记为 {data['station_name']} 的 {data['device_name']}（设备号 {data['device_no']}）")
    return EXIT_OK


def cmd_devices_list(args) -> int:
    from core.sync import list_devices

    for device in list_devices(open_context(args.db)):
        mark = f"\t已吊销 {device.revoked_at:%Y-%m-%d %H:%M}" if device.revoked else ""
        print(f"{device.device_no}\t{device.name}\t{device.id}{mark}")
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
