"""Which platform a file comes from, which column is which field, and what its order statuses mean.

The maps are data (platforms.toml); this module only reads them. A detected platform's own header names
win over the generic synonyms, so Shopify's "Name" is the order number, not a customer's name.
"""
from __future__ import annotations

import re
import tomllib
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Iterable

STATUS_CLASSES = ("revenue", "unpaid", "cancelled", "refunded")
MIN_SIGNATURE = 3  # signature headers a file must show to be called a platform's export

# Header names that map to a field on any file, compared after normalise (first match wins).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "customer_id": ("customer_id", "customer id", "customerid", "cust id", "client id", "customer no",
                    "customer number", "member id", "客户编号", "客户id", "客户代码", "会员号", "会员编号",
                    "会员id", "客户号", "客户"),
    "order_date": ("order_date", "order date", "date", "transaction date", "purchase date", "invoice date",
                   "订单日期", "交易日期", "下单时间", "下单日期", "购买日期", "交易时间", "日期"),
    "amount": ("amount", "revenue", "sales", "order amount", "sales amount", "line total", "total", "dollar_value",
               "dollars", "金额", "实付金额", "实收金额", "实收款", "销售金额", "订单金额", "销售额", "交易金额", "成交金额", "支付金额", "实付款",
               "小计"),
    "order_id": ("order_id", "order id", "order no", "order number", "invoice no", "订单号", "订单编号",
                 "订单id", "单号"),
    "quantity": ("quantity", "qty", "units", "number_of_cds", "数量", "购买数量", "件数"),
    "unit_price": ("unit_price", "unit price", "unitprice", "price", "单价", "价格", "销售单价"),
    "category": ("category", "product category", "品类", "商品类别", "商品分类", "产品类别", "类别"),
    "discounted": ("discounted", "discount", "是否折扣", "折扣", "是否打折"),
    "gross_margin": ("gross_margin", "gross margin", "margin", "gross profit", "毛利", "毛利额", "毛利润"),
    "customer_name": ("customer_name", "customer name", "name", "客户名称", "客户姓名", "姓名", "名称"),
    "region": ("region", "province", "area", "地区", "省份", "区域", "省"),
    "customer_class": ("customer_class", "customer class", "customer type", "客户类型", "客户类别"),
    "industry": ("industry", "行业", "所属行业"),
    "channel": ("channel", "acquisition channel", "渠道", "来源渠道", "获客渠道"),
    "status": ("status", "order status", "订单状态", "交易状态", "状态"),
    "refunded": ("amount refunded", "refunded amount", "refund amount", "退款金额", "已退款金额"),
    "currency": ("currency", "币种", "货币"),
}
FIELDS = tuple(SYNONYMS)


def normalise(name: str) -> str:
    """Full-width to half-width, lower case, no spaces, underscores or hyphens: 'Customer_ID' == 'customerid'."""
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", str(name)).lower())


@lru_cache(maxsize=1)
def _catalogue() -> dict:
    with (Path(__file__).with_name("platforms.toml")).open("rb") as fh:
        return tomllib.load(fh)


def platforms() -> dict[str, dict]:
    return {name: spec for name, spec in _catalogue().items() if name != "status"}


def detect_platform(columns: Iterable[str]) -> str | None:
    """The platform whose signature headers the file shows most of (at least MIN_SIGNATURE), else None."""
    present = {normalise(c) for c in columns}
    scores = {name: sum(normalise(h) in present for h in spec["signature"]) for name, spec in platforms().items()}
    best = max(scores, key=scores.get)
    return best if scores[best] >= MIN_SIGNATURE else None


def platform_currency(platform: str | None) -> str | None:
    return (platforms()[platform].get("currency") or None) if platform else None


def auto_mapping(columns: Iterable[str], platform: str | None = None) -> dict[str, str]:
    """{field: column}: the platform's own names first (detected when not given), then the generic synonyms."""
    columns = list(columns)
    platform = platform or detect_platform(columns)
    by_name: dict[str, str] = {}
    for column in columns:
        by_name.setdefault(normalise(column), column)
    own = platforms()[platform]["fields"] if platform else {}
    mapping: dict[str, str] = {}
    for names in (own, SYNONYMS):
        for fld, candidates in names.items():
            column = next((by_name[normalise(s)] for s in candidates if normalise(s) in by_name), None)
            if fld not in mapping and column is not None and column not in mapping.values():
                mapping[fld] = column
    if platform in ("shopify",):  # line price × quantity; the order total sits on the first line only
        mapping.pop("amount", None)
    return mapping


def default_status_classes() -> dict[str, str]:
    """{status value in lower case: class} for every platform's statuses."""
    return {value.strip().lower(): cls for cls in STATUS_CLASSES for value in _catalogue()["status"][cls]}


CURRENCY_SYMBOLS = {"cny": "¥", "rmb": "¥", "usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "hkd": "HK$",
                    "aud": "A$", "cad": "C$", "twd": "NT$", "sgd": "S$", "元": "¥", "人民币": "¥", "美元": "$",
                    "欧元": "€"}


def currency_symbol(code: str) -> str | None:
    """The symbol shown on money figures for a currency code or name in a file (CNY, usd, 人民币 ...)."""
    return CURRENCY_SYMBOLS.get(code.strip().lower())
