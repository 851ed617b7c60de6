"""Numbers as the UX conventions (docs/ux.md) spell them: ¥12.3万, ¥4.56亿, ¥123.4K, 23.4%."""
import math

import pytest

from ui import format as fmt


@pytest.mark.parametrize(
    "value, lang, expected",
    [
        (123_000, "zh", "¥12.3万"),
        (456_000_000, "zh", "¥4.56亿"),
        (123_400, "en", "¥123.4K"),
        (2_500_315.63, "en", "¥2.5M"),
        (7_500_000, "zh", "¥750万"),
        (950, "zh", "¥950"),
        (26_616_000, "zh", "¥2,662万"),
        (-45_600, "zh", "-¥4.56万"),
    ],
)
def test_money_uses_the_languages_units(value, lang, expected):
    assert fmt.money(value, lang, "¥") == expected


def test_percent_count_and_missing():
    assert fmt.pct(0.234) == "23.4%"
    assert fmt.count(1234567) == "1,234,567"
    assert fmt.money(math.nan, "en") == "—"
    assert fmt.change(110, 100) == pytest.approx(0.1)
    assert fmt.change(5, 0) is None


@pytest.mark.parametrize("lang, ticks, labels", [
    ("zh", [5.300e9, 5.305e9, 5.310e9], ["¥53.00亿", "¥53.05亿", "¥53.10亿"]),  # `money` alone writes two alike
    ("en", [5.300e9, 5.305e9, 5.310e9], ["¥5.300B", "¥5.305B", "¥5.310B"]),
    ("en", [0, 2.5e6, 5e6], ["¥0", "¥2.5M", "¥5M"]),  # already distinct: as `money` writes them
])
def test_axis_ticks_close_together_get_the_decimals_that_tell_them_apart(lang, ticks, labels):
    assert fmt.money_ticks(ticks, lang) == labels
