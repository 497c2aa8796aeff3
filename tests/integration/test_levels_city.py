"""Levels, the whole way (docs/levels.md): laptop → station → county → city, and back down.

The city is the county's hub the way the county is the station's: the county enrols at the city with
``devices add --station`` there, forwards its stations' records (and its own) upward, and the city
files each creating device as ``<county>/<station>``, so ``stats --station`` works there at once and
two counties' stations of the same name stay apart. Down, the city's task for a subject goes to the
county, then to the station that holds it, then to its laptop, and a tombstone follows the same way.
SQLite at every level (the PostgreSQL county is covered by tests/integration/test_levels.py).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from core import inspections as svc
from core import sync
from core.audit import verify_chain
from core.context import AppContext
from core.deletions import delete_task
from core.stats import Period, report
from core.subjects import SubjectData, add_subject
from core.sync.devices import upstream
from core.tasks import list_tasks, record_event
from db.models import Inspection, StationDevice, Subject, User
import pytest

from core.errors import InvalidInput
from core.users import add_user, update_user
from tests.conftest import OFFICERS_DATA
from tests.integration.helpers import register_officers, signed_inspection
from tests.integration.test_levels import (A, B, B_OFFICERS, COUNTY, SHOP, _laptop, _named, _peer, _station, count,
                                          exchange, records_in)

CITY, COUNTY_1, COUNTY_2, STATION = "驻马店市市场监督管理局", "驿城区市场监督管理局", "遂平县市场监督管理局", "城关所"


def _member(hub: AppContext, tmp_path, name: str, officers=()) -> AppContext:
    ctx = _named(AppContext.open(tmp_path / f"{name}.db", attachments_dir=tmp_path / f"{name}-att"), name)
    if officers:
        register_officers(ctx, officers)
    assert sync.join(ctx, sync.add_device(hub, name, kind="station")) == "station"
    assert upstream(ctx)[1] == hub.setting("station_name")
    return ctx


def test_laptop_station_county_city_and_back(tmp_path):
    city = _named(AppContext.open(tmp_path / "city.db", attachments_dir=tmp_path / "city-att"), CITY)
    one, two = _member(city, tmp_path, COUNTY_1), _member(city, tmp_path, COUNTY_2)
    # two counties, each with a station called 城关所 and that station's laptop
    (tmp_path / "1").mkdir()
    (tmp_path / "2").mkdir()
    s1, s2 = _member(one, tmp_path / "1", STATION, OFFICERS_DATA), _member(two, tmp_path / "2", STATION, B_OFFICERS)
    l1, l2 = _laptop(s1, tmp_path / "1", "l1"), _laptop(s2, tmp_path / "2", "l2", "遂")
    opened = [city, one, two, s1, s2, l1, l2]
    try:
        exchange(s1, l1, tmp_path)  # the officers, to sign with
        exchange(s2, l2, tmp_path)
        shop1 = add_subject(l1, SubjectData(name="驿城区城关现场登记的店", **SHOP))
        shop2 = add_subject(l2, SubjectData(name="遂平县城关现场登记的店", **SHOP))
        signed_inspection(l1, shop1.id, [svc.OfficerData(n, c) for n, c in OFFICERS_DATA])
        signed_inspection(l2, shop2.id, [svc.OfficerData(n, c) for n, c in B_OFFICERS], failures={})
        for laptop, station, county in ((l1, s1, one), (l2, s2, two)):
            exchange(laptop, station, tmp_path)
            assert exchange(station, county, tmp_path)[0].conflicts == 0
            assert exchange(county, city, tmp_path)[0].conflicts == 0

        # the city holds both counties' work, each device filed under <county>/<station>
        assert count(city, Subject) == 2 and count(city, Inspection, status="signed") == 2
        assert count(one, Subject) == count(two, Subject) == 1  # a county: only its own stations'
        with city.sessions() as s:
            filed = dict(s.execute(select(StationDevice.device_id, StationDevice.station)).all())
        assert filed[l1.device_id] == filed[s1.device_id] == f"{COUNTY_1}/{STATION}"
        assert filed[l2.device_id] == filed[s2.device_id] == f"{COUNTY_2}/{STATION}"
        today = date.today()
        period = Period.quarter(today.year, (today.month - 1) // 3 + 1)
        everyone = report(city, period)
        assert everyone["inspections"]["total"] == 2
        for name, station in ((f"{COUNTY_1}/{STATION}", s1), (f"{COUNTY_2}/{STATION}", s2)):
            assert report(city, period, stations=[name])["inspections"]["total"] == \
                report(station, period)["inspections"]["total"] == 1

        # down: the city's task for county 1's shop reaches that county, its station and its laptop,
        # and nothing of it goes to county 2; then the city withdraws it and the tombstone follows
        below = [one, s1, l1, two, s2, l2]
        before = [{t.id for t in list_tasks(ctx)} for ctx in below]
        ahead = {t.id for t in list_tasks(city)}
        assert record_event(city, shop1.id, "complaint", today, details="市局转办投诉").task_created
        [task] = [t for t in list_tasks(city) if t.id not in ahead]
        for source, target in ((city, one), (city, two), (one, s1), (two, s2), (s1, l1), (s2, l2)):
            exchange(source, target, tmp_path)
        new = [{t.id for t in list_tasks(ctx)} - seen for ctx, seen in zip(below, before)]
        assert new == [{task.id}] * 3 + [set()] * 3
        delete_task(city, task.id)
        for source, target in ((city, one), (one, s1), (s1, l1)):
            exchange(source, target, tmp_path)
        assert [{t.id for t in list_tasks(ctx)} for ctx in below] == before
        assert all(verify_chain(ctx).ok for ctx in opened)
    finally:
        for ctx in opened:
            ctx.close()


def test_two_stations_with_the_same_number_prefix_are_told_what_to_change(tmp_path):
    """Both stations' laptops number their first record alike (城市监药检〔year〕1-0001号): the county cannot
    hold both, and says so in one line naming the number and the station that has it."""
    county = _named(AppContext.open(tmp_path / "county.db", attachments_dir=tmp_path / "county-att"), COUNTY)
    a, b = _station(county, tmp_path, A, OFFICERS_DATA), _station(county, tmp_path, B, B_OFFICERS)
    a1, b1 = _laptop(a, tmp_path, "a1"), _laptop(b, tmp_path, "b1")  # the same prefix, 城
    opened = [county, a, b, a1, b1]
    try:
        exchange(a, a1, tmp_path)
        exchange(b, b1, tmp_path)
        for laptop, officers, station in ((a1, OFFICERS_DATA, a), (b1, B_OFFICERS, b)):
            shop = add_subject(laptop, SubjectData(name=f"{laptop.setting('sync.device_name')}登记的店", **SHOP))
            signed_inspection(laptop, shop.id, [svc.OfficerData(n, c) for n, c in officers], failures={})
            exchange(laptop, station, tmp_path)
        exchange(a, county, tmp_path)
        before = count(county, Inspection), count(county, Subject)
        with pytest.raises(InvalidInput, match=f"检查记录编号“城市监药检〔{date.today().year}〕[-0-9]+号”在本级已被“{A}”"
                                               "的另一份文书使用：同一上级下各站所的文书编号前缀必须各不相同"):
            exchange(b, county, tmp_path)
        assert (count(county, Inspection), count(county, Subject)) == before == (1, 1)
    finally:
        for ctx in opened:
            ctx.close()


def test_two_stations_users_of_one_name_or_one_cert_are_told_what_to_change(tmp_path):
    """Each station keeps its own list of users; the county holds all of them, so a second 管理员,
    or one officer registered at two stations, is refused in one line; renamed, it goes up."""
    county = _named(AppContext.open(tmp_path / "county.db", attachments_dir=tmp_path / "county-att"), COUNTY)
    a = _station(county, tmp_path, A, OFFICERS_DATA)
    b = _station(county, tmp_path, B, [B_OFFICERS[0], ("王建国二", OFFICERS_DATA[0][1])])
    opened = [county, a, b]
    try:
        add_user(a, name="管理员", role="admin", password="Abcdef-123456")
        admin_b = add_user(b, name="管理员", role="admin", password="Abcdef-123456")
        exchange(a, county, tmp_path)
        users = count(county, User)
        with pytest.raises(InvalidInput, match=f"的用户“管理员”在本级已有同名用户（“{A}”的）：同一上级下各站所的用户姓名必须各不相同"):
            exchange(b, county, tmp_path)
        update_user(b, admin_b.id, name="管理员（西园所）", role="admin", cert_no="", grid="")
        with pytest.raises(InvalidInput, match=f"的执法证号 {OFFICERS_DATA[0][1]} 在本级已由“{A}”登记：同一执法人员只能在一个站所登记"):
            exchange(b, county, tmp_path)
        assert count(county, User) == users
    finally:
        for ctx in opened:
            ctx.close()


def test_a_lost_package_up_costs_nothing(tmp_path):
    """As between a laptop and its station: until the county acknowledges, the next package up
    carries the lost one's records again (the station's ``sync_base`` says "sent", not "received");
    what the county itself sent down is still not echoed back up."""
    county = _named(AppContext.open(tmp_path / "county.db", attachments_dir=tmp_path / "county-att"), COUNTY)
    a = _station(county, tmp_path, A, OFFICERS_DATA)
    try:
        shop = add_subject(a, SubjectData(name="城关所登记的店", **SHOP))
        lost = records_in(sync.export_packages(a, tmp_path / "lost", peer=_peer(a, county)))
        again = records_in(sync.export_packages(a, tmp_path / "again", peer=_peer(a, county)))
        assert sorted(lost) == sorted(again) == ["officer_keys", "subjects", "users"]
        assert [r["id"] for r in again["subjects"]] == [shop.id] and len(again["users"]) == len(OFFICERS_DATA)
        exchange(a, county, tmp_path)
        assert count(county, Subject, id=shop.id) == 1
        county_shop = add_subject(county, SubjectData(name="县局登记的店", **SHOP))
        exchange(county, a, tmp_path)  # down, with the county's acknowledgement
        up = records_in(sync.export_packages(a, tmp_path / "up", peer=_peer(a, county)))
        assert county_shop.id not in {r["id"] for rows in up.values() for r in rows} and shop.id not in str(up)
    finally:
        a.close()
        county.close()


def test_the_countys_user_of_a_name_the_station_has_is_refused_down_in_one_line(tmp_path):
    county = _named(AppContext.open(tmp_path / "county.db", attachments_dir=tmp_path / "county-att"), COUNTY)
    a = _station(county, tmp_path, A, OFFICERS_DATA)
    try:
        add_user(county, name="管理员", role="admin", password="Abcdef-123456")
        add_user(a, name="管理员", role="admin", password="Abcdef-123456")
        users = count(a, User)
        with pytest.raises(InvalidInput, match=f"的用户“管理员”在本级已有同名用户（“{A}”的）"):
            exchange(county, a, tmp_path)
        assert count(a, User) == users
    finally:
        a.close()
        county.close()
