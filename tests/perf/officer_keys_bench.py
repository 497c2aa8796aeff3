"""Officers' signing keys (core.officer_keys): what one signature check, one signing and one
key unwrap cost. Figures for docs/performance.md; nothing is asserted.

    python -m tests.perf.officer_keys_bench [--n 4000] [--json]

``check`` is ``core.officer_keys.check_signatures`` as every import runs it per signed
inspection (two officers: two Ed25519 verifications, the messages built, the keys' validity
checked), divided by the number of signatures; ``sign`` one Ed25519 signature of the signing
message; ``unwrap`` one password unwrap of an officer's key (scrypt n = 2^15), paid once per
officer at signing.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def run(n: int) -> dict:
    from core.inspections import OfficerData
    from core.keywrap import unwrap_with_password, wrap_with_password
    from core.officer_keys import PublicKey, _aad, check_signatures, signing_message
    from core.signing import new_key_pair, sign
    from db.models import new_uuid

    when = datetime(2026, 6, 1, 10, 0)
    officers = [OfficerData("王建国", "41170021001"), OfficerData("李秀英", "41170021002")]
    pairs = [new_key_pair() for _ in officers]
    keys = {}
    for officer, (_private, public) in zip(officers, pairs):
        keys[new_uuid()] = PublicKey(new_uuid(), officer.cert_no, public, when - timedelta(days=30), None)
    key_ids = list(keys)
    records = []
    t0 = time.perf_counter()
    for i in range(n):
        rid, digest = new_uuid(), f"{i:064x}"
        rows = []
        for position, officer in enumerate(officers):
            key = keys[key_ids[position]]
            message = signing_message(digest, rid, position, officer.cert_no, key.user_id, key_ids[position])
            rows.append({"position": position, "cert_no": officer.cert_no, "key_id": key_ids[position],
                         "signature": sign(pairs[position][0], message).hex()})
        records.append((rid, digest, rows))
    sign_us = (time.perf_counter() - t0) / (n * len(officers)) * 1e6
    t0 = time.perf_counter()
    held = 0
    for rid, digest, rows in records:
        held += len(check_signatures(rid, digest, when, officers, rows, keys).held)
    check_us = (time.perf_counter() - t0) / (n * len(officers)) * 1e6
    assert held == n * len(officers)
    # the floor: a bare Ed25519 verification with a parsed key (what the check cannot go under)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(pairs[0][1]))
    rid, digest, rows = records[0]
    message = signing_message(digest, rid, 0, officers[0].cert_no, keys[key_ids[0]].user_id, key_ids[0])
    signature = bytes.fromhex(rows[0]["signature"])
    t0 = time.perf_counter()
    for _ in range(n):
        public.verify(signature, message)
    bare_us = (time.perf_counter() - t0) / n * 1e6
    wrapped = wrap_with_password(bytes.fromhex(pairs[0][0]), "a password", aad=_aad("u", "k"))
    unwrap = []
    for _ in range(5):
        t0 = time.perf_counter()
        unwrap_with_password(wrapped, "a password", aad=_aad("u", "k"))
        unwrap.append((time.perf_counter() - t0) * 1000)
    return {"signatures": n * len(officers), "check_us_per_signature": round(check_us, 1),
            "bare_verify_us": round(bare_us, 1),
            "sign_us_per_signature": round(sign_us, 1), "unwrap_ms": round(statistics.median(unwrap), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf.officer_keys_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=4000, help="signed inspections (two officers each)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    r = run(args.n)
    if args.json:
        print(json.dumps(r))
    else:
        print(f"officer signature check  {r['check_us_per_signature']:>8.1f} µs per signature ({r['signatures']} checked)")
        print(f"bare Ed25519 verify      {r['bare_verify_us']:>8.1f} µs (the floor, same run)")
        print(f"officer signature        {r['sign_us_per_signature']:>8.1f} µs per signature")
        print(f"officer key unwrap       {r['unwrap_ms']:>8.1f} ms per officer at signing (scrypt n=2^15)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
