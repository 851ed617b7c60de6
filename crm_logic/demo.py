"""The demo company: a seeded, deterministic appliance and equipment maker and its customers.

Purchases follow the BG/NBD story (each customer buys at a Poisson rate of their own and may leave
for good after any purchase), thinned by the Chinese retail calendar (Spring Festival, 618, Double 11),
so the CLV models have something real to find. Spend, margins, returns, discounts, interactions and
key-account facts are drawn so that every concept of docs/crm-concepts.md occurs: each customer class,
each relationship form, club members, referrals, prospects graded A-D, alliance-worthy and "luxurious"
accounts. Simulation is vectorised over customers: a million customers build in chunks.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Callable

import numpy as np
import pandas as pd

from crm_logic.store import Store, clear_base

YEARS = 3
CHUNK = 200_000

# Per class: share of customers, purchase rate ~ Gamma(r, alpha) per week, drop-out ~ Beta(a, b),
# mean spend per order (¥), channels they come through.
CLASSES = {
    "consumer":     dict(share=0.46, r=0.9, alpha=30.0, a=0.8, b=2.4, spend=3_000, channels=("online_store", "offline_store", "referral")),
    "buyer":        dict(share=0.24, r=0.9, alpha=22.0, a=0.8, b=2.8, spend=4_000, channels=("online_store", "offline_store", "exhibition")),
    "enterprise":   dict(share=0.12, r=1.2, alpha=10.0, a=0.6, b=4.0, spend=12_000, channels=("sales_team", "exhibition", "referral")),
    "intermediary": dict(share=0.08, r=1.5, alpha=6.0, a=0.5, b=5.0, spend=16_000, channels=("dealer_network", "sales_team")),
    "dealer":       dict(share=0.10, r=1.8, alpha=4.0, a=0.5, b=6.0, spend=22_000, channels=("dealer_network", "sales_team", "exhibition")),
}
ORGANISATIONS = ("enterprise", "intermediary", "dealer")
REGIONS = ("华东", "华南", "华北", "华中", "西南", "西北", "东北")
REGION_WEIGHTS = (0.30, 0.22, 0.17, 0.11, 0.10, 0.05, 0.05)
CITIES = {"华东": ("上海", "杭州", "南京", "苏州", "宁波"), "华南": ("广州", "深圳", "佛山", "东莞"),
          "华北": ("北京", "天津", "石家庄", "太原"), "华中": ("武汉", "长沙", "郑州"),
          "西南": ("成都", "重庆", "昆明"), "西北": ("西安", "兰州", "银川"), "东北": ("沈阳", "大连", "哈尔滨")}
INDUSTRIES = ("制造业", "零售", "酒店餐饮", "房地产", "教育", "医疗", "物流")
# Category: (margin rate, unit price ¥).
CATEGORIES = {"冰箱": (0.22, 4_000), "空调": (0.25, 3_500), "洗衣机": (0.20, 2_800), "厨电": (0.30, 2_200),
              "商用设备": (0.35, 18_000), "配件与服务": (0.45, 600)}
RETAIL_CATEGORIES = (0.24, 0.22, 0.18, 0.22, 0.02, 0.12)
BUSINESS_CATEGORIES = (0.16, 0.20, 0.10, 0.10, 0.34, 0.10)
# Month factors for thinning: Spring Festival (Jan/Feb), 618 (June), Double 11 (November).
SEASON = np.array([1.3, 1.25, 0.9, 0.9, 1.0, 1.45, 0.9, 0.85, 1.0, 1.0, 1.6, 1.1])
SPEND_P, SPEND_Q = 4.0, 5.0  # order spend ~ Gamma(p, mean/p); mean spend ~ inverse-gamma with shape q
RETURN_SHARE, DISCOUNT_HUNTERS, REFERRED_SHARE, CLUB_SHARE, PROSPECT_SHARE = 0.03, 0.15, 0.08, 0.3, 0.08
# Relationship forms and their shares, for people and for organisations.
FORMS = ("basic", "passive", "responsible", "proactive", "partner")
FORM_SHARES = {"person": (0.40, 0.30, 0.20, 0.10, 0.0), "organisation": (0.15, 0.20, 0.25, 0.22, 0.18)}
# Yearly cost of serving a relationship of each form (¥, low-high).
LUXURIOUS_SHARE = 0.125  # accounts whose cost exceeds their yearly margin, on average over the forms
FORM_COST = {"basic": (500, 2_000), "passive": (2_000, 6_000), "responsible": (6_000, 15_000),
             "proactive": (15_000, 45_000), "partner": (40_000, 160_000)}
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国志文斌宇浩凯晨欣怡子涵梓轩雨博思嘉佳琪俊婷雪颖晓东海波")
BRANDS = list("宏达信诚鑫盛华泰恒通金源瑞丰永安鸿运嘉禾天成佳美万利新兴远航")
SUFFIXES = {"enterprise": ("有限公司", "集团有限公司", "科技有限公司"), "intermediary": ("商贸有限公司", "贸易公司", "采购中心"),
            "dealer": ("电器经销部", "家电商行", "电器城")}


def build_demo(store: Store, customers: int = 5000, seed: int = 7, progress: Callable[[float, str], None] | None = None,
               end_date: date = date(2026, 6, 30)) -> None:
    """Replace the base's content with the demo company (same seed, same base)."""
    notify = progress or (lambda fraction, stage: None)
    rng = np.random.default_rng(seed)
    start = end_date - timedelta(days=round(365.25 * YEARS))
    people = _customers(rng, customers, start, end_date)
    with store.transaction() as cur:
        clear_base(cur)
        Store.set_meta(cur, "currency", "¥")
        Store.set_meta(cur, "display_name", "demo")
        for first in range(0, customers, CHUNK):
            notify(0.8 * first / customers, "demo.stage.orders")
            chunk = people.iloc[first:first + CHUNK]
            orders = _orders(rng, chunk, end_date, order_offset=first * 1000)
            cur.register("orders", orders)
            cur.execute("INSERT INTO transactions SELECT customer_id, order_id, order_date, amount, quantity, "
                        "category, discounted, gross_margin, NULL FROM orders")
            cur.unregister("orders")
        notify(0.8, "demo.stage.relationships")
        prospects = _prospects(rng, customers, start, end_date)
        everyone = pd.concat([people, prospects], ignore_index=True)
        cur.register("everyone", everyone)
        cur.execute("""INSERT INTO customers SELECT customer_id, name, customer_class, region, industry, channel,
                       referred_by, club_member, personality_style, prospect_grade, created_date FROM everyone""")
        interactions = _interactions(rng, cur, everyone, end_date)
        cur.register("interactions_frame", interactions)
        cur.execute("INSERT INTO interactions SELECT * FROM interactions_frame")
        yearly_margin = dict(cur.execute(
            """SELECT customer_id, sum(gross_margin)::DOUBLE FROM transactions
               WHERE order_date > (SELECT max(order_date) FROM transactions) - INTERVAL 365 DAY GROUP BY 1""").fetchall())
        accounts = _accounts(rng, everyone[everyone.customer_class.isin(ORGANISATIONS) & everyone.prospect_grade.isna()],
                             yearly_margin)
        cur.register("accounts_frame", accounts)
        cur.execute("INSERT INTO accounts SELECT * FROM accounts_frame")
    notify(1.0, "demo.stage.relationships")


def _customers(rng, n: int, start: date, end: date) -> pd.DataFrame:
    """Who the buying customers are, when they came, and how they behave (hidden columns start with _)."""
    names = np.array(list(CLASSES))
    shares = np.array([CLASSES[c]["share"] for c in names])
    cls = names[rng.choice(len(names), n, p=shares / shares.sum())]
    span = (end - start).days
    acquired = np.sort(rng.integers(0, span - 14, n))  # acquisition day, ids in order of arrival
    frame = pd.DataFrame({"customer_id": [f"C{i + 1:07d}" for i in range(n)], "customer_class": cls})
    frame["created_date"] = pd.Timestamp(start) + pd.to_timedelta(acquired, unit="D")
    frame["region"] = np.array(REGIONS)[rng.choice(len(REGIONS), n, p=REGION_WEIGHTS)]
    org = np.isin(cls, ORGANISATIONS)
    frame["name"] = _names(rng, cls, frame["region"].to_numpy())
    frame["industry"] = np.where(org, np.array(INDUSTRIES)[rng.integers(0, len(INDUSTRIES), n)], None)
    frame["channel"] = [CLASSES[c]["channels"][k % len(CLASSES[c]["channels"])] for c, k in zip(cls, rng.integers(0, 6, n))]
    referred = (rng.random(n) < REFERRED_SHARE) & (np.arange(n) > 10)
    referrer = (rng.random(n) * np.arange(n)).astype(int)  # someone who arrived earlier
    frame["referred_by"] = np.where(referred, frame["customer_id"].to_numpy()[referrer], None)
    frame.loc[referred, "channel"] = "referral"
    frame["club_member"] = ~org & (rng.random(n) < CLUB_SHARE)
    styles = np.array(["amiable", "driver", "analytical", "expressive"])
    frame["personality_style"] = np.where(rng.random(n) < 0.6, styles[rng.integers(0, 4, n)], None)
    frame["prospect_grade"] = None
    # Hidden behaviour: BG/NBD rate and drop-out probability, mean spend, discount appetite, form.
    for c, p in CLASSES.items():
        mask = cls == c
        frame.loc[mask, "_rate"] = rng.gamma(p["r"], 1 / p["alpha"], mask.sum()) / 7  # per day
        frame.loc[mask, "_dropout"] = rng.beta(p["a"], p["b"], mask.sum())
        # Gamma-Gamma story: the customer's mean spend is inverse-gamma around the class level
        frame.loc[mask, "_spend"] = p["spend"] * (SPEND_Q - 1) / rng.gamma(SPEND_Q, 1.0, mask.sum())
    frame["_hunter"] = rng.random(n) < DISCOUNT_HUNTERS
    forms = np.array(FORMS)
    frame["_form"] = np.where(org, forms[rng.choice(5, n, p=FORM_SHARES["organisation"])],
                              forms[rng.choice(5, n, p=FORM_SHARES["person"])])
    return frame


def _names(rng, cls: np.ndarray, regions: np.ndarray) -> list[str]:
    surnames, given = np.array(SURNAMES), np.array(GIVEN)
    out = []
    for c, region, s, g1, g2, two, b1, b2, k in zip(
        cls, regions, rng.integers(0, len(surnames), len(cls)), rng.integers(0, len(given), len(cls)),
        rng.integers(0, len(given), len(cls)), rng.random(len(cls)) < 0.6, rng.integers(0, len(BRANDS), len(cls)),
        rng.integers(0, len(BRANDS), len(cls)), rng.integers(0, 3, len(cls)),
    ):
        if c in ORGANISATIONS:
            city = CITIES[region][k % len(CITIES[region])]
            out.append(f"{city}{BRANDS[b1]}{BRANDS[b2]}{SUFFIXES[c][k % len(SUFFIXES[c])]}")
        else:
            out.append(surnames[s] + given[g1] + (given[g2] if two else ""))
    return out


def _orders(rng, people: pd.DataFrame, end: date, order_offset: int) -> pd.DataFrame:
    """Simulate every customer's orders at once, one purchase round per loop step."""
    n = len(people)
    created = people["created_date"].to_numpy("datetime64[D]")
    horizon = (np.datetime64(end) - created).astype(float)
    rate, dropout = people["_rate"].to_numpy(), people["_dropout"].to_numpy()
    t = np.zeros(n)                      # days since acquisition; the first purchase is at acquisition
    alive = np.ones(n, bool)
    who, when = [np.arange(n)], [t.copy()]
    alive &= rng.random(n) >= dropout
    while alive.any():
        idx = np.flatnonzero(alive)
        t[idx] += rng.exponential(1 / rate[idx])
        inside = t[idx] <= horizon[idx]
        alive[idx[~inside]] = False
        idx = idx[inside]
        month = ((created[idx] + t[idx].astype("timedelta64[D]")).astype("datetime64[M]").astype(int) % 12)
        kept = rng.random(len(idx)) < SEASON[month] / SEASON.max()
        who.append(idx[kept])
        when.append(t[idx[kept]])
        leaving = idx[kept][rng.random(kept.sum()) < dropout[idx[kept]]]
        alive[leaving] = False
    who, when = np.concatenate(who), np.concatenate(when)
    cls = people["customer_class"].to_numpy()[who]
    business = np.isin(cls, ORGANISATIONS)
    names = list(CATEGORIES)
    cat = np.where(business, rng.choice(len(names), len(who), p=BUSINESS_CATEGORIES),
                   rng.choice(len(names), len(who), p=RETAIL_CATEGORIES))
    margin_rate = np.array([CATEGORIES[c][0] for c in names])[cat]
    unit_price = np.array([CATEGORIES[c][1] for c in names])[cat]
    amount = rng.gamma(SPEND_P, people["_spend"].to_numpy()[who] / SPEND_P)
    discounted = rng.random(len(who)) < np.where(people["_hunter"].to_numpy()[who], 0.7, 0.1)
    amount = np.where(discounted, amount * 0.85, amount)
    margin_rate = margin_rate - np.where(discounted, 0.08, 0) - np.where(cls == "dealer", 0.05, 0)
    orders = pd.DataFrame({
        "customer_id": people["customer_id"].to_numpy()[who],
        "order_date": created[who] + when.astype("timedelta64[D]"),
        "amount": np.round(amount, 2),
        "quantity": np.maximum(1, np.round(amount / unit_price)),
        "category": np.array(names)[cat],
        "discounted": discounted,
        "gross_margin": np.round(amount * margin_rate, 2),
    }).sort_values(["order_date", "customer_id"], kind="stable", ignore_index=True)
    orders["order_id"] = [f"SO{order_offset + i + 1:09d}" for i in range(len(orders))]
    returns = orders[rng.random(len(orders)) < RETURN_SHARE].copy()
    returns["order_date"] = returns["order_date"] + pd.to_timedelta(rng.integers(3, 30, len(returns)), unit="D")
    returns = returns[returns["order_date"] <= pd.Timestamp(end)]
    returns["order_id"] = returns["order_id"] + "-R"
    returns[["amount", "gross_margin", "quantity"]] *= -1
    return pd.concat([orders, returns], ignore_index=True)[
        ["customer_id", "order_id", "order_date", "amount", "quantity", "category", "discounted", "gross_margin"]]


def _prospects(rng, customers: int, start: date, end: date) -> pd.DataFrame:
    """Known companies and people who have not bought yet, graded A-D by the sales team."""
    n = max(4, int(customers * PROSPECT_SHARE))
    cls = np.array(["consumer", "enterprise", "dealer", "intermediary"])[rng.choice(4, n, p=(0.4, 0.3, 0.2, 0.1))]
    regions = np.array(REGIONS)[rng.choice(len(REGIONS), n, p=REGION_WEIGHTS)]
    created = pd.Timestamp(end) - pd.to_timedelta(rng.integers(1, 365, n), unit="D")
    return pd.DataFrame({
        "customer_id": [f"P{i + 1:07d}" for i in range(n)], "name": _names(rng, cls, regions),
        "customer_class": cls, "region": regions,
        "industry": np.where(cls == "consumer", None, np.array(INDUSTRIES)[rng.integers(0, len(INDUSTRIES), n)]),
        "channel": np.array(["exhibition", "sales_team", "online_store"])[rng.integers(0, 3, n)],
        "referred_by": None, "club_member": False, "personality_style": None,
        "prospect_grade": np.array(list("ABCD"))[np.arange(n) % 4], "created_date": created,
        "_form": np.where(rng.random(n) < 0.5, "target", "potential"),
    })


def _interactions(rng, cur, everyone: pd.DataFrame, end: date) -> pd.DataFrame:
    """Contacts that make each relationship form visible in the data (see crm-concepts.md, section 2)."""
    end_ts = pd.Timestamp(end)
    orders = cur.execute("SELECT customer_id, order_date FROM transactions WHERE amount > 0").df()
    form = everyone.set_index("customer_id")["_form"]
    orders["form"] = form.reindex(orders["customer_id"]).to_numpy()
    parts = []
    # responsible and proactive: a follow-up call within a month after most purchases
    follow = orders[orders["form"].isin(["responsible", "proactive", "partner"]) & (rng.random(len(orders)) < 0.85)]
    parts.append(pd.DataFrame({"customer_id": follow["customer_id"],
                               "interaction_date": follow["order_date"] + pd.to_timedelta(rng.integers(2, 28, len(follow)), unit="D"),
                               "direction": "outbound", "kind": "follow_up", "satisfaction": np.nan}))
    buyers = everyone[everyone["prospect_grade"].isna()]
    for forms, kinds, direction, per_year in (
        (("passive",), ("inquiry", "complaint"), "inbound", 1.5),
        (("proactive", "partner"), ("new_product_info", "visit"), "outbound", 6.0),
        (("partner",), ("joint_project",), "outbound", 3.0),
    ):
        who = buyers[buyers["_form"].isin(forms)]
        years = ((end_ts - who["created_date"]).dt.days / 365.25).clip(lower=0.1)
        if "joint_project" in kinds:
            years = np.minimum(years, 1.0)  # joint projects are recent: within the last year
        counts = rng.poisson(per_year * years.to_numpy()) + (1 if kinds == ("joint_project",) else 0)
        ids = np.repeat(who["customer_id"].to_numpy(), counts)
        first = np.repeat(np.maximum(who["created_date"].to_numpy(), (end_ts - pd.Timedelta(days=364)).to_datetime64())
                          if "joint_project" in kinds else who["created_date"].to_numpy(), counts)
        offset = rng.random(len(ids)) * (end_ts.to_datetime64() - first).astype("timedelta64[D]").astype(float)
        parts.append(pd.DataFrame({"customer_id": ids, "interaction_date": first + offset.astype("timedelta64[D]"),
                                   "direction": direction, "kind": np.array(kinds)[rng.integers(0, len(kinds), len(ids))],
                                   "satisfaction": np.nan}))
    club = buyers[buyers["club_member"]]
    parts.append(pd.DataFrame({"customer_id": club["customer_id"],
                               "interaction_date": end_ts - pd.to_timedelta(rng.integers(1, 300, len(club)), unit="D"),
                               "direction": "outbound", "kind": "club_event", "satisfaction": np.nan}))
    surveyed = buyers[rng.random(len(buyers)) < 0.25]
    warmth = surveyed["_form"].map({"basic": 3.0, "passive": 3.2, "responsible": 3.9, "proactive": 4.1, "partner": 4.4})
    parts.append(pd.DataFrame({"customer_id": surveyed["customer_id"],
                               "interaction_date": end_ts - pd.to_timedelta(rng.integers(1, 400, len(surveyed)), unit="D"),
                               "direction": "outbound", "kind": "survey",
                               "satisfaction": np.clip(np.round(warmth + rng.normal(0, 0.8, len(surveyed))), 1, 5)}))
    targets = everyone[everyone["_form"] == "target"]
    parts.append(pd.DataFrame({"customer_id": targets["customer_id"],
                               "interaction_date": end_ts - pd.to_timedelta(rng.integers(1, 180, len(targets)), unit="D"),
                               "direction": "outbound", "kind": "visit", "satisfaction": np.nan}))
    frame = pd.concat(parts, ignore_index=True)
    frame = frame[frame["interaction_date"] <= end_ts]
    frame["interaction_date"] = frame["interaction_date"].dt.floor("D")
    return frame.sort_values(["interaction_date", "customer_id"], kind="stable", ignore_index=True)


def _accounts(rng, orgs: pd.DataFrame, yearly_margin: dict[str, float]) -> pd.DataFrame:
    """Key-account facts for organisations; deeper forms cost more and bind tighter.

    Most relationships earn more than they cost; about one in eight is "luxurious" (costs more than the
    last year's gross margin; deeper forms more often, since they are the expensive ones). A few of the
    most valuable accounts are alliance material: hard to replace, a large share of their wallet,
    power in balance, and cheap to serve for what they bring."""
    n = len(orgs)
    depth = orgs["_form"].map({f: i / 4 for i, f in enumerate(FORMS)}).to_numpy()
    low_high = np.array([FORM_COST[f] for f in orgs["_form"]])
    power = {"enterprise": 0.45, "intermediary": 0.55, "dealer": 0.65}
    margin = np.maximum(orgs["customer_id"].map(yearly_margin).fillna(0).to_numpy(float), 0)
    switching = np.clip(0.15 + 0.6 * depth + rng.normal(0, 0.12, n), 0, 1)
    wallet = np.clip(rng.beta(2, 3, n) + 0.2 * depth, 0, 1)
    bargaining = np.clip(orgs["customer_class"].map(power).to_numpy() + rng.normal(0, 0.15, n), 0, 1)
    # Alliance material: one in five of the top tenth by margin.
    strong = (margin >= np.quantile(margin, 0.9)) & (margin > 0) & (rng.random(n) < 0.2)
    switching = np.where(strong, rng.uniform(0.72, 0.95, n), switching)
    wallet = np.where(strong, rng.uniform(0.62, 0.9, n), wallet)
    bargaining = np.where(strong, rng.uniform(0.4, 0.6, n), bargaining)
    luxurious = ~strong & (rng.random(n) < LUXURIOUS_SHARE * (0.3 + 1.4 * depth))
    cost = np.where(luxurious, margin * rng.uniform(1.15, 2.5, n) + 0.3 * rng.uniform(low_high[:, 0], low_high[:, 1]),
                    margin * np.where(strong, rng.uniform(0.1, 0.3, n), rng.uniform(0.1, 0.85, n) * (0.6 + 0.4 * depth)))
    return pd.DataFrame({
        "customer_id": orgs["customer_id"].to_numpy(),
        "switching_cost": switching.round(2),
        "wallet_share": wallet.round(2),
        "bargaining_power": bargaining.round(2),
        "relationship_cost": np.round(cost, 2),
        "product_utilisation": np.clip(rng.beta(4, 2, n), 0, 1).round(2),
        "custom_requests": rng.poisson(1 + 4 * depth),
    })
