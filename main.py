"""药械化现场检查 — entry point and composition root.

With no subcommand it starts the GUI; the subcommands are the headless CLI
(DESIGN.md "CLI contract"): exit 0 on success, 2 on bad input (one clear line on
stderr, nothing changed), 1 on an unexpected error.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="药械化现场检查: offline inspections of cosmetics, device and drug operators. "
        "Without a subcommand, starts the GUI.",
    )
    parser.add_argument("--db", help="database file (default: inspections.db in the user data folder)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help="create or top up a demo station")
    demo.add_argument("--db", required=True, help="database file")

    subjects = sub.add_parser("subjects", help="the register of subjects")
    subjects_sub = subjects.add_subparsers(dest="subjects_command", metavar="ACTION", required=True)
    imp = subjects_sub.add_parser(
        "import", help="import subjects from .xlsx or .csv (columns 名称, 统一社会信用代码, 类别, 地址, 法定代表人, 联系电话, 网格)"
    )
    imp.add_argument("--db", required=True, help="database file")
    imp.add_argument("file", type=Path, help=".xlsx or .csv file")
    imp.add_argument("--json", action="store_true", help="print the summary as JSON")

    insp = sub.add_parser("inspections", help="list inspections")
    insp.add_argument("--db", required=True, help="database file")
    insp.add_argument("--json", action="store_true", help="print as JSON")

    prt = sub.add_parser("print", help="print one form of an inspection to PDF")
    prt.add_argument("--db", required=True, help="database file")
    prt.add_argument("--inspection", required=True, metavar="ID_OR_NUMBER", help="inspection id or document number")
    prt.add_argument("--form", required=True, choices=["record", "checklist", "rectification"],
                     help="record = 现场检查笔录, checklist = 检查记录表, rectification = 责令改正通知书")
    prt.add_argument("--out", required=True, type=Path, metavar="FILE.pdf", help="PDF file to write")

    events = sub.add_parser("events", help="trigger events (投诉举报, 抽检不合格...)")
    events_sub = events.add_subparsers(dest="events_command", metavar="ACTION", required=True)
    ev_imp = events_sub.add_parser(
        "import", help="import events from .xlsx or .csv (columns 统一社会信用代码 or 名称, 事件类型, 发生日期, 来源编号, 详情)"
    )
    ev_imp.add_argument("--db", required=True, help="database file")
    ev_imp.add_argument("file", type=Path, help=".xlsx or .csv file")
    ev_imp.add_argument("--json", action="store_true", help="print the summary as JSON")

    tasks = sub.add_parser("tasks", help="the inspection task queue, most urgent first")
    tasks.add_argument("--db", required=True, help="database file")
    tasks.add_argument("--status", choices=["open", "in_progress", "done", "cancelled"], help="only tasks in this status")
    tasks.add_argument("--json", action="store_true", help="print as JSON")

    plan = sub.add_parser("plan", help="the year's baseline plan with its reproducible random draw (双随机)")
    plan.add_argument("--db", required=True, help="database file")
    plan.add_argument("--year", required=True, type=int, help="plan year, e.g. 2026")
    plan.add_argument("--seed", required=True, type=int, help="random seed; the same seed and data give the same plan")
    plan.add_argument("--json", action="store_true", help="print as JSON")

    users = sub.add_parser("users", help="users and roles")
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    u_add = users_sub.add_parser("add", help="add a user; the password is read from standard input")
    u_add.add_argument("--db", required=True, help="database file")
    u_add.add_argument("--role", required=True, choices=["inspector", "grid_worker", "admin"], help="role")
    u_add.add_argument("--name", required=True, help="name, also the log-in name")
    u_add.add_argument("--password-stdin", action="store_true", required=True,
                       help="read the password from the first line of standard input")
    u_add.add_argument("--cert-no", default="", help="执法证号 (inspectors)")
    u_add.add_argument("--grid", default="", help="grid (grid workers)")

    leads = sub.add_parser("leads", help="grid workers' leads (线索), overdue first")
    leads.add_argument("--db", required=True, help="database file")
    leads.add_argument("--status", choices=["reported", "received", "assigned", "handled", "fed_back", "closed"],
                       help="only leads in this status")
    leads.add_argument("--json", action="store_true", help="print as JSON")

    audit = sub.add_parser("audit", help="the hash-chained audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    a_ver = audit_sub.add_parser("verify", help="exit 0 when the chain is intact, 2 naming the first bad entry")
    a_ver.add_argument("--db", required=True, help="database file")

    insp_list = sub.add_parser("inspectors", help="the station's list of enforcement officers")
    insp_list.add_argument("--db", required=True, help="database file")
    insp_sub = insp_list.add_subparsers(dest="inspectors_command", metavar="ACTION")
    insp_add = insp_sub.add_parser("add", help="add an officer")
    insp_add.add_argument("--db", required=True, help="database file")
    insp_add.add_argument("--name", required=True, help="name")
    insp_add.add_argument("--cert-no", required=True, help="执法证号")

    bak = sub.add_parser("backup", help="make a backup copy of the database now (the GUI also makes one a day)")
    bak.add_argument("--db", required=True, help="database file")

    res = sub.add_parser("restore", help="replace the database by a backup (the current one is backed up first)")
    res.add_argument("--db", required=True, help="database file")
    res.add_argument("backup", type=Path, help="backup file, see `backup` output or the <db>-backups folder")

    sync = sub.add_parser("sync", help="batch sync by USB stick or shared folder (docs/sync-format.md)")
    sync_sub = sync.add_subparsers(dest="sync_command", metavar="ACTION", required=True)
    s_exp = sync_sub.add_parser("export", help="write the batch package(s) for the station or each laptop, print their paths")
    s_exp.add_argument("--db", required=True, help="database file")
    s_exp.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder to write the packages to")
    s_exp.add_argument("--max-mb", type=float, default=50, help="split into several packages above this size (default 50)")
    s_exp.add_argument("--json", action="store_true", help="print the paths as JSON")
    s_imp = sync_sub.add_parser("import", help="verify and import packages, print a summary")
    s_imp.add_argument("--db", required=True, help="database file")
    s_imp.add_argument("files", type=Path, nargs="+", metavar="FILE", help="package .zip files, in batch order")
    s_imp.add_argument("--json", action="store_true", help="print the summary as JSON")

    s_push = sync_sub.add_parser("push", help="(laptop) export this laptop's batch and upload it to the station hub")
    s_push.add_argument("--db", required=True, help="the laptop's database file")
    s_push.add_argument("--url", required=True, help="the hub, e.g. http://192.168.1.10:8765")
    s_push.add_argument("files", type=Path, nargs="*", metavar="FILE",
                        help="upload these packages (e.g. from an earlier sync export) instead of a fresh export")
    s_push.add_argument("--max-mb", type=float, default=50, help="split into several packages above this size (default 50)")
    s_push.add_argument("--json", action="store_true", help="print the summary as JSON")
    s_pull = sync_sub.add_parser("pull", help="(laptop) download the station's packages from the hub and import them")
    s_pull.add_argument("--db", required=True, help="the laptop's database file")
    s_pull.add_argument("--url", required=True, help="the hub, e.g. http://192.168.1.10:8765")
    s_pull.add_argument("--json", action="store_true", help="print the summary as JSON")

    hub = sub.add_parser("hub", help="run the station's sync hub over HTTP (docs/sync-format.md \"HTTP hub\")")
    hub.add_argument("--db", required=True,
                     help="the station's database: a file, or a URL such as postgresql+psycopg://user@host/db")
    hub.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for the LAN)")
    hub.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    hub.add_argument("--data-dir", type=Path, metavar="DIR",
                     help="folder for attachments and the outbox (default: beside an SQLite file, "
                          "the user data folder for a server database)")
    hub.add_argument("--max-upload-mb", type=float, default=64, help="largest package accepted (default 64 MB)")

    devices = sub.add_parser("devices", help="laptops registered with the station for sync")
    devices_sub = devices.add_subparsers(dest="devices_command", metavar="ACTION", required=True)
    d_add = devices_sub.add_parser("add", help="(station) register a laptop and write its enrolment file")
    d_add.add_argument("--db", required=True, help="the station's database file")
    d_add.add_argument("--name", required=True, help="laptop name, e.g. 执法笔记本1")
    d_add.add_argument("--out", required=True, type=Path, metavar="FILE", help="enrolment file to write (contains a private key)")
    d_enrol = devices_sub.add_parser("enrol", help="(laptop) enrol this database with the station's enrolment file")
    d_enrol.add_argument("--db", required=True, help="the laptop's database file (created if missing)")
    d_enrol.add_argument("file", type=Path, help="enrolment file from `devices add`")
    d_list = devices_sub.add_parser("list", help="(station) list registered laptops")
    d_list.add_argument("--db", required=True, help="the station's database file")

    ver = sub.add_parser("verify", help="check the QR payload of a printed form against the database")
    ver.add_argument("--db", required=True, help="database file")
    ver.add_argument("payload", help="the QR code's text")
    return parser


def _open(db: str):
    from core.context import AppContext

    return AppContext.open(db)


def cmd_demo(args) -> int:
    from core.demo import create_demo

    ctx = _open(args.db)
    added = create_demo(ctx)
    print(f"demo station ready: {added['subjects']} subjects and {added['inspections']} inspections added")
    return EXIT_OK


def cmd_subjects_import(args) -> int:
    from core.subjects import import_subjects

    ctx = _open(args.db)
    summary = import_subjects(ctx, args.file)
    if args.json:
        print(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        print(f"imported {summary.imported}, skipped {summary.skipped}, rejected {len(summary.rejected)}")
        for row in summary.rejected:
            print(f"  row {row['row']}: {row['reason']}")
    return EXIT_OK


def cmd_inspections(args) -> int:
    from core.inspections import list_inspections

    rows = list_inspections(_open(args.db))
    if args.json:
        print(json.dumps(
            [{"id": r.id, "number": r.number, "subject": r.subject_name, "template": r.template_code,
              "status": r.status} for r in rows],
            ensure_ascii=False,
        ))
    else:
        for r in rows:
            print(f"{r.number}\t{r.status}\t{r.subject_name}\t{r.template_code}\t{r.id}")
    return EXIT_OK


def cmd_print(args) -> int:
    from core.printing import print_form

    path = print_form(_open(args.db), args.inspection, args.form, args.out)
    print(path)
    return EXIT_OK


def cmd_verify(args) -> int:
    from core.verification import verify_payload

    verdict = verify_payload(_open(args.db), args.payload)
    if verdict.ok:
        print(verdict.message)
        return EXIT_OK
    print(verdict.message, file=sys.stderr)
    return EXIT_BAD_INPUT


def cmd_events(args) -> int:
    from core.tasks import import_events

    summary = import_events(_open(args.db), args.file)
    if args.json:
        print(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        print(f"imported {summary.imported}, skipped {summary.skipped}, rejected {len(summary.rejected)}; "
              f"tasks created {summary.tasks_created}, updated {summary.tasks_updated}")
        for row in summary.rejected:
            print(f"  row {row['row']}: {row['reason']}")
    return EXIT_OK


def cmd_tasks(args) -> int:
    from core.tasks import list_tasks

    rows = list_tasks(_open(args.db), status=args.status)
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], ensure_ascii=False))
    else:
        for r in rows:
            flag = " OVERDUE" if r.overdue else ""
            print(f"{r.due}\t{r.priority}\t{r.status}{flag}\t{r.subject_name}\t{'; '.join(r.reasons)}")
    return EXIT_OK


def cmd_plan(args) -> int:
    from core.plan import make_plan

    plan = make_plan(_open(args.db), args.year, args.seed)
    if args.json:
        print(json.dumps(plan.as_dict(), ensure_ascii=False))
    else:
        print(f"{plan.year} baseline plan, seed {plan.seed}, inputs sha256 {plan.inputs_sha256}")
        print(f"{len(plan.entries)} subjects; tasks created {plan.tasks_created}, updated {plan.tasks_updated}"
              + ("" if plan.created else " (plan already adopted: nothing changed)"))
        for e in plan.entries:
            officers = "、".join(f"{o.name}({o.cert_no})" for o in e.officers)
            print(f"{e.credit_code or '-'}\t{e.subject}\t{e.reason}\t{officers}")
    return EXIT_OK


def cmd_inspectors(args) -> int:
    from core.inspectors import add_inspector, list_inspectors

    ctx = _open(args.db)
    if args.inspectors_command == "add":
        add_inspector(ctx, args.name, args.cert_no)
    for officer in list_inspectors(ctx):
        print(f"{officer.cert_no}\t{officer.name}")
    return EXIT_OK


def cmd_users(args) -> int:
    from core.users import add_user

    password = sys.stdin.readline().rstrip("\r\n")
    user = add_user(_open(args.db), name=args.name, role=args.role, password=password,
                    cert_no=args.cert_no, grid=args.grid)
    print(f"added {user.role} {user.name}")
    return EXIT_OK


def cmd_leads(args) -> int:
    from core.leads import list_leads

    rows = list_leads(_open(args.db), status=args.status)
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], ensure_ascii=False))
    else:
        for r in rows:
            flag = " OVERDUE" if r.overdue else ""
            print(f"{r.reported_at:%Y-%m-%d %H:%M}\t{r.status}{flag}\t{r.category_label}\t{r.subject}\t{r.reporter}")
    return EXIT_OK


def cmd_audit(args) -> int:
    from core.audit import verify_chain

    check = verify_chain(_open(args.db))
    if check.ok:
        print(check.message)
        return EXIT_OK
    print(check.message, file=sys.stderr)
    return EXIT_BAD_INPUT


def cmd_backup(args) -> int:
    from core.backup import make_backup

    if not Path(args.db).is_file():
        raise_bad_input(f"找不到数据库 {args.db}")
    print(make_backup(Path(args.db)))
    return EXIT_OK


def cmd_restore(args) -> int:
    from core.backup import restore_backup

    if not args.backup.is_file():
        raise_bad_input(f"找不到备份文件 {args.backup}")
    restore_backup(args.backup, Path(args.db))
    print(f"restored {args.db} from {args.backup}")
    return EXIT_OK


def cmd_sync(args) -> int:
    from core.sync import export_packages, import_packages

    if args.sync_command in ("push", "pull"):
        return cmd_sync_hub(args)
    ctx = _open(args.db)
    if args.sync_command == "export":
        paths = export_packages(ctx, args.out, max_mb=args.max_mb)
        if args.json:
            print(json.dumps([str(p) for p in paths], ensure_ascii=False))
        else:
            for path in paths:
                print(path)
        return EXIT_OK
    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        raise_bad_input(f"找不到同步包 {missing[0]}")
    summary = import_packages(ctx, args.files)
    if args.json:
        print(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        note = " (already imported: nothing changed)" if summary.already_imported else ""
        print(f"applied {summary.applied}, unchanged {summary.unchanged}, conflicts {summary.conflicts}{note}")
    return EXIT_OK


def cmd_sync_hub(args) -> int:
    from core import sync as sync_client

    if args.sync_command == "push":
        missing = [str(f) for f in args.files if not f.is_file()]
        if missing:
            raise_bad_input(f"找不到同步包 {missing[0]}")
        summary = sync_client.push(_open(args.db), args.url, args.files, max_mb=args.max_mb)
    else:
        summary = sync_client.pull(_open(args.db), args.url)
    if args.json:
        print(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        print(f"{args.sync_command}: {summary.packages} package(s); applied {summary.applied}, "
              f"unchanged {summary.unchanged}, conflicts {summary.conflicts}, "
              f"already imported {summary.already_imported}")
    return EXIT_OK


def cmd_hub(args) -> int:
    import hub
    from core.context import AppContext

    if not 0 < args.port < 65536:
        raise_bad_input(f"端口无效：{args.port}")
    if args.data_dir is not None:
        ctx = AppContext.open(args.db, attachments_dir=args.data_dir / "attachments")
        outbox = args.data_dir / "hub-outbox"
    else:
        ctx = _open(args.db)
        outbox = None

    def ready(_hub) -> None:
        print(f"hub serving {ctx.engine.url.render_as_string(hide_password=True)} "
              f"on http://{args.host}:{args.port}", flush=True)

    hub.serve(ctx, args.host, args.port, outbox=outbox, max_upload_mb=args.max_upload_mb, ready=ready)
    return EXIT_OK


def cmd_devices(args) -> int:
    from core.sync import add_device, enrol_device

    if args.devices_command == "enrol":
        try:
            data = json.loads(args.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise_bad_input(f"无法读取登记文件 {args.file}")
        ctx = _open(args.db)
        enrol_device(ctx, data if isinstance(data, dict) else {})
        print(f"enrolled as {data['device_name']} (device_no {data['device_no']}) of {data['station_name']}")
        return EXIT_OK
    ctx = _open(args.db)
    if args.devices_command == "add":
        enrolment = add_device(ctx, args.name, args.out)
        print(f"registered {enrolment['device_name']} as device_no {enrolment['device_no']}; "
              f"enrolment file {args.out} (keep it secret: it holds the laptop's private key)")
        return EXIT_OK
    from sqlalchemy import select

    from db.models import Device

    with ctx.sessions() as s:
        for device in s.scalars(select(Device).order_by(Device.device_no)):
            print(f"{device.device_no}\t{device.name}\t{device.id}")
    return EXIT_OK


def raise_bad_input(message: str) -> None:
    from core.errors import InvalidInput

    raise InvalidInput(message)


def run_gui(db: str | None) -> int:
    from gui.app import run

    return run(db)


COMMANDS = {
    "demo": cmd_demo,
    "inspections": cmd_inspections,
    "print": cmd_print,
    "verify": cmd_verify,
    "tasks": cmd_tasks,
    "plan": cmd_plan,
    "inspectors": cmd_inspectors,
    "leads": cmd_leads,
    "backup": cmd_backup,
    "restore": cmd_restore,
    "sync": cmd_sync,
    "devices": cmd_devices,
    "hub": cmd_hub,
}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from core.errors import DomainError

    try:
        if args.command is None:
            return run_gui(args.db)
        if args.command == "subjects":
            return cmd_subjects_import(args)
        if args.command == "events":
            return cmd_events(args)
        if args.command in ("users", "audit"):
            return cmd_users(args) if args.command == "users" else cmd_audit(args)
        return COMMANDS[args.command](args)
    except DomainError as exc:
        print(f"错误：{exc.message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:  # the contract: 1 and one line for anything unexpected
        if os.environ.get("YXJC_DEBUG"):  # developers: the whole traceback
            import traceback

            traceback.print_exc()
        print(f"unexpected error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
