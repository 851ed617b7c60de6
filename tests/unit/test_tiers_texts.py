"""Every group code has a name, a help text and tactics in both languages; every reason and rule key exists."""
import re

import pytest

from crm_logic.i18n import LANGUAGES, catalogue, translate
from crm_logic.playbooks import tactics
from crm_logic.store import CUSTOMER_CLASSES, PERSONALITY_STYLES, PROSPECT_GRADES
from crm_logic.tiers import (
    BEHAVIOURS, CONCEPT_COLUMNS, FORMS, LEVELS, MATURITIES, PROSPECT, QUADRANTS, SEGMENTS, TIERS, LadderRules,
    SegmentRules, describe_rules,
)
from crm_logic.tiers.ladder import BEHAVIOUR_RULES

NAMED = {"segment": (*SEGMENTS, PROSPECT), "tier": TIERS, "quadrant": QUADRANTS, "form": FORMS, "level": LEVELS,
         "class": CUSTOMER_CLASSES, "behaviour": BEHAVIOURS, "maturity": MATURITIES, "grade": PROSPECT_GRADES,
         "style": PERSONALITY_STYLES}
PLAYBOOKS = {"segment": (*SEGMENTS, PROSPECT), "level": LEVELS, "form": FORMS, "behaviour": BEHAVIOURS,
             "style": PERSONALITY_STYLES}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("kind", NAMED)
def test_every_code_has_a_name_and_a_help_text(kind, lang):
    texts = catalogue(lang)
    for code in NAMED[kind]:
        assert texts.get(f"segments.{kind}.{code}"), (kind, code)
        assert texts.get(f"segments.{kind}_help.{code}"), (kind, code)


@pytest.mark.parametrize("kind", PLAYBOOKS)
def test_every_group_has_two_to_five_tactics_in_both_languages(kind):
    for code in PLAYBOOKS[kind]:
        zh, en = tactics(kind, code, "zh"), tactics(kind, code, "en")
        assert 2 <= len(en) <= 5 and len(zh) == len(en), (kind, code)
        assert all(re.search(r"[\u4e00-\u9fff]", t) for t in zh)


def test_reason_rule_and_concept_keys_exist_in_both_languages():
    keys = {f"segments.reason.form.{f}" for f in FORMS} | {f"segments.reason.behaviour.{r}" for r in BEHAVIOUR_RULES}
    keys |= {f"segments.reason.tier.{t}" for t in TIERS} | {f"segments.reason.quadrant.{q}" for q in QUADRANTS}
    keys |= {f"segments.reason.maturity.{m}" for m in MATURITIES} | {f"segments.concept.{c}" for c in CONCEPT_COLUMNS}
    keys |= {key for items in describe_rules().values() for _, key, _ in items}
    for lang in LANGUAGES:
        assert keys <= set(catalogue(lang)), keys - set(catalogue(lang))


def test_rules_in_words_follow_the_thresholds():
    rules = SegmentRules(ladder=LadderRules(window_days=183, proactive_min_contacts=6))
    _, key, params = dict((code, (code, key, p)) for code, key, p in describe_rules(rules)["form"])["proactive"]
    text = translate(key, "en", **params)
    assert "at least 6 contacts" in text and "last 6 months" in text
    assert "6 个月" in translate(key, "zh", **params)
