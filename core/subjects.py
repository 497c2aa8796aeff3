"""The register of subjects (监管对象): add, edit, search (the import is ``core.register_import``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select
from sqlalchemy import text as text_sql
from sqlalchemy.orm import Session

from core import creditcode
from core.errors import InvalidInput, NotFound
from core.station_filter import station_clause
from core.users import require
from db.models import Subject

if TYPE_CHECKING:
    from core.context import AppContext

CATEGORIES = {
    "cosmetics_operator": "化妆品经营者",
    "device_operator": "医疗器械经营者",  # 批零兼营, or not told apart
    "device_wholesaler": "医疗器械批发企业",
    "device_retailer": "医疗器械零售企业",
    "device_cold_chain": "医疗器械冷链经营企业（体外诊断试剂等）",
    "drug_retailer": "药品零售企业",
    "medical_beauty": "医疗美容机构",
    "elderly_care": "养老机构",
    "other": "其他",
}
CATEGORY_BY_LABEL = {label: code for code, label in CATEGORIES.items()}
STATUSES = {"active": "在营", "closed": "停业", "cancelled": "注销"}


@dataclass
class SubjectData:
    """What a person enters for a subject."""

    name: str
    category: str
    credit_code: str = ""
    licence_no: str = ""
    filing_no: str = ""
    legal_rep: str = ""
    address: str = ""
    phone: str = ""
    grid: str = ""
    status: str = "active"


@dataclass(frozen=True)
class SubjectRow:
    """A subject as lists and pages show it."""

    id: str
    name: str
    credit_code: str
    category: str
    licence_no: str
    filing_no: str
    legal_rep: str
    address: str
    phone: str
    grid: str
    status: str
    grade: int | None = None

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, self.category)

    @property
    def flagged(self) -> bool:
        """No credit code: allowed (small individual businesses), but flagged."""
        return not self.credit_code


def _row(s: Subject) -> SubjectRow:
    return SubjectRow(
        id=s.id, name=s.name, credit_code=s.credit_code or "", category=s.category,
        licence_no=s.licence_no, filing_no=s.filing_no, legal_rep=s.legal_rep,
        address=s.address, phone=s.phone, grid=s.grid, status=s.status, grade=s.grade,
    )


def licence_warnings(data: SubjectData) -> list[str]:
    """Lenient checks of licence/filing numbers: warnings only, never a refusal."""
    warnings = []
    for label, value in (("许可证号", data.licence_no), ("备案号", data.filing_no)):
        value = value.strip()
        if value and (len(value) < 6 or not any(ch.isdigit() for ch in value)):
            warnings.append(f"{label}“{value}”格式不常见，请核对")
    return warnings


def _clean(data: SubjectData) -> SubjectData:
    name = data.name.strip()
    if not name:
        raise InvalidInput("名称不能为空")
    if data.category not in CATEGORIES:
        raise InvalidInput(f"未知的类别“{data.category}”")
    if data.status not in STATUSES:
        raise InvalidInput(f"未知的状态“{data.status}”")
    code = creditcode.normalize(data.credit_code)
    if code:
        reason = creditcode.problem(code)
        if reason:
            raise InvalidInput(reason)
    return SubjectData(
        name=name, category=data.category, credit_code=code,
        licence_no=data.licence_no.strip(), filing_no=data.filing_no.strip(),
        legal_rep=data.legal_rep.strip(), address=data.address.strip(),
        phone=data.phone.strip(), grid=data.grid.strip(), status=data.status,
    )


def subject_in(session: Session, subject_id: str) -> Subject:
    """The subject, inside the caller's session, or a clear NotFound."""
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise NotFound("找不到该监管对象")
    return subject


def _check_code_free(session: Session, code: str, *, except_id: str | None = None) -> None:
    if not code:
        return
    other = session.scalar(select(Subject).where(Subject.credit_code == code))
    if other is not None and other.id != except_id:
        raise InvalidInput(f"统一社会信用代码 {code} 已登记为“{other.name}”")


def add_subject(ctx: AppContext, data: SubjectData) -> SubjectRow:
    require(ctx, "subjects")
    data = _clean(data)
    with ctx.transaction() as s:
        _check_code_free(s, data.credit_code)
        subject = Subject(device_id=ctx.device_id, **_fields(data))
        s.add(subject)
        s.flush()
        return _row(subject)


def update_subject(ctx: AppContext, subject_id: str, data: SubjectData) -> SubjectRow:
    require(ctx, "subjects")
    data = _clean(data)
    with ctx.transaction() as s:
        subject = subject_in(s, subject_id)
        _check_code_free(s, data.credit_code, except_id=subject_id)
        for key, value in _fields(data).items():
            setattr(subject, key, value)
        s.flush()
        return _row(subject)


def _fields(data: SubjectData) -> dict:
    fields = dict(data.__dict__)
    fields["credit_code"] = fields["credit_code"] or None
    return fields


def get_subject(ctx: AppContext, subject_id: str) -> SubjectRow:
    with ctx.sessions() as s:
        return _row(subject_in(s, subject_id))


def find_subject(ctx: AppContext, key: str) -> SubjectRow:
    """The subject named on a command line: by its id or its 统一社会信用代码."""
    key = (key or "").strip()
    with ctx.sessions() as s:
        subject = s.get(Subject, key) or (s.scalar(select(Subject).where(Subject.credit_code == key.upper()))
                                          if key else None)
        if subject is None:
            raise NotFound(f"找不到监管对象“{key}”（请给出编号或统一社会信用代码）")
        return _row(subject)


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


FTS_MIN = 3  # the trigram index answers substrings of three characters or more
# Shorter text goes through ``subject_grams`` (migration 0019: the distinct characters and
# pairs of names, addresses and credit codes) unless more subjects than this hold it: then
# the name-ordered LIKE walk fills a page sooner than sorting them all (a page of 200 among
# 2,000 of 50,000 subjects: ~5,000 rows walked ≈ sorting 2,000; docs/performance.md).
GRAMS_MAX = 2000


def _has_fts(ctx: AppContext) -> bool:
    cached = ctx.__dict__.get("_has_subjects_fts")
    if cached is None:
        from sqlalchemy import inspect as sa_inspect

        cached = sa_inspect(ctx.engine).has_table("subjects_fts")
        ctx.__dict__["_has_subjects_fts"] = cached
    return cached


def _has_grams(ctx: AppContext) -> bool:
    cached = ctx.__dict__.get("_has_subject_grams")
    if cached is None:
        from sqlalchemy import inspect as sa_inspect

        cached = sa_inspect(ctx.engine).has_table("subject_grams")
        ctx.__dict__["_has_subject_grams"] = cached
    return cached


_GRAM_MATCHES = "SELECT subject_rowid FROM subject_grams WHERE gram = lower(:gram_q)"  # one or two characters


def _gram_query(ctx: AppContext, text: str) -> bool:
    """Whether the gram index answers ``text`` exactly as the LIKE path would: one or two
    characters, none whose upper case (the credit-code pattern) turns into ASCII or into
    more characters (ß → SS, ﬀ → FF, ı → I)."""
    upper = text.upper()
    return (0 < len(text) < FTS_MIN and len(upper) == len(text)
            and all(a.isascii() == b.isascii() for a, b in zip(text, upper)) and _has_grams(ctx))


def _sparse(ctx: AppContext, text: str) -> bool:
    """Whether at most ``GRAMS_MAX`` subjects hold a short ``text`` in their name, address or code."""
    with ctx.sessions() as s:
        held = s.execute(text_sql(f"SELECT count(*) FROM ({_GRAM_MATCHES} LIMIT :cap)"),
                         {"gram_q": text, "cap": GRAMS_MAX + 1}).scalar()
    return held <= GRAMS_MAX


def _filtered(ctx: AppContext, query, text: str, category: str | None, grid: str | None, status: str | None,
              station: str | None = None):
    """``query`` narrowed to the subjects matching ``text`` and the filters (``station``: a county's
    database, the subjects registered by that station's devices)."""
    text = text.strip()
    # 化妆品 finds every 化妆品经营者: the text is matched against the category's name too
    categories = [code for code, label in CATEGORIES.items() if text and text in label]
    by_category = Subject.category.in_(categories) if categories else None
    if text and len(text) >= FTS_MIN and _has_fts(ctx):
        phrase = '"' + text.replace('"', '""') + '"'
        clause = text_sql("subjects.rowid IN (SELECT rowid FROM subjects_fts WHERE subjects_fts MATCH :q)").bindparams(q=phrase)
        query = query.where(clause if by_category is None else or_(clause, by_category))
    elif _gram_query(ctx, text) and (by_category is not None or _sparse(ctx, text)):
        # one or two characters: their subjects' rowids from the gram index — alone when few
        # hold them; with a category's (药, 美容: many subjects, the name-ordered walk) no LIKE
        grams = text_sql(f"subjects.rowid IN ({_GRAM_MATCHES})").bindparams(gram_q=text)
        query = query.where(grams if by_category is None else or_(by_category, grams))
    elif text:
        # the name-ordered walk: short text held by many subjects (a page comes quickly), or no index
        pattern = like_pattern(text)
        code_pattern = like_pattern(text.upper())
        parts = [Subject.name.like(pattern, escape="\\"), Subject.address.like(pattern, escape="\\"),
                 Subject.credit_code.like(code_pattern, escape="\\")]
        query = query.where(or_(*parts, *([by_category] if by_category is not None else [])))
    if category:
        query = query.where(Subject.category == category)
    if grid:
        query = query.where(Subject.grid == grid)
    if status:
        query = query.where(Subject.status == status)
    if station:
        query = query.where(station_clause(ctx, Subject.device_id, station))
    return query


def search_subjects(ctx: AppContext, text: str = "", *, category: str | None = None, grid: str | None = None,
                    status: str | None = None, station: str | None = None, limit: int = 200,
                    offset: int = 0) -> list[SubjectRow]:
    """Subjects whose name, address, credit code or category contains ``text`` (any part, Chinese
    too), narrowed by category, grid and status; a page of ``limit`` from ``offset``.

    Three characters or more go through the FTS5 trigram index; one or two through the
    gram index (``subject_grams``) when few subjects hold them, else the LIKE walk in name
    order, which soon fills a page of a common text (both: SQLite; PostgreSQL: LIKE).
    """
    query = select(Subject).order_by(Subject.name, Subject.id).limit(limit).offset(offset)
    query = _filtered(ctx, query, text, category, grid, status, station)
    with ctx.sessions() as s:
        return [_row(subject) for subject in s.scalars(query)]


def count_subjects(ctx: AppContext, text: str = "", *, category: str | None = None, grid: str | None = None,
                   status: str | None = None, station: str | None = None) -> int:
    """How many subjects ``search_subjects`` with the same text and filters finds in all its pages."""
    short = text.strip()
    if (not (category or grid or status or station) and _gram_query(ctx, short)
            and not any(short in label for label in CATEGORIES.values())):
        # from the gram index alone, however many hold it (no filter to check row by row)
        with ctx.sessions() as s:
            return s.execute(text_sql(f"SELECT count(*) FROM ({_GRAM_MATCHES})"), {"gram_q": short}).scalar()
    query = _filtered(ctx, select(func.count(Subject.id)), text, category, grid, status, station)
    with ctx.sessions() as s:
        return s.scalar(query) or 0


def list_grids(ctx: AppContext) -> list[str]:
    """The grids the register names, for the lists' filters."""
    with ctx.sessions() as s:
        return list(s.scalars(select(Subject.grid).where(Subject.grid != "").distinct().order_by(Subject.grid)))
