"""The hash-chained audit log: checking that no entry was edited or removed."""
from __future__ import annotations

import sys

from pathlib import Path

from cli.app import EXIT_BAD_INPUT, EXIT_OK, open_context


def register(sub) -> None:
    """Add ``audit verify`` to the top-level subparsers."""
    audit = sub.add_parser("audit", help="the hash-chained audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    a_ver = audit_sub.add_parser(
        "verify", help="exit 0 when the chain is intact and agrees with every anchor found (the database's, "
                       "<db>.anchors, the backups', the peer's), 2 naming the first bad entry or what is missing")
    a_ver.add_argument("--db", required=True, help="database file")
    a_ver.add_argument("--anchors-from", type=Path, metavar="PEER_DB",
                       help="also check against the anchors a peer (the station's database) keeps for this one")
    a_ver.set_defaults(handler=cmd_audit_verify)


def cmd_audit_verify(args) -> int:
    from core.anchors import verify_audit

    check = verify_audit(open_context(args.db), peer_db=args.anchors_from)
    if check.ok:
        print(check.message)
        return EXIT_OK
    print(check.message, file=sys.stderr)  # the check's message is the one line: no "错误：" prefix
    return EXIT_BAD_INPUT
