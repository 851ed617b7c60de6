"""One benchmark run, side by side: ours vs lifetimes 0.11.3 vs pymc-marketing (MAP), then the whole
DuckDB -> customer values path against a bare GROUP BY.

Each library runs in its own environment, in its own fresh process, one after the other on an otherwise
idle machine; each loads the same simulated summary from disk (not timed), does one untimed warm-up on
1,000 customers, then the timed calls. Results: bench/out/results.json and bench/out/results.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from scipy.special import betaln, gammaln

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
OUT = BENCH / "out"
PYTHON = {
    "ours": REPO / ".venv" / "bin" / "python",
    "lifetimes": BENCH / ".venv" / "bin" / "python",
    "pymc": BENCH / ".venv" / "bin" / "python",
}
LIBRARIES = ("ours", "lifetimes", "pymc")
LABEL = {"ours": "ours", "lifetimes": "lifetimes 0.11.3", "pymc": "pymc-marketing (MAP)"}
BG_PARAMS = ("r", "alpha", "a", "b")
GG_PARAMS = ("p", "q", "gamma")
GOAL_FIT, GOAL_SCORE, GOAL_PIPELINE = 10.0, 5.0, 10.0


def run_measured(python: Path, *args: str) -> dict:
    """Run one script in a fresh process; wall time and that process's own peak RSS (os.wait4 rusage)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(BENCH), str(REPO)]), "PYTHONWARNINGS": "ignore"}
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(python), *args], cwd=BENCH, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"{python} {' '.join(args)} failed with exit code {proc.returncode}")
    return {"process_seconds": seconds, "peak_rss_mb": usage.ru_maxrss / 1024}


def bg_nbd_log_likelihood(params: dict, x, t_x, T) -> float:
    """Fader, Hardie & Lee (2005) eq. 6, written here independently of all three libraries."""
    r, alpha, a, b = (params[k] for k in BG_PARAMS)
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    alive = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        dead = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x), -np.inf)
    return float(np.sum(common + np.logaddexp(alive, dead)))


def gamma_gamma_log_likelihood(params: dict, x, m) -> float:
    """Fader & Hardie (2013) eq. 3 (density of the mean spend m of x repeat transactions), summed."""
    p, q, g = (params[k] for k in GG_PARAMS)
    px = p * x
    ll = (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(g) + (px - 1) * np.log(m)
          + px * np.log(x) - (px + q) * np.log(g + m * x))
    return float(np.sum(ll))


def max_rel_diff(ours: dict, theirs: dict) -> float:
    return max(abs(ours[k] - theirs[k]) / abs(theirs[k]) for k in theirs)


def ensure_data(customers: int, fresh: bool) -> dict:
    summary = OUT / f"summary_{customers}.npz"
    store = OUT / f"transactions_{customers}.duckdb"
    made = {"summary": str(summary.relative_to(REPO)), "store": str(store.relative_to(REPO))}
    if fresh or not summary.exists():
        made["summary_seconds"] = run_measured(
            PYTHON["ours"], "simulate.py", "--customers", str(customers), "--summary", str(summary))["process_seconds"]
    if fresh or not store.exists():
        made["store_seconds"] = run_measured(
            PYTHON["ours"], "simulate.py", "--customers", str(customers), "--duckdb", str(store))["process_seconds"]
    return made


def run_models(summary: Path, pymc_n: int | None) -> dict:
    results = {}
    for lib in LIBRARIES:
        out = OUT / f"models_{lib}.json"
        args = [f"bench_{lib}.py", "--summary", str(summary), "--out", str(out)]
        if lib != "pymc":
            args += ["--predictions", str(OUT / f"predictions_{lib}.npz")]
        elif pymc_n:
            args += ["--n", str(pymc_n)]
        print(f"--- {LABEL[lib]}", flush=True)
        process = run_measured(PYTHON[lib], *args)
        results[lib] = {**json.loads(out.read_text()), **process}
    return results


PIPELINE_MODES = ("groupby", "scores", "scores_bg_nbd")
SEGMENT_MODES = ("segments",)  # issue 11: customer_values, then segment_table and the migration (own table)
CHURN_MODES = ("churn",)  # issue 12: customer_values, then the churn evaluation, table, alerts and cohorts


def run_pipeline(store: Path, repeats: int) -> dict:
    """The GROUP BY and the scores paths, each in a fresh process, taking turns; the fastest of each
    one's `repeats` runs (the same number for the yardstick and for ours)."""
    results: dict[str, dict] = {}
    for _ in range(repeats):
        for mode in PIPELINE_MODES + SEGMENT_MODES + CHURN_MODES:
            out = OUT / f"pipeline_{mode}.json"
            print(f"--- pipeline: {mode}", flush=True)
            process = run_measured(PYTHON["ours"], "bench_pipeline.py", mode, "--store", str(store), "--out", str(out))
            result = {**json.loads(out.read_text()), **process}
            if mode not in results or result["seconds"] < results[mode]["seconds"]:
                results[mode] = result
    return results


def compare(models: dict, summary: Path) -> dict:
    with np.load(summary) as d:
        x, t_x, T, m = d["frequency"], d["recency"], d["T"], d["monetary_value"]
    rep = x > 0
    for lib, res in models.items():
        bg, gg = res["fit"]["bg_nbd"], res["fit"]["gamma_gamma"]
        n = res["customers"]
        bg["log_likelihood"] = bg_nbd_log_likelihood(bg["params"], x[:n], t_x[:n], T[:n])
        gg["log_likelihood"] = gamma_gamma_log_likelihood(gg["params"], x[:n][rep[:n]], m[:n][rep[:n]])
    cmp = {"params_max_rel_diff_vs_lifetimes": {}, "scores_max_rel_diff_vs_lifetimes": {}}
    for model, names in (("bg_nbd", BG_PARAMS), ("gamma_gamma", GG_PARAMS)):
        theirs = models["lifetimes"]["fit"][model]["params"]
        cmp["params_max_rel_diff_vs_lifetimes"][model] = {
            lib: max_rel_diff(models[lib]["fit"][model]["params"], theirs)
            for lib in ("ours", "pymc") if models[lib]["customers"] == models["lifetimes"]["customers"]
        }
    ours, theirs = np.load(OUT / "predictions_ours.npz"), np.load(OUT / "predictions_lifetimes.npz")
    for key in ("p_alive", "expected_purchases", "clv"):
        a, b = ours[key], theirs[key]
        cmp["scores_max_rel_diff_vs_lifetimes"][key] = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))
    return cmp


def fmt(value, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return f"{value:,.{digits}f}"


def table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def report(results: dict) -> str:
    models, cmp, pipe = results["models"], results["comparison"], results.get("pipeline")
    o, lt, pm = models["ours"], models["lifetimes"], models["pymc"]
    pm_scale = o["customers"] / pm["customers"]  # linear extrapolation when pymc ran on fewer customers
    parts = [f"Run {results['date']} on {results['machine']}. Other processes: 1-minute load average "
             f"{results['load_before']:.2f} before the run, {results.get('other_cpu_share', float('nan')):.0%} "
             f"of the machine's CPU during it."]

    # 1. fits
    rows = []
    for model, names, label in (("bg_nbd", BG_PARAMS, "BG/NBD"), ("gamma_gamma", GG_PARAMS, "Gamma-Gamma")):
        t = {lib: models[lib]["fit"][model]["seconds"] for lib in LIBRARIES}
        t_pm = t["pymc"] * pm_scale
        faster = min(t["lifetimes"], t_pm)
        speedup = faster / t["ours"]
        pm_cell = fmt(t["pymc"]) + ("" if pm_scale == 1 else f" (n={pm['customers']:,}; ×{pm_scale:g} ≈ {t_pm:,.1f})")
        rows.append([f"{label} fit [s]", fmt(t["ours"]), fmt(t["lifetimes"]), pm_cell,
                     f"{speedup:,.1f}× {'✅' if speedup >= GOAL_FIT else '❌'} (goal ≥{GOAL_FIT:g}×)"])
        for k in names:
            rows.append([f"  {k}", *(fmt(models[lib]["fit"][model]["params"][k], 6) for lib in LIBRARIES), ""])
        diff = cmp["params_max_rel_diff_vs_lifetimes"][model]
        ok = diff.get("ours", 1) <= 1e-3
        rows.append([f"  max rel. diff vs lifetimes", f"{diff.get('ours', float('nan')):.1e} {'✅' if ok else '❌'}", "0",
                     f"{diff['pymc']:.1e}" if "pymc" in diff else "—", "goal ≤1e-3"])
        rows.append([f"  log-likelihood (independent eval.)",
                     *(fmt(models[lib]["fit"][model]["log_likelihood"], 3) for lib in LIBRARIES), ""])
    t_tot = {lib: sum(models[lib]["fit"][m]["seconds"] for m in ("bg_nbd", "gamma_gamma")) for lib in LIBRARIES}
    speedup = min(t_tot["lifetimes"], t_tot["pymc"] * pm_scale) / t_tot["ours"]
    rows.append(["both fits [s]", fmt(t_tot["ours"]), fmt(t_tot["lifetimes"]), fmt(t_tot["pymc"] * pm_scale),
                 f"{speedup:,.1f}× {'✅' if speedup >= GOAL_FIT else '❌'}"])
    rows.append(["fit process peak RSS [MB]", *(fmt(models[lib]["peak_rss_mb"], 0) for lib in LIBRARIES), ""])
    parts.append(f"### 1. Fit on {o['customers']:,} customers ({o['repeat_customers']:,} with repeat purchases)\n\n"
                 + table(rows, ["", "ours", LABEL["lifetimes"], LABEL["pymc"], "ours vs the faster"]))

    # 2. scoring
    rows = []
    for key, label in (("p_alive", "P(alive)"), ("expected_purchases", "expected purchases, 12 months"),
                       ("clv", "CLV, 12 months, 1 %/month")):
        a, b = o["score"][key], lt["score"][key]
        rows.append([f"{label} [s]", fmt(a, 3), fmt(b, 3), f"{b / a:,.1f}×",
                     f"{cmp['scores_max_rel_diff_vs_lifetimes'][key]:.1e}"])
    a, b = o["score"]["total"], lt["score"]["total"]
    rows.append(["all three [s]", fmt(a, 3), fmt(b, 3),
                 f"{b / a:,.1f}× {'✅' if b / a >= GOAL_SCORE else '❌'} (goal ≥{GOAL_SCORE:g}×)", ""])
    rows.append(["sum of CLV", fmt(o["score"]["sums"]["clv"], 0), fmt(lt["score"]["sums"]["clv"], 0), "", ""])
    parts.append(f"### 2. Score all {o['customers']:,} customers\n\n"
                 + table(rows, ["", "ours", LABEL["lifetimes"], "speed-up", "max rel. diff of the scores"]))

    # 3. pipeline
    if pipe:
        g = pipe["groupby"]
        modes = [m for m in PIPELINE_MODES if m != "groupby"]
        ratios = {m: pipe[m]["seconds"] / g["seconds"] for m in modes}
        rows = [
            ["wall time in process [s]", fmt(g["seconds"]), *(fmt(pipe[m]["seconds"]) for m in modes)],
            ["ratio to the bare GROUP BY (goal ≤10×)", "1×",
             *(f"{ratios[m]:,.1f}× {'✅' if ratios[m] <= GOAL_PIPELINE else '❌'}" for m in modes)],
            ["process wall time incl. start-up and imports [s]", *(fmt(pipe[m]["process_seconds"]) for m in PIPELINE_MODES)],
            ["peak RSS of the process [MB]", *(fmt(pipe[m]["peak_rss_mb"], 0) for m in PIPELINE_MODES)],
            ["rows written", *(fmt(pipe[m]["rows"], 0) for m in PIPELINE_MODES)],
        ]
        stages = list(dict.fromkeys(k for m in modes for k in pipe[m]["steps"]))
        for stage in stages:
            rows.append([f"  stage: {stage} [s]", "", *(fmt(pipe[m]["steps"].get(stage)) for m in modes)])
        parts.append(f"### 3. DuckDB ({g['transactions']:,} transactions, {g['customers']:,} customers) → customer values\n\n"
                     + table(rows, ["", "bare GROUP BY", "facts + values (default: model auto)",
                                    "facts + values (model bg_nbd)"]))

    if pipe and "segments" in pipe:
        steps = pipe["segments"]["steps"]
        rows = [[f"  stage: {stage} [s]", fmt(seconds)] for stage, seconds in steps.items()]
        rows.append(["segments vs the CLV scoring stage (goal: below)",
                     f"{steps['segments'] / steps['score']:,.2f}× {'✅' if steps['segments'] < steps['score'] else '❌'}"])
        rows.append(["peak RSS of the process [MB]", fmt(pipe["segments"]["peak_rss_mb"], 0)])
        parts.append(f"### 4. Segments, tiers and ladder of {pipe['segments']['rows']:,} customers "
                     "(`bench_pipeline.py segments`)\n\n" + table(rows, ["", "customer_values (BG/NBD) → segment_table"]))

    if pipe and "churn" in pipe:
        steps = pipe["churn"]["steps"]
        rows = [[f"  stage: {stage} [s]", fmt(seconds)] for stage, seconds in steps.items()]
        signals = sum(steps[s] for s in ("evaluation", "churn", "new_alerts", "cohorts", "survival"))
        rows.append(["all churn stages [s]", fmt(signals)])
        rows.append(["peak RSS of the process [MB]", fmt(pipe["churn"]["peak_rss_mb"], 0)])
        parts.append(f"### 5. Churn signals of {pipe['churn']['rows']:,} customers (`bench_pipeline.py churn`)\n\n"
                     + table(rows, ["", "customer_values (BG/NBD) → churn_table"]))

    versions = {LABEL[lib]: models[lib]["versions"] for lib in LIBRARIES}
    parts.append("Versions: " + "; ".join(f"{k}: " + ", ".join(f"{n} {v}" for n, v in vs.items())
                                          for k, vs in versions.items()))
    return "\n\n".join(parts) + "\n"


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return f"{cpu}, {os.cpu_count()} cores, {mem_kb / 1024 ** 2:.0f} GB RAM, {platform.system()} {platform.release()}"


def load() -> float:
    """The 1-minute load average: other work on the machine shows up here."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def cpu_seconds() -> tuple[float, float]:
    """(busy CPU seconds of the whole machine, CPU seconds of this process and its children) so far."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = sum(ticks) - ticks[3] - ticks[4]  # everything but idle and iowait
    own = sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
              for f in ("ru_utime", "ru_stime"))
    return busy / os.sysconf("SC_CLK_TCK"), own


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--pymc-n", type=int, default=None, help="fit pymc-marketing on fewer customers")
    parser.add_argument("--pipeline-repeats", type=int, default=3, help="runs of each pipeline mode (fastest kept)")
    parser.add_argument("--skip-pipeline", action="store_true")
    parser.add_argument("--fresh", action="store_true", help="simulate the data again")
    args = parser.parse_args()
    for lib, python in PYTHON.items():
        if not python.exists():
            raise SystemExit(f"{python} missing: run `make -C bench envs` first")

    OUT.mkdir(exist_ok=True)
    t0, cpu0 = time.perf_counter(), cpu_seconds()
    results = {"date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"), "machine": machine(), "load_before": load()}
    if results["load_before"] > 0.5:
        print(f"warning: load average {results['load_before']:.2f} before the run: other processes skew the times")
    results["data"] = ensure_data(args.customers, args.fresh)
    summary = REPO / results["data"]["summary"]
    results["models"] = run_models(summary, args.pymc_n)
    results["comparison"] = compare(results["models"], summary)
    if not args.skip_pipeline:
        results["pipeline"] = run_pipeline(REPO / results["data"]["store"], args.pipeline_repeats)
    results["total_seconds"] = time.perf_counter() - t0
    cpu1 = cpu_seconds()
    results["other_cpu_share"] = max(0.0, (cpu1[0] - cpu0[0]) - (cpu1[1] - cpu0[1])) / (
        results["total_seconds"] * (os.cpu_count() or 1))

    (OUT / "results.json").write_text(json.dumps(results, indent=2, default=float))
    text = report(results) + f"\nWhole run: {results['total_seconds']:,.0f} s\n"
    (OUT / "results.md").write_text(text)
    print("\n" + text)


if __name__ == "__main__":
    sys.exit(main())
