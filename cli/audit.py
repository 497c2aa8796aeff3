"""The hash-chained audit log: checking that no entry was edited or removed."""
from __future__ import annotations

import sys

from cli.app import EXIT_BAD_INPUT, EXIT_OK, open_context


def register(sub) -> None:
    """Add ``audit verify`` to the top-level subparsers."""
    audit = sub.add_parser("audit", help="the hash-chained audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    a_ver = audit_sub.add_parser("verify", help="exit 0 when the chain is intact, 2 naming the first bad entry")
    a_ver.add_argument("--db", required=True, help="database file")
    a_ver.set_defaults(handler=cmd_audit_verify)


def cmd_audit_verify(args) -> int:
    from core.audit import verify_chain

    check = verify_chain(open_context(args.db))
    if check.ok:
        print(check.message)
        return EXIT_OK
    print(check.message, file=sys.stderr)  # the check's message is the one line: no "错误：" prefix
    return EXIT_BAD_INPUT
