"""Kept scenarios on a real DuckDB file, and the `scenario` command as an analyst runs it."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from crm_logic import scenarios as sc
from crm_logic.demo import build_demo
from crm_logic.store import Store
from tests.conftest import REPO


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("kept") / "demo.duckdb"
    with Store(path) as store:
        build_demo(store, customers=800, seed=5)
    return path


def test_saving_a_scenario_does_not_change_the_data_set_version(tmp_path, db):
    path = tmp_path / "copy.duckdb"
    path.write_bytes(db.read_bytes())
    with Store(path) as store:
        version = store.dataset_version
        sc.save_scenario(store, "Club", {"retention": 0.05}, {"delta_equity": 1.0})
        assert store.dataset_version == version


def test_saved_scenarios_survive_a_restart_and_deleting_one_leaves_the_others(tmp_path, db):
    path = tmp_path / "copy.duckdb"
    path.write_bytes(db.read_bytes())
    with Store(path) as store:
        club = sc.save_scenario(store, "会员俱乐部", {"retention": 0.05, "segments": ["at_risk"]}, {"delta_equity": 12.5},
                                description="二级关系营销", author="王经理")
        price = sc.save_scenario(store, "Price cut", {"price": -0.05})
        copy = sc.duplicate_scenario(store, price, "Price cut (2)")
    with Store(path) as store:  # a new process on the same file
        kept = sc.list_scenarios(store).set_index("scenario_id")
        assert set(kept.index) == {club, price, copy}
        assert kept.loc[club, "name"] == "会员俱乐部" and kept.loc[club, "author"] == "王经理"
        assert kept.loc[club, "levers"] == {"retention": 0.05, "segments": ["at_risk"]}
        assert kept.loc[club, "results"] == {"delta_equity": 12.5}
        assert kept.loc[copy, "levers"] == {"price": -0.05}
        sc.delete_scenario(store, price)
    with Store(path) as store:
        assert set(sc.list_scenarios(store)["scenario_id"]) == {club, copy}
        assert sc.get_scenario(store, price) is None


def test_new_data_marks_saved_scenarios_as_older_until_recomputed(tmp_path, db):
    path = tmp_path / "copy.duckdb"
    path.write_bytes(db.read_bytes())
    with Store(path) as store:
        kept = sc.save_scenario(store, "Club", {"retention": 0.05}, {"delta_equity": 1.0})
        assert not sc.get_scenario(store, kept)["stale"]
        with store.transaction() as cur:  # an import
            cur.execute("INSERT INTO transactions (customer_id, order_date, amount) VALUES ('NEW', DATE '2026-06-01', 10)")
        assert sc.get_scenario(store, kept)["stale"]
        sc.update_results(store, kept, {"delta_equity": 2.0})
        again = sc.get_scenario(store, kept)
        assert not again["stale"] and again["results"] == {"delta_equity": 2.0}


def test_a_base_without_scenarios_lists_none(tmp_path):
    with Store(tmp_path / "empty.duckdb") as store:
        assert sc.list_scenarios(store).empty


def cli(*args):
    return subprocess.run([sys.executable, "-m", "crm_logic", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


def test_the_scenario_command_prints_the_named_figures(db):
    done = cli("scenario", "--db", db, "--levers", '{"retention": 0.05}')
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    for key in ("baseline_equity", "scenario_equity", "delta_equity", "investment", "roi"):
        assert key in out
    assert out["delta_equity"] > 0 and out["scenario_equity"] == pytest.approx(out["baseline_equity"] + out["delta_equity"])
    assert out["investment"] == 0 and out["roi"] is None


def test_the_scenario_command_with_no_levers_gives_the_baseline_exactly(db):
    done = cli("scenario", "--db", db, "--levers", "{}")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["scenario_equity"] == out["baseline_equity"]


def test_the_scenario_command_scopes_a_lever_to_a_class(db):
    whole = json.loads(cli("scenario", "--db", db, "--levers", '{"retention": 0.05}').stdout)
    dealers = json.loads(cli("scenario", "--db", db, "--levers", '{"retention": 0.05, "classes": ["dealer"]}').stdout)
    assert 0 < dealers["delta_equity"] < whole["delta_equity"]


def test_the_scenario_command_refuses_an_unknown_lever(db):
    done = cli("scenario", "--db", db, "--levers", '{"retenton": 0.05}')
    assert done.returncode == 2 and "retenton" in done.stderr


def test_the_scenario_help_documents_the_lever_keys():
    done = cli("scenario", "--help")
    for key in ("retention", "frequency", "spend", "price", "elasticity", "segments", "margin", "horizon_months",
                "new_customers_per_month", "programmes", "moves"):
        assert key in done.stdout


def test_the_scenario_command_scopes_a_lever_to_a_segment(db):
    whole = json.loads(cli("scenario", "--db", db, "--levers", '{"retention": 0.05}').stdout)
    done = cli("scenario", "--db", db, "--levers", '{"retention": 0.05, "segments": ["at_risk"]}')
    assert done.returncode == 0, done.stderr
    at_risk = json.loads(done.stdout)
    assert 0 < at_risk["delta_equity"] < whole["delta_equity"]
