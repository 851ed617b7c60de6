"""Settings belong to the person: sessions changing the discount rate at the same moment each see the
equity of their own rate, computed independently for one user alone."""
from concurrent.futures import ThreadPoolExecutor

from streamlit.testing.v1.util import patch_config_options

from crm_logic.scores import ScoreSettings, compute_scores
from crm_logic.store import Store, base_path
from tests.app.conftest import assert_clean, run_page
from tests.conftest import load_cdnow_sample
from ui import format as fmt

RATES = (0.0, 0.5, 1.5, 2.5, 4.0, 6.0)  # % a month: their equities differ in the digits shown
ROUNDS = 3


def single_user_figures(store, rate):
    """Equity and mean CLV at `rate` as the page shows them, scored from scratch for one user."""
    values, _ = compute_scores(store, ScoreSettings(as_of=store.info().last_date, monthly_discount=rate / 100))
    return [fmt.money(values.clv.sum(), "en", "$"), fmt.money(values.clv.mean(), "en", "$")]


# AppTest compiles the pages anew on every run, and with Streamlit's "magic" on it parses them with
# ast.parse, which CPython 3.11 does not allow in two threads at once ("AST constructor recursion depth
# mismatch"). The server compiles each page once, under a lock; the test turns magic off (no page uses it).
@patch_config_options({"runner.magicEnabled": False})
def test_simultaneous_sessions_each_see_the_equity_of_their_own_rate(data_dir):
    with Store(base_path("cdnow")) as store:
        load_cdnow_sample(store)
        expected = {rate: single_user_figures(store, rate) for rate in RATES}
    assert len({tuple(v) for v in expected.values()}) == len(RATES)  # a leak could not hide
    sessions = {rate: run_page("views/clv.py", "en", base="cdnow", timeout=300) for rate in RATES}

    def set_rate(rate, shift):
        at = sessions[rate]
        mine = RATES[(RATES.index(rate) + shift) % len(RATES)]  # every round, each session another rate
        at.number_input(key="keep_clv_discount").set_value(mine).run()
        assert_clean(at)
        return mine, [m.value for m in at.metric[:2]]

    with ThreadPoolExecutor(len(RATES)) as pool:
        for shift in range(ROUNDS):
            for mine, seen in pool.map(lambda rate: set_rate(rate, shift), RATES):
                assert seen == expected[mine], f"round {shift}: at {mine} % a session saw {seen}"
    for rate in RATES:  # afterwards, a new session at each rate
        at = run_page("views/clv.py", "en", base="cdnow", timeout=300)
        at.number_input(key="keep_clv_discount").set_value(rate).run()
        assert [m.value for m in at.metric[:2]] == expected[rate]
