"""Stand-in for the segments room (issue 11): only the relationship forms and levels the alliance page
needs, by the rules of crm-concepts.md section 2. The segments room's tiers.py replaces this file."""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from crm_logic.store import Store

LEVEL_BY_FORM = {"basic": "level_1_financial", "passive": "level_1_financial", "responsible": "level_2_social",
                 "proactive": "level_2_social", "partner": "level_3_structural"}


def segment_table(store: Store, values: pd.DataFrame, as_of: date, rules: dict | None = None) -> pd.DataFrame:
    """relationship_form and relationship_level per buyer, from the contacts of the last 12 months."""
    forms = store.df("""
        WITH c AS (SELECT * FROM interactions WHERE interaction_date <= $as_of AND interaction_date > $year_ago),
        follow AS (SELECT t.customer_id, avg((EXISTS (SELECT 1 FROM interactions i WHERE i.customer_id = t.customer_id
                          AND i.kind = 'follow_up' AND i.interaction_date BETWEEN t.order_date AND t.order_date + 30))::INT) AS share
                   FROM transactions t WHERE t.amount > 0 AND t.order_date <= $as_of GROUP BY 1)
        SELECT customer_id,
               CASE WHEN bool_or(kind = 'joint_project') THEN 'partner'
                    WHEN count(*) FILTER (WHERE direction = 'outbound' AND kind IN ('new_product_info', 'visit')) >= 4 THEN 'proactive'
                    WHEN max(f.share) >= 0.5 THEN 'responsible'
                    WHEN bool_and(direction = 'inbound') THEN 'passive' ELSE 'basic' END AS relationship_form
        FROM c LEFT JOIN follow f USING (customer_id) GROUP BY customer_id""",
                     {"as_of": as_of, "year_ago": as_of - timedelta(days=365)})
    out = values[["customer_id"]].merge(forms, on="customer_id", how="left").fillna({"relationship_form": "basic"})
    out["relationship_level"] = out["relationship_form"].map(LEVEL_BY_FORM)
    return out
