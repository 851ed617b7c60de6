"""The reasons written beside each listed recommendation (ui.alliances.conditions_text): worked out by
hand from two rows built here, in both languages."""
import numpy as np
import pandas as pd

from crm_logic import alliance
from ui import alliances as work
from ui.i18n import pinned_language

# P: a partnership whose every partnership condition holds; as an alliance it fails on importance to
# us (0.7 < 0.8), switching cost (0.55 < 0.7) and cover (2.0 < 3.0). T: transactional, nothing held;
# as a preferred supplier it fails on importance to us (0.2 < 0.35), P(alive) unknown fails too.
ROWS = pd.DataFrame({
    "recommended_relationship_type": ["partnership", "transactional"], "alliance_mode": ["customisation", None],
    "importance_to_us": [0.7, 0.2], "importance_to_them": [0.65, 0.1], "power_gap": [0.05, 0.3],
    "p_alive": [0.9, np.nan], "switching_cost": [0.55, 0.1], "value_cover": [2.0, np.inf],
    "joint_projects": [0.0, 0.0], "mutual_importance": [0.65, 0.1], "custom_requests": [4.0, 0.0],
    "category_breadth": [0.5, 0.1], "product_utilisation": [0.9, 0.9]}, index=[10, 11])


def text(listed: str, language: str) -> list[str]:
    with pinned_language(language):
        return list(work.conditions_text(ROWS, alliance.explanations(ROWS), listed, language))


def test_held_and_failed_conditions_read_as_sentences():
    assert text("held", "en") == [
        "Matters to us (70% ≥ 60%); We matter to them (65% ≥ 45%); Balanced power (5% ≤ 15%); "
        "Need is current (90% ≥ 50%); Hard to switch (55% ≥ 50%); Pays for itself (2.0× ≥ 1.5×)", ""]
    assert text("failed", "en") == [
        "Matters to us (70% ≥ 80%); Hard to switch (55% ≥ 70%); Pays for itself (2.0× ≥ 3.0×)",
        "Matters to us (20% ≥ 35%); Need is current (— ≥ 30%)"]


def test_mode_reasons_count_requests_and_chinese_joins_with_its_own_separator():
    assert text("mode", "en") == ["Custom requests (4 ≥ 3)", ""]
    zh = text("failed", "zh")[0]
    assert zh.count("；") == 2 and "（70% ≥ 80%）" in zh and "2.0× ≥ 3.0×" in zh
