"""Oversight: trigger events, the task queue, the year's baseline plan and the officers list."""
from __future__ import annotations


from cli.app import EXIT_OK, add_delete, add_file_import, confirm_delete, need_db, open_context, print_json, print_overdue_first


def register(sub) -> None:
    """Add ``events import``, ``tasks`` (and ``tasks delete``), ``plan`` and ``inspectors`` to the
    top-level subparsers."""
    add_file_import(sub, "events", "触发事件（投诉举报、抽检不合格等）",
                    "从 .xlsx 或 .csv 导入事件（列：统一社会信用代码或名称、事件类型、发生日期、来源编号、详情）",
                    cmd_events_import)

    tasks = sub.add_parser("tasks", help="检查任务队列，最紧急的在前")
    tasks.add_argument("--db", help="数据库文件（必填）")
    tasks.add_argument("--status", choices=["open", "in_progress", "done", "cancelled"], help="只列出此状态的任务")
    tasks.add_argument("--json", action="store_true", help="以 JSON 输出")
    tasks.set_defaults(handler=cmd_tasks)
    task_actions = tasks.add_subparsers(dest="tasks_command", metavar="ACTION")
    add_delete(task_actions, "delete", "删除尚未开始的检查任务（已开始的请取消）", cmd_tasks_delete,
               ("--task", "ID", "任务编号（tasks --json 中的 id）"))

    plan = sub.add_parser("plan", help="年度基础检查计划及可复现的随机抽取（双随机）")
    plan.add_argument("--db", required=True, help="数据库文件")
    plan.add_argument("--year", required=True, type=int, help="计划年度，如 2026")
    plan.add_argument("--seed", required=True, type=int, help="随机种子；相同的种子和数据得出相同的计划")
    plan.add_argument("--json", action="store_true", help="以 JSON 输出")
    plan.set_defaults(handler=cmd_plan)

    # `inspectors` alone lists; `inspectors add` adds, then lists
    insp_list = sub.add_parser("inspectors", help="本所执法人员名录")
    insp_list.add_argument("--db", help="数据库文件（必填）")
    insp_list.set_defaults(handler=cmd_inspectors)
    insp_sub = insp_list.add_subparsers(dest="inspectors_command", metavar="ACTION")
    insp_add = insp_sub.add_parser("add", help="添加执法人员")
    insp_add.add_argument("--db", required=True, help="数据库文件")
    insp_add.add_argument("--name", required=True, help="姓名")
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

    return print_overdue_first(args, list_tasks(open_context(need_db(args, "tasks")), status=args.status), lambda r, flag: (
        f"{r.due}\t{r.priority_label}\t{r.status_label}{flag}\t{r.subject_name}\t{'；'.join(r.reasons)}"))


def cmd_tasks_delete(args) -> int:
    from core.deletions import delete_task
    from core.tasks import get_task

    ctx = open_context(args.db)
    task = get_task(ctx, args.task)
    confirm_delete(args, f"“{task.subject_name}”的检查任务（截止 {task.due}，{task.status_label}）")
    delete_task(ctx, task.id)
    print(f"已删除“{task.subject_name}”的检查任务；下次同步时各笔记本上也会删除")
    return EXIT_OK


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

    _print_inspectors(list_inspectors(open_context(need_db(args, "inspectors"))))
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
