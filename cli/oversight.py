"""Oversight: trigger events, the task queue, the year's baseline plan and the officers list."""
from __future__ import annotations


from cli.app import EXIT_OK, add_file_import, open_context, print_json, print_overdue_first


def register(sub) -> None:
    """Add ``events import``, ``tasks``, ``plan`` and ``inspectors`` to the top-level subparsers."""
    add_file_import(sub, "events", "trigger events (投诉举报, 抽检不合格...)",
                    "import events from .xlsx or .csv (columns 统一社会信用代码 or 名称, 事件类型, 发生日期, 来源编号, 详情)",
                    cmd_events_import)

    tasks = sub.add_parser("tasks", help="the inspection task queue, most urgent first")
    tasks.add_argument("--db", required=True, help="database file")
    tasks.add_argument("--status", choices=["open", "in_progress", "done", "cancelled"], help="only tasks in this status")
    tasks.add_argument("--json", action="store_true", help="print as JSON")
    tasks.set_defaults(handler=cmd_tasks)

    plan = sub.add_parser("plan", help="the year's baseline plan with its reproducible random draw (双随机)")
    plan.add_argument("--db", required=True, help="database file")
    plan.add_argument("--year", required=True, type=int, help="plan year, e.g. 2026")
    plan.add_argument("--seed", required=True, type=int, help="random seed; the same seed and data give the same plan")
    plan.add_argument("--json", action="store_true", help="print as JSON")
    plan.set_defaults(handler=cmd_plan)

    # `inspectors` alone lists; `inspectors add` adds, then lists
    insp_list = sub.add_parser("inspectors", help="the station's list of enforcement officers")
    insp_list.add_argument("--db", required=True, help="database file")
    insp_list.set_defaults(handler=cmd_inspectors)
    insp_sub = insp_list.add_subparsers(dest="inspectors_command", metavar="ACTION")
    insp_add = insp_sub.add_parser("add", help="add an officer")
    insp_add.add_argument("--db", required=True, help="database file")
    insp_add.add_argument("--name", required=True, help="name")
    insp_add.add_argument("--cert-no", required=True, help="执法证号")
    insp_add.set_defaults(handler=cmd_inspectors_add)


def cmd_events_import(args) -> int:
    from core.tasks import import_events

    summary = import_events(open_context(args.db), args.file)
    if args.json:
        print_json(summary.as_dict())
    else:
        print(f"导入 {summary.imported} 条，跳过（已存在）{summary.skipped} 条，拒绝 {len(summary.rejected)} 行；"
              f"新建任务 {summary.tasks_created} 个，更新 {summary.tasks_updated} 个")
        for row in summary.rejected:
            print(f"  第 {row['row']} 行：{row['reason']}")
    return EXIT_OK


def cmd_tasks(args) -> int:
    from core.tasks import list_tasks

    return print_overdue_first(args, list_tasks(open_context(args.db), status=args.status), lambda r, flag: (
        f"{r.due}\t{r.priority_label}\t{r.status_label}{flag}\t{r.subject_name}\t{'；'.join(r.reasons)}"))


def cmd_plan(args) -> int:
    from core.plan import make_plan

    plan = make_plan(open_context(args.db), args.year, args.seed)
    if args.json:
        print_json(plan.as_dict())
    else:
        print(f"{plan.year} 年度基础检查计划，随机种子 {plan.seed}，输入数据 SHA-256 {plan.inputs_sha256}")
        print(f"{len(plan.entries)} 个监管对象；新建任务 {plan.tasks_created} 个，更新 {plan.tasks_updated} 个"
              + ("" if plan.created else "（该年度计划已采用，未作任何更改）"))
        for e in plan.entries:
            officers = "、".join(f"{o.name}({o.cert_no})" for o in e.officers)
            print(f"{e.credit_code or '-'}\t{e.subject}\t{e.reason}\t{officers}")
    return EXIT_OK


def cmd_inspectors(args) -> int:
    from core.inspectors import list_inspectors

    _print_inspectors(list_inspectors(open_context(args.db)))
    return EXIT_OK


def cmd_inspectors_add(args) -> int:
    from core.inspectors import add_inspector, list_inspectors

    ctx = open_context(args.db, create=True)
    add_inspector(ctx, args.name, args.cert_no)
    _print_inspectors(list_inspectors(ctx))
    return EXIT_OK


def _print_inspectors(officers) -> None:
    for officer in officers:
        print(f"{officer.cert_no}\t{officer.name}")
