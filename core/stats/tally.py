"""检查家次 and 检查户数 of the breakdowns with a short list of keys, counted in one pass (SQLite).

Each ``GROUP BY key … COUNT(DISTINCT subject)`` sorts the period's rows once (SQLite has no hash
aggregation): seven breakdowns, seven sorts. For the breakdowns whose keys come from a known,
short list — 药/械/化, category, kind, origin, month and station — ``tally`` sorts once instead,
by subject (an integer, the subject's rowid), and packs each breakdown's per-subject counts into
integers: key number ``k`` of a breakdown counts in bits ``k·b … k·b+b-1`` of
``SUM(1 << k·b)``, so one sum per breakdown (several where the list is longer than 63/b keys)
holds how many of the subject's inspections had each key. The outer query unpacks them: a key's
家次 is the sum of its counts over the subjects, its 户数 the number of subjects whose count is not 0.

Exact, never an estimate: ``b`` is chosen so that no count can reach ``2^b`` (the outer query
returns the largest number of inspections of one subject; if it does not fit, the pass is run
again with more bits), and a breakdown for which any row's key is not on its list (the decoded
家次 do not add up to the period's count: an unknown category or kind) is left out of the result,
and the caller counts it with its ``GROUP BY`` as before. Grid (free text, hundreds of keys) and
inspector (several rows per inspection) are not packed. The drill-down is unchanged: it filters
the base tables with the same expressions (``common.DIMENSIONS``) the period table was filled with.
"""
from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from core.stats.common import DOMAIN_LABELS, KIND_LABELS, ORIGIN_LABELS
from core.stats.period import Period
from core.subjects import CATEGORIES
from db.models import StationDevice

BITS = 6  # per key and subject: up to 63 inspections of one subject with one key, else more bits
WORD = 63  # usable bits of SQLite's 64-bit integer (the sign bit left alone)
MAX_MONTHS = 60  # a longer period counts its months with GROUP BY


def months(period: Period) -> list[str]:
    """'YYYY-MM' of every month the period touches (the by_month keys a signed record can have)."""
    out, year, month = [], period.start.year, period.start.month
    while (year, month) <= (period.end.year, period.end.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def vocabularies(session: Session, period: Period, several: bool) -> dict[str, list[str]]:
    """Breakdown → the keys its period-table column can hold (``coalesce(column, '')``)."""
    out = {"by_domain": list(DOMAIN_LABELS), "by_category": list(CATEGORIES), "by_kind": list(KIND_LABELS),
           "by_origin": list(ORIGIN_LABELS)}
    if len(found := months(period)) <= MAX_MONTHS:
        out["by_month"] = found
    if several:  # common.STATION: the device's station in station_devices, '' for this database's own
        out["by_station"] = ["", *sorted(set(session.scalars(select(StationDevice.station).distinct())) - {""})]
    return out


def tally(session: Session, table: str, vocab: dict[str, list[str]], bits: int = BITS) -> dict[str, list[tuple]]:
    """Breakdown → [(key, 家次, 户数)] for its keys with records, for each breakdown of ``vocab``
    whose every row of ``table`` has a key on its list (the others are left out)."""
    per = WORD // bits
    mask = (1 << bits) - 1
    params: dict[str, object] = {}
    packed: list[str] = []  # inner sums, one per word
    slots: list[tuple[str, str, int, int]] = []  # (breakdown, key, word, shift)
    for d, (name, keys) in enumerate(vocab.items()):
        if not keys:
            continue
        whens = []
        for k, key in enumerate(keys):
            params[f"v{d}_{k}"] = key
            whens.append(f"WHEN :v{d}_{k} THEN {k}")
        slot = f"(CASE coalesce({name}, '') {' '.join(whens)} END)"  # NULL for a key not on the list
        for first in range(0, len(keys), per):
            last = min(first + per, len(keys)) - 1
            if first == 0 and last == len(keys) - 1:
                packed.append(f"sum(1 << ({slot} * {bits}))")
            else:
                packed.append(f"sum(CASE WHEN {slot} BETWEEN {first} AND {last} "
                              f"THEN 1 << (({slot} - {first}) * {bits}) END)")
            slots.extend((name, keys[k], len(packed) - 1, (k - first) * bits) for k in range(first, last + 1))
    if not slots:
        return {}
    inner = ", ".join(f"{expr} AS w{i}" for i, expr in enumerate(packed))
    outer = ", ".join(f"sum((w{w} >> {shift}) & {mask}), sum(((w{w} >> {shift}) & {mask}) > 0)"
                      for _name, _key, w, shift in slots)
    statement = text(f"SELECT max(n), sum(n), {outer} FROM "
                     f"(SELECT count(*) AS n, {inner} FROM {table} GROUP BY subject_key)")
    try:
        row = session.execute(statement, params).one()
    except OperationalError as exc:  # a subject's counts overflowed a word: wide enough for the whole table
        if "overflow" not in str(exc.orig) or bits > WORD // 2:
            raise
        rows = session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        return tally(session, table, vocab, max(bits + 1, rows.bit_length()))
    largest, total = row[0] or 0, row[1] or 0
    if largest > mask:  # a count spilled into the next key's bits: again, wide enough
        return tally(session, table, vocab, largest.bit_length())
    out: dict[str, list[tuple]] = {}
    for i, (name, key, _w, _shift) in enumerate(slots):
        inspections, households = row[2 + 2 * i] or 0, row[3 + 2 * i] or 0
        found = out.setdefault(name, [])
        if inspections:
            found.append((key, inspections, households))
    return {name: rows for name, rows in out.items() if sum(r[1] for r in rows) == total}
