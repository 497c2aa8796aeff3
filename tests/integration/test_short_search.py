"""Short searches (one or two characters) through the gram index give what the LIKE scan gives.

Migration 0019's ``subject_grams`` is kept by triggers: every add, edit (name, address,
credit code) and delete of a subject is reflected, and every query — common, rare, ASCII in
either case, LIKE's special characters, no match — finds the same subjects, in the same
order, and counts them the same, as the LIKE path (the index switched off for the context).
"""
from __future__ import annotations

import pytest
from sqlalchemy import text

from core import subjects as register
from core.deletions import delete_subject
from core.subjects import SubjectData, add_subject, count_subjects, search_subjects, update_subject

NAMES = [("太原市康宁大药房", "山西省太原市迎泽区解放路18号"), ("康宁医疗器械店", "驿城区中华路3号楼"),
         ("张记化妆品店", "西平县文明大道100%折扣街_2号"), ("王氏养老院", "健康路18号"),
         ("仁和堂药店", "太康县人民路1号"), ("Ma's 美容", "MA大厦5楼")]
QUERIES = ["康", "太原", "原", "店", "张", "药", "18", "1", "%", "_", "0%", "ma", "MA", "Ma", "a'", "'", "m",
           "龘", "龘靐", "ﬀ", "ß", "ı", "é", "5楼", "91", "q7", "Q7", "X", "x", "房", "大", "县人", "人民", "品", "美容", "机构", "其他", "药品"]


def both(ctx, query: str, **filters):
    ctx.__dict__["_has_subject_grams"] = True
    after = ([r.id for r in search_subjects(ctx, query, **filters)], count_subjects(ctx, query, **filters))
    ctx.__dict__["_has_subject_grams"] = False
    before = ([r.id for r in search_subjects(ctx, query, **filters)], count_subjects(ctx, query, **filters))
    ctx.__dict__["_has_subject_grams"] = True
    return after, before


@pytest.fixture
def shops(ctx):
    from core.demo import demo_code

    return [add_subject(ctx, SubjectData(name=n, category="cosmetics_operator", address=a,
                                         credit_code=demo_code(900 + i) if i % 2 else ""))
            for i, (n, a) in enumerate(NAMES)]


def test_the_index_answers_like_the_scan(ctx, shops):
    assert register._has_grams(ctx)
    codes = [s.credit_code for s in shops if s.credit_code]
    queries = QUERIES + [c[i:i + n] for c in codes for i in (0, 5, 16) for n in (1, 2)]
    hits = 0
    for query in queries:
        after, before = both(ctx, query)
        assert after == before, query
        hits += bool(after[1])
    assert hits > len(queries) // 2  # most queries find something: not comparing empty lists
    assert both(ctx, "康", category="cosmetics_operator") == both(ctx, "康")  # with a filter, the same
    assert both(ctx, "康", grid="没有这个网格")[0] == ([], 0)


def test_the_triggers_follow_edits_and_deletes(ctx, shops):
    shop = shops[3]
    assert [s.id for s in search_subjects(ctx, "氏养")] == [shop.id]
    update_subject(ctx, shop.id, SubjectData(name="李家养老院", category="cosmetics_operator", address="新华路9号"))
    assert search_subjects(ctx, "氏养") == [] and count_subjects(ctx, "健康") == 0
    assert [s.id for s in search_subjects(ctx, "李家")] == [shop.id] and count_subjects(ctx, "华路") == 2
    delete_subject(ctx, shop.id)
    assert search_subjects(ctx, "李家") == [] and count_subjects(ctx, "李") == 0
    with ctx.engine.connect() as conn:
        left = conn.execute(text("SELECT count(*) FROM subject_grams WHERE subject_rowid NOT IN "
                                 "(SELECT rowid FROM subjects)")).scalar()
        held = conn.execute(text("SELECT count(*) FROM subject_grams")).scalar()
    assert left == 0 and held > 100


def test_a_common_text_takes_the_name_ordered_walk(ctx, shops, monkeypatch):
    monkeypatch.setattr(register, "GRAMS_MAX", 2)
    assert not register._sparse(ctx, "店") and register._sparse(ctx, "太原")
    after, before = both(ctx, "店")
    assert after == before and after[1] == 3
