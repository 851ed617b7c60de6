"""The relationship ladder and the behavioural types, from interactions and purchases (crm-concepts 1-2).

Facts come from one query (attributes, contact counts, discounts, referrals) and the rules are applied
with numpy over whole columns; each customer also gets the key of the rule that placed it, for the page
to put into words.
"""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from crm_logic.store import Store
from crm_logic.tiers.rules import BEHAVIOURS, FORMS, LEVELS, MATURITIES, BehaviourRules, LadderRules, categorical

ATTRIBUTES = ("customer_class", "region", "industry", "club_member", "personality_style", "prospect_grade",
              "created_date")

# Everyone known by $as_of (the `buyers` frame, full-joined with the customers table) with the counts the
# ladder and behaviour rules read. Purchase days are merged only for customers we contacted in the
# window: nobody else can have had a purchase followed up.
FACTS_SQL = f"""
WITH people AS (
    SELECT customer_id, {", ".join(ATTRIBUTES)} FROM customers
    WHERE created_date IS NULL OR created_date <= $as_of
),
everyone AS (
    SELECT coalesce(b.customer_id, p.customer_id) AS customer_id, p.* EXCLUDE (customer_id),
           b.* EXCLUDE (customer_id)
    FROM buyers b FULL JOIN people p ON b.customer_id = p.customer_id
),
contacts AS (
    SELECT customer_id, interaction_date AS day, direction, kind FROM interactions
    WHERE interaction_date <= $as_of AND interaction_date > $start
),
outbound AS (SELECT customer_id, day FROM contacts WHERE direction = 'outbound'),
purchase_days AS (
    SELECT DISTINCT customer_id, order_date AS day FROM transactions
    WHERE amount >= 0 AND order_date <= $as_of AND customer_id IN (SELECT customer_id FROM outbound)
),
followed AS (  -- each purchase day of the window and our first contact on or after it
    SELECT p.customer_id, count(*) AS window_purchases,
           count(*) FILTER (WHERE date_diff('day', p.day, o.day) <= $follow_up_days) AS followed_purchases
    FROM (SELECT * FROM purchase_days WHERE day > $start) p
    ASOF LEFT JOIN outbound o ON p.customer_id = o.customer_id AND o.day >= p.day
    GROUP BY p.customer_id
),
untied AS (  -- our contacts and the last purchase day on or before each
    SELECT o.customer_id,
           count(*) FILTER (WHERE p.day IS NULL OR date_diff('day', p.day, o.day) > $follow_up_days) AS proactive_contacts
    FROM outbound o ASOF LEFT JOIN purchase_days p ON o.customer_id = p.customer_id AND o.day >= p.day
    GROUP BY o.customer_id
),
counts AS (
    SELECT customer_id, count(*) AS contacts,
           count(*) FILTER (WHERE direction = 'inbound') AS inbound_contacts,
           count(*) FILTER (WHERE kind = 'joint_project') AS joint_projects
    FROM contacts GROUP BY customer_id
),
referrals AS (
    SELECT referred_by AS customer_id, count(*) AS referrals FROM customers
    WHERE referred_by IS NOT NULL AND (created_date IS NULL OR created_date <= $as_of)
    GROUP BY referred_by
),
discounts AS (
    SELECT customer_id, avg(discounted::INT) AS discount_share FROM transactions
    WHERE order_date <= $as_of AND amount > 0 AND discounted IS NOT NULL
    GROUP BY customer_id
)
SELECT e.*,
       coalesce(f.window_purchases, 0) AS window_purchases,
       coalesce(f.followed_purchases, 0) AS followed_purchases,
       coalesce(u.proactive_contacts, 0) AS proactive_contacts,
       coalesce(c.inbound_contacts, 0) AS inbound_contacts,
       coalesce(c.joint_projects, 0) AS joint_projects,
       coalesce(c.contacts, 0) AS contacts,
       d.discount_share,
       coalesce(r.referrals, 0) AS referrals
FROM everyone e
LEFT JOIN counts c USING (customer_id)
LEFT JOIN followed f USING (customer_id)
LEFT JOIN untied u USING (customer_id)
LEFT JOIN discounts d USING (customer_id)
LEFT JOIN referrals r USING (customer_id)
"""


def window_start(as_of: date, rules: LadderRules) -> date:
    return as_of - timedelta(days=rules.window_days)


def customer_facts(store: Store, buyers: pd.DataFrame, as_of: date, rules: LadderRules) -> pd.DataFrame:
    """`buyers` (customer_id, buyer_row = 0, 1, ...) full-joined with everyone known by `as_of`: their
    attributes, the contact counts of the window (window_purchases and followed_purchases count the
    purchase days of customers we contacted; 0 for the rest), the share of purchase lines on discount
    (NaN when unknown) and the customers each one referred. Rows: the buyers in buyer_row order, then
    the prospects by customer_id (sorted in Arrow: in the query, a sort on a million strings would cost
    more than all the rest); prospects have buyer_row = len(buyers)."""
    params = {"as_of": as_of, "start": window_start(as_of, rules), "follow_up_days": rules.follow_up_days}
    with store.cursor() as cur:
        cur.register("buyers", buyers)
        facts = cur.sql(FACTS_SQL, params=params).to_arrow_table()
    row = pc.fill_null(facts["buyer_row"], len(buyers)).to_numpy()
    order = np.empty(len(buyers), np.int64)
    order[row[row < len(buyers)]] = np.flatnonzero(row < len(buyers))  # buyer_row is a permutation: no sort
    prospects = np.flatnonzero(row == len(buyers))
    prospects = prospects[pc.sort_indices(facts["customer_id"].take(prospects)).to_numpy()]
    facts = facts.take(np.concatenate([order, prospects]))
    return facts.set_column(facts.schema.get_field_index("buyer_row"), "buyer_row",
                            pc.fill_null(facts["buyer_row"], len(buyers))).to_pandas(date_as_object=False)


def relationship_forms(facts: pd.DataFrame, rules: LadderRules) -> pd.Categorical:
    """The form of each row of contact facts, the highest rule that holds (LadderRules)."""
    purchases = facts["window_purchases"].to_numpy(float)
    followed = facts["followed_purchases"].to_numpy(float)
    share = np.divide(followed, purchases, out=np.zeros(len(facts)), where=purchases > 0)
    conditions = [
        facts["joint_projects"].to_numpy() >= rules.partner_min_joint_projects,
        facts["proactive_contacts"].to_numpy() >= rules.proactive_min_contacts,
        (followed > 0) & (share >= rules.responsible_min_share),
        facts["inbound_contacts"].to_numpy() >= rules.passive_min_inbound,
    ]
    codes = np.select(conditions, [FORMS.index(f) for f in ("partner", "proactive", "responsible", "passive")],
                      FORMS.index("basic"))
    return categorical(codes, FORMS)


def relationship_levels(forms: pd.Categorical, rules: LadderRules) -> pd.Categorical:
    """The level each form serves (LadderRules.levels); missing forms have no level."""
    level_of = dict(rules.levels)
    lookup = np.array([LEVELS.index(level_of[form]) for form in forms.categories] + [-1])
    return categorical(lookup[forms.codes], LEVELS)  # code -1 (no form) reads the appended -1


def maturity(bought_in_window, contacted_in_window) -> pd.Categorical:
    """current (bought in the window), target (contact, no purchase), potential (neither)."""
    bought, contacted = np.asarray(bought_in_window, bool), np.asarray(contacted_in_window, bool)
    return categorical(np.select([bought, contacted], [0, 1], 2), MATURITIES)


BEHAVIOUR_RULES = ("discount_hunter", "loyal_frequent", "loyal_referrer", "target", "incidental_once",
                   "incidental_no_pattern")
BEHAVIOUR_OF_RULE = np.array([BEHAVIOURS.index(kind) for kind in
                              ("discount_hunter", "loyal", "loyal", "target", "incidental", "incidental")])


def behaviour_types(purchases, tenure_days, revenue, discount_share, referrals, best,
                    rules: BehaviourRules) -> tuple[pd.Categorical, pd.Categorical, np.ndarray]:
    """(behaviour_type, behaviour_rule, best_distance) for buyers, from their purchase days, days since
    the first purchase, revenue, share of lines on discount (NaN: unknown), customers referred, and a
    mask of the best customers (tier A) whose profile "target" customers come close to."""
    purchases, tenure = np.asarray(purchases, float), np.asarray(tenure_days, float)
    distance = best_distance(purchases, tenure, np.asarray(revenue, float), best, rules)
    hunter = (purchases >= rules.hunter_min_purchases) & (
        np.nan_to_num(np.asarray(discount_share, float), nan=0.0) >= rules.hunter_min_share)
    frequent = (purchases >= rules.loyal_min_purchases) & (tenure >= rules.loyal_min_tenure_days)
    referrer = (np.asarray(referrals) >= rules.loyal_min_referrals) & (purchases >= 2)
    target = distance <= rules.target_max_distance
    once = purchases <= 1
    rule = np.select([hunter, frequent, referrer, target, once], range(5), 5)
    return categorical(BEHAVIOUR_OF_RULE[rule], BEHAVIOURS), categorical(rule, BEHAVIOUR_RULES), distance


def _profile(purchases, tenure, revenue, rules: BehaviourRules) -> tuple[np.ndarray, np.ndarray]:
    """log spend per purchase day and log purchase days per year (NaN where spend is not positive)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        spend = np.where(revenue > 0, np.log(revenue / np.maximum(purchases, 1)), np.nan)
        years = np.maximum(tenure, rules.target_min_tenure_days) / 365.25
        rate = np.log(np.maximum(purchases, 1) / years)
    return spend, rate


def best_distance(purchases, tenure, revenue, best, rules: BehaviourRules) -> np.ndarray:
    """How far each customer's profile is from the best customers' median, in the best customers'
    standard deviations, on the worse of the two axes (spend per purchase, purchases per year)."""
    spend, rate = _profile(purchases, tenure, revenue, rules)
    best = np.asarray(best, bool) & ~np.isnan(spend)
    if best.sum() < 2:
        return np.full(len(spend), np.inf)
    distances = []
    for axis in (spend, rate):
        centre, spread = np.median(axis[best]), np.std(axis[best])
        distances.append(np.abs(axis - centre) / (spread if spread > 0 else 1.0))
    return np.nan_to_num(np.maximum(*distances), nan=np.inf)
