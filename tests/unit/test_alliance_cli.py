"""`score` carries the alliance columns, under exactly the names the contract gives them."""
import subprocess
import sys

import pandas as pd

from crm_logic.alliance import MOVES, TYPES
from crm_logic.demo import build_demo
from crm_logic.store import Store
from tests.conftest import REPO

COLUMNS = ["current_relationship_type", "recommended_relationship_type", "relationship_move", "luxurious",
           "alliance_mode", "attractiveness", "position"]


def test_score_adds_the_alliance_columns_on_the_demo(tmp_path):
    db, out = tmp_path / "demo.duckdb", tmp_path / "scores.parquet"
    with Store(db) as store:
        build_demo(store, customers=800, seed=5)
    done = subprocess.run([sys.executable, "-m", "crm_logic", "score", "--db", str(db), "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    scores = pd.read_parquet(out)
    assert set(COLUMNS) <= set(scores.columns)
    with Store(db, read_only=True) as store:
        buyers = store.scalar("SELECT count(DISTINCT customer_id) FROM transactions")
        margin = store.df("""SELECT a.customer_id, a.relationship_cost::DOUBLE > coalesce(sum(t.gross_margin) FILTER (
                                 WHERE t.order_date > (SELECT max(order_date) FROM transactions) - INTERVAL 365 DAY), 0)
                                 AS luxurious
                             FROM accounts a JOIN transactions t USING (customer_id) GROUP BY a.customer_id, a.relationship_cost""")
    assert len(scores) == buyers
    assert set(scores["recommended_relationship_type"]) <= set(TYPES) and set(scores["relationship_move"]) <= set(MOVES)
    assert scores["attractiveness"].between(0, 1).all() and scores["position"].between(0, 1).all()
    assert scores["alliance_mode"].notna().sum() <= (scores["relationship_move"] == "deepen").sum()
    flagged = scores.set_index("customer_id").loc[margin["customer_id"], "luxurious"]
    assert flagged.tolist() == margin["luxurious"].tolist()
