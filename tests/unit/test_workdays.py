"""Working days with the official holiday calendar and make-up workdays (调休)."""
from __future__ import annotations

from datetime import date

from core.workdays import add_working_days, is_workday, working_days_between


def test_spring_festival_2026_and_its_make_up_saturday():
    # 2026 春节: 2月15日–23日 off; 2月14日 (Sat) and 2月28日 (Sat) are make-up workdays
    assert is_workday(date(2026, 2, 14)) == (True, True)
    assert is_workday(date(2026, 2, 16))[0] is False
    assert is_workday(date(2026, 2, 28))[0] is True
    # from Friday 13 Feb: 14th (make-up Sat) is day 1, then the holiday, then 24, 25, 26, 27, 28...
    result = add_working_days(date(2026, 2, 13), 7)
    assert result.exact
    assert result.due == date(2026, 3, 2)


def test_national_day_2026():
    # 2026 国庆: 10月1日–7日 off; 9月20日 (Sun) and 10月10日 (Sat) are make-up workdays
    assert is_workday(date(2026, 10, 5))[0] is False
    assert is_workday(date(2026, 10, 10))[0] is True
    assert is_workday(date(2026, 9, 20))[0] is True
    due = add_working_days(date(2026, 9, 28), 15).due
    # 29, 30 Sep (2); 8, 9, 10(Sat make-up) Oct (5); 12-16 (10); 19-23 (15)
    assert due == date(2026, 10, 23)


def test_working_days_between_is_the_inverse():
    start = date(2026, 9, 28)
    assert working_days_between(start, add_working_days(start, 15).due) == 15


def test_plain_weeks_without_holidays():
    assert add_working_days(date(2026, 3, 6), 5).due == date(2026, 3, 13)


def test_uncovered_year_is_flagged_not_silent():
    result = add_working_days(date(2099, 3, 2), 5)
    assert result.exact is False and result.due == date(2099, 3, 9)
