"""A deterministic, realistic database for the benchmarks (DESIGN.md "Targets").

    python -m tests.perf.generate --db /tmp/perf/city.db --scale city --seed 1

Built through the project's own schema (Alembic) and models (``db.models`` tables,
bulk inserts with SQLAlchemy Core), with rows the app accepts as its own:

* subjects of all six categories in the districts of one prefecture city, ~10 % without
  a credit code, every credit code valid (``core.creditcode.check_character``);
* inspections over five years against the real templates (``template_json`` is the
  template's ``to_json()``), ``party_json`` as ``core.inspections.party_snapshot`` makes
  it, officers, an answer for every item (drafts: the items answered so far), failed
  items with notes, findings and rectification orders drafted by the core's own
  ``draft_findings`` / ``draft_requirements``, signatures (PNG) and, for signed records,
  the content hash computed by ``core.inspections.content_hash`` over an
  ``InspectionRecord`` built from the generated rows;
* document numbers ``{prefix}〔{year}〕{seq}号`` in per-device blocks, per-year
  sequences in time order, and ``document_counters`` set for this database's device;
* re-inspections (``purpose="reinspection"``, the checklist cut down by
  ``core.tasks.reinspection_template``) closing the rectification orders that are due;
* the audit log of the newest inspections, as ``core.audit`` writes it, one valid chain.

The same seed and scale give the same database, whatever day it is built on
(the five years end at ``END``). Not generated yet: trigger events, tasks, plans,
grades, users, leads, and photos (they live as files). See docs/performance.md.
"""
from __future__ import annotations

import argparse
import hashlib
import heapq
import io
import json
import random
import sys
import time
import uuid
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, event, insert

from core import creditcode
from core.checklists import ChecklistTemplate, load_templates
from core.context import DEFAULT_SETTINGS
from core.inspections import (
    Answer,
    InspectionRecord,
    OfficerData,
    RectificationRow,
    SignatureRow,
    party_snapshot,
    content_hash,
    draft_findings,
    draft_requirements,
    officer_role,
)
from core.numbering import DEVICE_BLOCK, format_number
from db.engine import database_url, open_database
from db.models import (
    TemplateSnapshot,
    AuditEntry,
    DocumentCounter,
    Inspection,
    InspectionOfficer,
    ItemResult,
    Rectification,
    Setting,
    Signature,
    Subject,
)

# --- scales --------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    subjects: int
    inspections: int
    stations: int  # each station has DEVICES_PER_STATION laptops/PCs issuing numbers
    audit_entries: int = 0  # about this many, for the newest inspections


SCALES = {
    "city": Scale(subjects=50_000, inspections=500_000, stations=20, audit_entries=1_000_000),
    "station": Scale(subjects=2_500, inspections=25_000, stations=1, audit_entries=50_000),
    "small": Scale(subjects=500, inspections=2_000, stations=1, audit_entries=5_000),
}
DEVICES_PER_STATION = 2
OFFICERS_PER_STATION = 12
END = datetime(2026, 10, 30, 18, 0)  # fixed: the data does not depend on the build day
START = datetime(2021, 11, 1, 8, 0)  # five years
RECENT = timedelta(days=14)  # drafts and unsigned records are mostly this recent
CHUNK = 2_000  # inspections per executemany batch
COMMIT_EVERY = 50_000  # inspections per transaction

PREFIX_INSPECTION = "驿市监药检"
PREFIX_RECTIFICATION = "驿市监责改"
SETTINGS = {
    **DEFAULT_SETTINGS,
    "station_name": "驿城区顺河市场监督管理所",
    "organ_name": "驻马店市驿城区市场监督管理局",
    "prefix.inspection": PREFIX_INSPECTION,
    "prefix.rectification": PREFIX_RECTIFICATION,
    "device_no": "0",
}

# --- vocabulary ---------------------------------------------------------------------

CITY = "驻马店市"
# (name, administrative division code, towns/sub-districts)
DISTRICTS = [
    ("驿城区", "411702", ["顺河街道", "东风街道", "西园街道", "南海街道", "老街街道", "新华街道", "人民街道", "橡林街道", "胡庙乡", "古城乡"]),
    ("西平县", "411721", ["柏城街道", "五沟营镇", "权寨镇", "师灵镇", "出山镇"]),
    ("上蔡县", "411722", ["蔡都街道", "芦岗街道", "黄埠镇", "杨集镇", "洙湖镇"]),
    ("平舆县", "411723", ["古槐街道", "清河街道", "东皇街道", "杨埠镇", "万金店镇"]),
    ("正阳县", "411724", ["真阳街道", "慎水乡", "寒冻镇", "汝南埠镇", "铜钟镇"]),
    ("确山县", "411725", ["盘龙街道", "三里河街道", "竹沟镇", "任店镇", "新安店镇"]),
    ("泌阳县", "411726", ["泌水街道", "花园街道", "古城街道", "羊册镇", "马谷田镇"]),
    ("汝南县", "411727", ["汝宁街道", "古塔街道", "三门闸街道", "金铺镇", "韩庄镇"]),
    ("遂平县", "411728", ["灈阳街道", "莲花湖街道", "车站街道", "玉山镇", "嵖岈山镇"]),
    ("新蔡县", "411729", ["古吕街道", "月亮湾街道", "今是街道", "练村镇", "李桥回族镇"]),
]
ROADS = [
    "解放路", "中华路", "文明大道", "雪松路", "金山路", "南海路", "西园路", "顺河路", "开源大道",
    "练江大道", "乐山大道", "骏马路", "交通路", "前进路", "风光路", "健康路", "正阳路", "人民街",
    "团结路", "置地大道", "通达路", "驿城大道", "光明路", "建设路", "新华路", "天中山大道", "铜山大道",
    "板桥路", "淮河大道", "蔡都大道", "汝宁大道", "遂平大道", "北京路", "上海路", "香山路", "嵖岈山路",
    "五一路", "东风路", "和平路", "胜利路",
]
MARKETS = ["万家购物广场", "天中商城", "老街步行街", "金雀商业街", "乐山国际", "世纪广场", "新天地", "百货大楼"]
BRANDS = [
    "美丽", "佳人", "芳华", "雪莲", "康宁", "仁和", "福寿", "惠民", "百姓", "天天", "益康", "华康",
    "金桥", "同仁", "德信", "万家", "安泰", "博爱", "瑞丰", "鑫源", "恒通", "嘉禾", "丽人", "玉兰",
    "花语", "靓颜", "尚美", "伊人", "如意", "吉祥", "春天", "阳光", "永安", "长寿", "济世", "天中",
    "豫康", "国药", "大参林", "张仲景", "众生", "健民", "润生", "颐和", "怡康", "和美", "悦美", "名媛",
    "俏佳", "娇颜", "玫瑰", "水润", "素颜", "美颜", "蓝天", "金鼎", "宏达", "兴业", "华泰", "中和",
    "百草", "本草", "好邻居", "家家乐", "乐购", "好又多", "盛世", "鼎盛", "金色", "银河", "星光", "明珠",
]
NAME_PATTERNS = {
    "cosmetics_operator": [
        "{district}{brand}化妆品店", "{brand}美妆（{road}店）", "{city}{brand}日化商行", "{brand}美容美发店",
        "{district}{person}化妆品经营部", "{brand}彩妆生活馆", "{district}{brand}{brand2}化妆品商行",
        "{market}{brand}化妆品专柜",
    ],
    "device_operator": [
        "{city}{brand}医疗器械有限公司", "{brand}医疗器械经营部", "{district}{brand}康复器材店",
        "{city}{brand}{brand2}医药科技有限公司",
    ],
    "device_wholesaler": ["{city}{brand}医疗器械批发有限公司", "{city}{brand}{brand2}医疗器械供应链有限公司"],
    "device_retailer": ["{district}{brand}康复器材店", "{district}{brand}助听器验配中心", "{brand}医疗器械店（{road}店）"],
    "device_cold_chain": ["{city}{brand}体外诊断试剂有限公司", "{city}{brand}{brand2}生物科技有限公司"],
    "drug_retailer": [
        "{brand}大药房{road}店", "{brand}大药房（{district}{road}店）", "{district}{brand}药店",
        "{brand}医药连锁第{n}分店", "{district}{town}{brand}诊所药房",
    ],
    "medical_beauty": [
        "{city}{brand}医疗美容诊所", "{brand}医疗美容门诊部", "{city}{brand}{brand2}整形美容医院",
        "{district}{brand}皮肤管理中心",
    ],
    "elderly_care": [
        "{district}{brand}养老院", "{district}{town}敬老院", "{brand}颐养中心", "{district}{brand}康养护理院",
    ],
    "other": [
        "{district}{brand}超市", "{brand}母婴用品店", "{brand}便利店", "{brand}生活超市{road}店",
        "{district}{brand}百货商行", "{market}{brand}精品店",
    ],
}
# share of the register, and how often one is inspected relative to the others
CATEGORY_MIX = {
    "cosmetics_operator": (0.25, 0.7),
    "device_operator": (0.08, 1.6),
    "device_wholesaler": (0.04, 1.6),
    "device_retailer": (0.06, 1.6),
    "device_cold_chain": (0.02, 1.6),
    "drug_retailer": (0.25, 1.6),
    "medical_beauty": (0.05, 1.6),
    "elderly_care": (0.05, 1.0),
    "other": (0.20, 0.4),
}
# which template an inspection of a category uses: (code, weight)
TEMPLATE_BY_CATEGORY = {
    "cosmetics_operator": [("cosmetics-531", 1)],
    "device_operator": [("device-operator", 1)],
    "device_wholesaler": [("device-wholesale", 1)],
    "device_retailer": [("device-retail", 1)],
    "device_cold_chain": [("device-cold-chain", 1)],
    "drug_retailer": [("device-operator", 1)],
    "medical_beauty": [("device-operator", 7), ("cosmetics-531", 3)],
    "elderly_care": [("device-operator", 1)],
    "other": [("cosmetics-531", 1)],
}
NOTE_PATTERNS = [
    "现场检查发现{n}批次产品存在该问题，已拍照取证",
    "{fail}，当事人称系工作疏忽",
    "货架第{n}排发现，涉及{m}件，已拍照",
    "当事人无法现场提供相关记录",
    "{fail}，涉及{n}个品种",
    "经查，{fail}，现场已要求下架",
    "抽查{m}个批次，其中{n}个批次不符合",
]
STATEMENTS = ["对检查发现的问题无异议，将按要求整改。", "无异议。", "情况属实，立即整改。", "以上情况属实，今后加强管理。"]
STATEMENTS_CLEAN = ["无异议。", "以上情况属实。", "无异议，今后继续规范经营。"]
NOTIFIED = {"enforcement": "现场出示执法证件后告知", "routine": "日常巡查，现场出示执法证件后告知"}


# --- deterministic helpers ----------------------------------------------------------

def new_id(rng: random.Random, at: datetime | None = None) -> str:
    """A deterministic id: time-ordered (UUIDv7, as the app makes them) when ``at`` is given."""
    if at is None:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    millis = int(at.timestamp() * 1000) & ((1 << 48) - 1)
    bits = rng.getrandbits(74)
    value = millis << 80 | 0x7 << 76 | (bits >> 62) << 64 | 0b10 << 62 | (bits & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


def credit_code(rng: random.Random, division: str, kind: str) -> str:
    """A valid 统一社会信用代码: authority+type, division, organisation code, check character."""
    body = kind + division + "MA" + "".join(rng.choice(creditcode.ALPHABET) for _ in range(7))
    return body + creditcode.check_character(body)


def signature_pngs(rng: random.Random, count: int) -> list[tuple[bytes, str]]:
    """Signature images like the signature pad saves (480×180 RGBA, a few strokes)."""
    from PIL import Image, ImageDraw

    pngs = []
    for _ in range(count):
        image = Image.new("RGBA", (480, 180), (255, 255, 255, 0))
        draw = ImageDraw.Draw(image)
        x = rng.randint(20, 60)
        for _stroke in range(rng.randint(2, 4)):
            y = rng.randint(60, 120)
            points = []
            for _ in range(rng.randint(15, 30)):
                x = min(470, x + rng.randint(2, 9))
                y = max(15, min(165, y + rng.randint(-22, 22)))
                points.append((x, y))
            draw.line(points, fill=(20, 30, 120, 255), width=3, joint="curve")
            x = min(440, x + rng.randint(5, 25))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        data = buffer.getvalue()
        pngs.append((data, hashlib.sha256(data).hexdigest()))
    return pngs


@dataclass
class Device:
    no: int
    id: str
    station: int


@dataclass
class Station:
    index: int
    district: int
    devices: list[Device]
    officers: list[OfficerData]


@dataclass
class SubjectInfo:
    id: str
    category: str
    station: int
    legal_rep: str
    party_json: str
    party: dict
    address: str


@dataclass
class Counters:
    """Per (kind, device, year): the last sequence issued."""

    last: dict[tuple[str, int, int], int] = field(default_factory=dict)

    def next(self, kind: str, device: int, year: int) -> int:
        key = (kind, device, year)
        seq = self.last.get(key, 0) + 1
        if seq >= DEVICE_BLOCK:
            raise RuntimeError(f"device {device} ran out of {kind} numbers in {year}: spread over more devices")
        self.last[key] = seq
        return device * DEVICE_BLOCK + seq


# --- the world: stations, devices, officers, subjects -------------------------------

class World:
    def __init__(self, scale: Scale, seed: int):
        from faker import Faker

        self.scale = scale
        self.rng = random.Random(seed)
        self.faker = Faker("zh_CN")
        self.faker.seed_instance(seed)
        self.templates: dict[str, ChecklistTemplate] = load_templates()
        self.template_json = {code: t.to_json() for code, t in self.templates.items()}
        self.pngs = signature_pngs(random.Random(seed * 7919 + 1), 64)
        self.stations = self._stations()
        self.devices = [d for s in self.stations for d in s.devices]
        self.subjects: list[SubjectInfo] = []
        self.subject_rows: list[dict] = []

    def _stations(self) -> list[Station]:
        stations = []
        no = 0
        for index in range(self.scale.stations):
            devices = []
            for _ in range(DEVICES_PER_STATION):
                devices.append(Device(no=no, id=new_id(self.rng), station=index))
                no += 1
            officers = [
                OfficerData(self.faker.name(), f"4117{index:02d}{21000 + k:05d}")
                for k in range(OFFICERS_PER_STATION)
            ]
            stations.append(Station(index, index % len(DISTRICTS), devices, officers))
        return stations

    @property
    def this_device(self) -> Device:
        return self.devices[0]

    def _address(self, district: str) -> str:
        rng = self.rng
        road = rng.choice(ROADS) if rng.random() < 0.75 else self.faker.street_name()
        text = f"{CITY}{district}{road}{rng.randint(1, 399)}号"
        roll = rng.random()
        if roll < 0.15:
            text += f"{rng.choice(MARKETS)}{rng.randint(1, 3)}楼{rng.randint(101, 399)}室"
        elif roll < 0.30:
            text += f"{rng.randint(1, 30)}号楼{rng.randint(1, 3)}单元"
        return text

    def build_subjects(self) -> None:
        rng, faker = self.rng, self.faker
        categories = list(CATEGORY_MIX)
        shares = [CATEGORY_MIX[c][0] for c in categories]
        codes: set[str] = set()
        stations_of_district: dict[int, list[Station]] = {}
        for station in self.stations:
            stations_of_district.setdefault(station.district, []).append(station)
        districts = sorted(stations_of_district)
        for n in range(self.scale.subjects):
            category = categories[n % len(categories)] if n < len(categories) else rng.choices(categories, shares)[0]
            district_index = districts[n % len(districts)] if rng.random() < 0.5 else rng.choice(districts)
            station = rng.choice(stations_of_district[district_index])
            district, division, towns = DISTRICTS[district_index]
            town = rng.choice(towns)
            road = rng.choice(ROADS)
            pattern = rng.choice(NAME_PATTERNS[category])
            legal_rep = faker.name()
            name = pattern.format(
                city=CITY, district=district, brand=rng.choice(BRANDS), brand2=rng.choice(BRANDS),
                road=road, town=town, person=legal_rep, market=rng.choice(MARKETS), n=rng.randint(1, 60),
            )
            code = ""
            if rng.random() >= 0.10:
                kind = {"elderly_care": "52"}.get(category) or ("92" if category in ("cosmetics_operator", "other") and rng.random() < 0.6 else "91")
                code = credit_code(rng, division, kind)
                while code in codes:
                    code = credit_code(rng, division, kind)
                codes.add(code)
            licence_no = filing_no = ""
            year = rng.randint(2015, 2024)
            if category == "drug_retailer":
                licence_no = f"豫AA396{rng.randint(0, 9_999_999):07d}"
                if rng.random() < 0.7:
                    filing_no = f"豫驻食药监械经营备{year}{rng.randint(1, 9999):04d}号"
            elif category.startswith("device_"):
                if rng.random() < 0.4:
                    licence_no = f"豫驻食药监械经营许{year}{rng.randint(1, 9999):04d}号"
                filing_no = f"豫驻食药监械经营备{year}{rng.randint(1, 9999):04d}号"
            elif category == "medical_beauty":
                licence_no = f"PDY{rng.randint(0, 99_999_999):08d}{division}11D2192"
            elif category == "elderly_care":
                filing_no = f"{division}养老备{year}{rng.randint(1, 999):03d}号"
            roll = rng.random()
            status = "active" if roll < 0.93 else ("closed" if roll < 0.98 else "cancelled")
            created = START - timedelta(days=rng.randint(1, 900), minutes=rng.randint(0, 600))
            row = {
                "id": new_id(rng), "name": name, "credit_code": code or None, "category": category,
                "licence_no": licence_no, "filing_no": filing_no, "legal_rep": legal_rep,
                "address": self._address(district), "phone": faker.phone_number(),
                "grid": f"{town}{rng.choice(ROADS)[:-1]}社区" if rng.random() < 0.6 else town,
                "status": status, "created_at": created, "updated_at": created, "version": 1,
                "device_id": station.devices[0].id,
            }
            snapshot = party_snapshot(Subject(**row))
            self.subject_rows.append(row)
            self.subjects.append(SubjectInfo(
                id=row["id"], category=category, station=station.index, legal_rep=legal_rep,
                party_json=snapshot, party=json.loads(snapshot), address=row["address"],
            ))


# --- inspections ---------------------------------------------------------------------

@dataclass
class Reinspection:
    """整改复查 of a rectification order, decided when the order is issued."""

    id: str
    original: ChecklistTemplate
    failed: tuple[str, ...]
    fail_again: bool  # → the order ends as case_recommended (立案建议)
    officers: list[OfficerData]
    ended_at: datetime
    completed_at: datetime
    signed_at: datetime


@dataclass
class Plan:
    """What one inspection will be, before its rows are built."""

    started_at: datetime
    subject: SubjectInfo
    device: Device
    reinspection: Reinspection | None = None


@dataclass
class Rows:
    snapshots: list[dict] = field(default_factory=list)
    inspections: list[dict] = field(default_factory=list)
    officers: list[dict] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)
    signatures: list[dict] = field(default_factory=list)
    rectifications: list[dict] = field(default_factory=list)
    audit: list[dict] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.inspections)

    def marks(self) -> tuple[int, ...]:
        return (len(self.inspections), len(self.officers), len(self.results), len(self.signatures),
                len(self.rectifications))


def working_time(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A random moment of a working day (Mon–Fri, 08:30–16:30) between start and end."""
    span_days = max(0, (end.date() - start.date()).days)
    for _ in range(20):
        day = start.date() + timedelta(days=rng.randrange(span_days + 1))
        if day.weekday() < 5:
            break
    moment = datetime(day.year, day.month, day.day, 8, 30) + timedelta(minutes=rng.randrange(8 * 60))
    return min(max(moment, start), end)


# Expected re-inspections per planned inspection (they come on top of the plan).
REINSPECTION_RATE = 0.27


class InspectionFactory:
    def __init__(self, world: World, *, end: datetime = END):
        self.world = world
        self.rng = world.rng
        self.end = end
        self.counters = Counters()
        # Some items fail far more often than others (records, labels...): a fixed skew per template.
        self.fail_weights: dict[str, list[float]] = {}
        for code, template in world.templates.items():
            ranks = list(range(1, len(template.items) + 1))
            world.rng.shuffle(ranks)
            self.fail_weights[code] = [1.0 / r for r in ranks]
        self._reduced: dict[tuple[str, tuple[str, ...]], tuple[ChecklistTemplate, str]] = {}
        self._snapshot_shas: dict[str, str] = {}  # template text → its SHA-256, written once

    def plans(self, count: int, start: datetime = START, end: datetime | None = None,
              subjects: list[SubjectInfo] | None = None, device: Device | None = None) -> list[Plan]:
        """Inspections spread over [start, end], riskier categories more often, in time order."""
        rng = self.rng
        end = end or self.end
        subjects = subjects if subjects is not None else self.world.subjects
        cumulative = []
        total = 0.0
        for s in subjects:
            total += CATEGORY_MIX[s.category][1] * rng.lognormvariate(0, 0.6)
            cumulative.append(total)
        plans = []
        for _ in range(count):
            subject = subjects[min(bisect_right(cumulative, rng.random() * total), len(subjects) - 1)]
            station = self.world.stations[subject.station]
            plans.append(Plan(
                started_at=working_time(rng, start, end), subject=subject,
                device=device or rng.choice(station.devices),
            ))
        plans.sort(key=lambda p: (p.started_at, p.device.no))
        return plans

    def _status(self, started_at: datetime) -> str:
        roll = self.rng.random()
        if self.end - started_at < RECENT:
            return "draft" if roll < 0.25 else ("completed" if roll < 0.5 else "signed")
        return "draft" if roll < 0.002 else ("completed" if roll < 0.005 else "signed")

    def _note(self, fail_text: str) -> str:
        rng = self.rng
        return rng.choice(NOTE_PATTERNS).format(fail=fail_text, n=rng.randint(1, 5), m=rng.randint(5, 30))

    def _snapshot_sha(self, template: ChecklistTemplate, text: str, rows: Rows) -> str:
        """The snapshot's key; a text seen for the first time is queued for template_snapshots."""
        sha = self._snapshot_shas.get(text)
        if sha is None:
            sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
            self._snapshot_shas[text] = sha
            rows.snapshots.append({"sha256": sha, "code": template.code, "version": template.version,
                                   "json": text, "created_at": datetime(2020, 1, 1)})
        return sha

    def _reduced_template(self, original: ChecklistTemplate, failed: tuple[str, ...]) -> tuple[ChecklistTemplate, str]:
        """The re-inspection checklist, made by the core's own ``reinspection_template``."""
        from core.tasks import reinspection_template

        key = (original.code, failed)
        if key not in self._reduced:
            template = reinspection_template(original, set(failed))
            self._reduced[key] = (template, template.to_json())
        return self._reduced[key]

    def _failing(self, code: str, answered: list) -> set[str]:
        rng = self.rng
        if not answered or rng.random() >= 0.28:
            return set()
        n_fail = 1
        while n_fail < 5 and rng.random() < 0.45:
            n_fail += 1
        weights = self.fail_weights[code][: len(answered)]
        chosen: set[str] = set()
        while len(chosen) < min(n_fail, len(answered)):
            chosen.add(rng.choices(answered, weights)[0].code)
        return chosen

    def _schedule_reinspection(self, plan: Plan, template: ChecklistTemplate, failed: set[str],
                               officers: list[OfficerData], deadline: date) -> Plan | None:
        rng = self.rng
        day = datetime(deadline.year, deadline.month, deadline.day, 8, 0) + timedelta(days=rng.randint(-4, 8))
        started = working_time(rng, day, day + timedelta(days=2))
        ended = started + timedelta(minutes=rng.randint(10, 40))
        completed = ended + timedelta(minutes=rng.randint(1, 5))
        signed = completed + timedelta(minutes=rng.randint(2, 8))
        if signed >= self.end:
            return None  # not re-inspected yet: the order stays open
        spec = Reinspection(
            id=new_id(rng, started), original=template, failed=tuple(sorted(failed)), fail_again=rng.random() < 0.08,
            officers=officers, ended_at=ended, completed_at=completed, signed_at=signed,
        )
        return Plan(started_at=started, subject=plan.subject, device=plan.device, reinspection=spec)

    def build(self, plan: Plan, rows: Rows, *, status: str | None = None) -> Plan | None:
        """Append one inspection's rows; signed ones carry their content hash.

        Returns the re-inspection this inspection's rectification order calls for, if any,
        for the caller to build when its time comes.
        """
        rng, world = self.rng, self.world
        subject, device = plan.subject, plan.device
        station = world.stations[device.station]
        spec = plan.reinspection
        if spec is None:
            choices = TEMPLATE_BY_CATEGORY[subject.category]
            code = rng.choices([c for c, _ in choices], [w for _, w in choices])[0]
            template, template_json = world.templates[code], world.template_json[code]
            purpose = "regular"
            status = status or self._status(plan.started_at)
            kind = "enforcement" if rng.random() < 0.8 else "routine"
            n_officers = 2 if kind == "enforcement" or rng.random() < 0.5 else 1
            if kind == "enforcement" and rng.random() < 0.05:
                n_officers = 3
            officers = rng.sample(station.officers, n_officers)
        else:
            template, template_json = self._reduced_template(spec.original, spec.failed)
            purpose, status, kind, officers = "reinspection", "signed", "enforcement", spec.officers
        items = template.items
        started = plan.started_at
        inspection_id = spec.id if spec else new_id(rng, plan.started_at)
        number = format_number(PREFIX_INSPECTION, started.year, self.counters.next("inspection", device.no, started.year))

        # answers: every item, or for a draft the items answered so far
        answered = items if status != "draft" else items[: rng.randrange(len(items))]
        if spec is None:
            failing = self._failing(template.code, answered)
        else:
            failing = {rng.choice(spec.failed)} if spec.fail_again else set()
        duration = (spec.ended_at - started) if spec else timedelta(minutes=rng.randint(25, 110))
        answers: dict[str, Answer] = {}
        step = duration / (len(items) + 1)
        notes = 0
        for k, item in enumerate(answered):
            if item.code in failing:
                result, note = "fail", self._note(item.fail_text)
                notes += 1
            else:
                result, note = ("na" if spec is None and rng.random() < 0.06 else "pass"), ""
            answers[item.code] = Answer(result, note)
            at = (started + step * (k + 1)).replace(microsecond=0)
            rows.results.append({
                "id": new_id(rng, started), "inspection_id": inspection_id, "item_code": item.code,
                "result": result, "note": note, "created_at": at, "updated_at": at,
                "version": 2 if note else 1, "device_id": device.id,
            })
        for position, officer in enumerate(officers):
            rows.officers.append({
                "id": new_id(rng, started), "inspection_id": inspection_id, "position": position,
                "name": officer.name, "cert_no": officer.cert_no, "created_at": started,
                "updated_at": started, "version": 1, "device_id": device.id,
            })

        refused = status != "draft" and rng.random() < 0.03
        present = subject.legal_rep if rng.random() < 0.7 else world.faker.name()
        witness = world.faker.name() if refused else ""
        ended = completed = signed = None
        findings = statement = ""
        rectification = None
        follow_up = None
        signatures: dict[str, SignatureRow] = {}
        version = 1 + len(answers) + notes
        updated = started + duration if answers else started
        record = InspectionRecord(
            id=inspection_id, number=number, status=status, kind=kind, purpose=purpose, subject_id=subject.id,
            template=template, template_json=template_json, party=subject.party,
            officers=list(officers), place=subject.address, notified_by=NOTIFIED[kind], started_at=started,
            ended_at=None, findings="", party_statement="", party_present_name=present if status != "draft" else "",
            party_refused=refused, witness_name=f"社区网格员 {witness}" if refused else "",
            answers=answers, photos=[], signatures={}, rectification=None,
            completed_at=None, signed_at=None, content_hash=None,
        )
        if status != "draft":
            ended = started + duration
            completed = spec.completed_at if spec else ended + timedelta(minutes=rng.randint(1, 8))
            findings = draft_findings(record)
            if not refused:
                statement = rng.choice(STATEMENTS if failing else STATEMENTS_CLEAN)
            version += 2
            updated = completed
            if failing and purpose == "regular":
                deadline = started.date() + timedelta(days=int(SETTINGS["rectification_days"]))
                rect_number = format_number(
                    PREFIX_RECTIFICATION, completed.year,
                    self.counters.next("rectification", device.no, completed.year),
                )
                rectification = RectificationRow(rect_number, deadline, draft_requirements(record), "open")
                if status == "signed":
                    follow_up = self._schedule_reinspection(plan, template, failing, list(officers), deadline)
                again = follow_up.reinspection if follow_up else None
                rows.rectifications.append({
                    "id": new_id(rng, started), "inspection_id": inspection_id, "number": rect_number,
                    "deadline": deadline, "requirements": rectification.requirements,
                    "status": "open" if again is None else ("case_recommended" if again.fail_again else "closed"),
                    "reinspection_id": again.id if again else None,
                    "closed_at": again.signed_at if again else None,
                    "created_at": completed, "updated_at": again.signed_at if again else completed,
                    "version": 2 if again else 1, "device_id": device.id,
                })
        if status == "signed":
            roles = [("witness", witness) if refused else ("party", present)]
            roles += [(officer_role(i), o.name) for i, o in enumerate(officers)]
            last = spec.signed_at if spec else completed + timedelta(minutes=rng.randint(3, 12))
            gap = (last - completed) / (len(roles) + 1)
            for k, (role, signer) in enumerate(roles, 1):
                at = (completed + gap * k).replace(microsecond=0)
                if role.startswith("officer"):
                    png, sha = world.pngs[hash_index(signer, len(world.pngs))]
                else:
                    png, sha = world.pngs[rng.randrange(len(world.pngs))]
                signatures[role] = SignatureRow(role, signer, sha, png)
                rows.signatures.append({
                    "id": new_id(rng, started), "inspection_id": inspection_id, "role": role, "signer_name": signer,
                    "sha256": sha, "png": png, "signed_at": at, "created_at": at, "updated_at": at,
                    "version": 1, "device_id": device.id,
                })
            signed = last
            version += len(roles) + 1
            updated = signed
        record.ended_at, record.completed_at, record.signed_at = ended, completed, signed
        record.findings, record.party_statement = findings, statement
        record.signatures, record.rectification = signatures, rectification
        digest = content_hash(record) if status == "signed" else None
        rows.inspections.append({
            "id": inspection_id, "number": number, "subject_id": subject.id,
            "template_code": template.code, "template_version": template.version,
            "template_sha": self._snapshot_sha(template, template_json, rows), "party_json": subject.party_json, "kind": kind, "purpose": purpose,
            "status": status, "place": subject.address, "notified_by": NOTIFIED[kind],
            "started_at": started, "ended_at": ended, "findings": findings, "party_statement": statement,
            "party_present_name": record.party_present_name, "party_refused": refused,
            "witness_name": record.witness_name, "completed_at": completed, "signed_at": signed,
            "content_hash": digest, "created_at": started, "updated_at": updated, "version": version,
            "device_id": device.id,
        })
        return follow_up


def hash_index(text: str, size: int) -> int:
    """A stable index for a name (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=4).digest(), "big") % size


# --- the audit trail ----------------------------------------------------------------------

ENTRIES_PER_INSPECTION = 45  # what the app logs for one inspection, on average (for the start point)


from core.audit import _plain  # noqa: E402  (the app's own way to write a value into an entry)


def _dump(data: dict) -> str:
    return json.dumps({k: _plain(v) for k, v in data.items()}, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))


class AuditTrail:
    """Entries as ``core.audit``'s flush listener writes them, replayed for an inspection's life:
    started, each answer (and note) with the inspection's version bump, completed, each
    signature, signed. One unbroken SHA-256 chain (``core.audit.entry_hash``)."""

    def __init__(self) -> None:
        from core.audit import GENESIS

        self.prev = GENESIS
        self.count = 0

    def _entry(self, out: list, at: datetime, actor: str, action: str, table: str, record_id: str,
               before: dict, after: dict) -> None:
        from core.audit import entry_hash

        before_json, after_json = _dump(before), _dump(after)
        digest = entry_hash(self.prev, at.isoformat(), actor, action, table, record_id, before_json, after_json)
        out.append({"at": at, "actor": actor, "action": action, "table_name": table, "record_id": record_id,
                    "before_json": before_json, "after_json": after_json, "prev_hash": self.prev, "hash": digest})
        self.prev = digest
        self.count += 1

    def inspection(self, rows: Rows, marks: tuple[int, ...]) -> None:
        i0, o0, r0, s0, c0 = marks
        insp = rows.inspections[i0]
        actor = rows.officers[o0]["name"] if len(rows.officers) > o0 else "系统"
        out, started, version = rows.audit, insp["started_at"], 1
        owner = {"subject_id": insp["subject_id"]}
        draft = dict(insp, status="draft", ended_at=None, completed_at=None, signed_at=None, content_hash=None,
                     findings="", party_statement="", party_present_name="", party_refused=False,
                     witness_name="", version=1, updated_at=started)
        self._entry(out, started, actor, "insert", "inspections", insp["id"], {}, draft)
        for officer in rows.officers[o0:]:
            self._entry(out, started, actor, "insert", "inspection_officers", officer["id"], {}, officer)

        def bump(at: datetime) -> None:
            nonlocal version
            self._entry(out, at, actor, "update", "inspections", insp["id"],
                        {"version": version, "updated_at": at, **owner}, {"version": version + 1, "updated_at": at, **owner})
            version += 1

        for result in rows.results[r0:]:
            at = result["created_at"]
            self._entry(out, at, actor, "insert", "item_results", result["id"], {},
                        dict(result, note="", version=1))
            bump(at)
            if result["note"]:
                ref = {"inspection_id": insp["id"]}
                self._entry(out, at, actor, "update", "item_results", result["id"],
                            {"note": "", "version": 1, **ref}, {"note": result["note"], "version": 2, **ref})
                bump(at)
        if insp["completed_at"] is None:
            return
        at = insp["completed_at"]
        fields = ("findings", "ended_at", "status", "completed_at", "party_statement", "party_present_name",
                  "party_refused", "witness_name")
        self._entry(out, at, actor, "update", "inspections", insp["id"],
                    {**{k: draft[k] for k in fields}, "version": version, **owner},
                    {**{k: insp[k] if k != "status" else "completed" for k in fields}, "version": version + 2, **owner})
        version += 2
        for rect in rows.rectifications[c0:]:
            self._entry(out, at, actor, "insert", "rectifications", rect["id"], {},
                        dict(rect, status="open", reinspection_id=None, closed_at=None, version=1, updated_at=at))
        if insp["signed_at"] is None:
            return
        for signature in rows.signatures[s0:]:
            self._entry(out, signature["signed_at"], actor, "insert", "signatures", signature["id"], {}, signature)
            bump(signature["signed_at"])
        at = insp["signed_at"]
        self._entry(out, at, actor, "update", "inspections", insp["id"],
                    {"status": "completed", "signed_at": None, "content_hash": None, "version": version, **owner},
                    {"status": "signed", "signed_at": at, "content_hash": insp["content_hash"],
                     "version": version + 1, **owner})


# --- writing --------------------------------------------------------------------------

def bulk_engine(path: Path):
    """An engine for loading: no journal, no fsync, a big page cache. Only for generation."""
    engine = create_engine(database_url(path))

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=OFF")
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.execute("PRAGMA cache_size=-3000000")  # 3 GB: the random-UUID indexes stay in memory
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    return engine


def write_rows(conn, rows: Rows) -> None:
    """Insert one batch, parents first, with executemany through SQLAlchemy Core."""
    for table, data in (
        (TemplateSnapshot.__table__, rows.snapshots),
        (Inspection.__table__, rows.inspections),
        (InspectionOfficer.__table__, rows.officers),
        (ItemResult.__table__, rows.results),
        (Signature.__table__, rows.signatures),
        (Rectification.__table__, rows.rectifications),
        (AuditEntry.__table__, rows.audit),
    ):
        if data:
            conn.execute(insert(table), data)


def counter_rows(counters: Counters, device_no: int) -> list[dict]:
    return [
        {"kind": kind, "year": year, "last_seq": seq}
        for (kind, device, year), seq in sorted(counters.last.items())
        if device == device_no
    ]


def remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def generate(path: Path, scale: Scale, seed: int, *, log=print) -> dict:
    began = time.perf_counter()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_database(path)
    engine, _sessions = open_database(path)  # the schema exactly as the app makes it (Alembic)
    engine.dispose()

    world = World(scale, seed)
    world.build_subjects()
    factory = InspectionFactory(world)
    plans = factory.plans(round(scale.inspections / (1 + REINSPECTION_RATE)))
    log(f"planned {len(world.subject_rows):,} subjects and {len(plans):,} inspections + their re-inspections "
        f"({scale.stations} stations, {len(world.devices)} devices) in {time.perf_counter() - began:.1f} s")

    engine = bulk_engine(path)
    totals = {"subjects": len(world.subject_rows), "inspections": 0, "reinspections": 0, "item_results": 0,
              "inspection_officers": 0, "signatures": 0, "rectifications": 0, "audit_entries": 0}
    with engine.connect() as conn:
        with conn.begin():
            conn.execute(insert(Setting.__table__), [
                {"key": k, "value": v} for k, v in {**SETTINGS, "device_id": world.this_device.id}.items()
            ])
            conn.execute(insert(Subject.__table__), world.subject_rows)
        log(f"subjects written in {time.perf_counter() - began:.1f} s")
        t0 = time.perf_counter()
        pending: list[tuple[datetime, int, Plan]] = []  # re-inspections, by time
        trail = AuditTrail()  # the newest inspections' history (the log began a while ago)
        built, audit_from = 0, scale.inspections - scale.audit_entries // ENTRIES_PER_INSPECTION
        order = 0
        index = 0
        expected = scale.inspections
        rows, in_transaction = Rows(), 0
        conn.begin()

        def flush(final: bool = False) -> None:
            nonlocal rows, in_transaction
            write_rows(conn, rows)
            totals["inspections"] += len(rows.inspections)
            totals["item_results"] += len(rows.results)
            totals["inspection_officers"] += len(rows.officers)
            totals["signatures"] += len(rows.signatures)
            totals["rectifications"] += len(rows.rectifications)
            totals["audit_entries"] += len(rows.audit)
            in_transaction += len(rows)
            rows = Rows()
            if in_transaction >= COMMIT_EVERY or final:
                # inspections inserted as signed are marked "signed in this transaction" by the
                # lock's triggers (db/signed_lock.py), which lets their rows in; as core.guards
                # does before every commit, the markers go before this one
                conn.exec_driver_sql("DELETE FROM signed_lock_fresh")
                conn.commit()
                in_transaction = 0
                done = totals["inspections"]
                elapsed = time.perf_counter() - t0
                rate = done / elapsed if elapsed else 0.0
                eta = max(0, expected - done) / rate if rate else 0.0
                log(f"  {done:,} inspections ({totals['reinspections']:,} re-inspections), "
                    f"{totals['item_results']:,} item results ({rate:,.0f} inspections/s, "
                    f"{elapsed:.0f} s elapsed, ~{eta:.0f} s to go)")
                if not final:
                    conn.begin()

        while index < len(plans) or pending:
            if pending and (index >= len(plans) or pending[0][0] <= plans[index].started_at):
                plan = heapq.heappop(pending)[2]
                totals["reinspections"] += 1
            else:
                plan = plans[index]
                index += 1
            marks = rows.marks()
            follow_up = factory.build(plan, rows)
            built += 1
            if built > audit_from:
                trail.inspection(rows, marks)
            if follow_up is not None:
                order += 1
                heapq.heappush(pending, (follow_up.started_at, order, follow_up))
            if len(rows) >= CHUNK:
                flush()
        flush(final=True)
        with conn.begin():
            conn.execute(insert(DocumentCounter.__table__), counter_rows(factory.counters, world.this_device.no))
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")  # as the app leaves it
    engine.dispose()
    totals["seconds"] = round(time.perf_counter() - began, 1)
    totals["bytes"] = path.stat().st_size
    log(f"done: {json.dumps(totals)}")
    return totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, type=Path, help="database file to create (replaced if it exists)")
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    generate(args.db, SCALES[args.scale], args.seed, log=lambda text: print(text, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
