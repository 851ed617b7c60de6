"""Time an upload's first read+check and later widget clicks on the Data page (AppTest, one process):
.venv/bin/python bench/bench_upload_clicks.py ROWS  — the check is cached on the file's hash, so a click
must not re-read or re-check the file (issue 9)."""
import os
import resource
import sys
import tempfile
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.getcwd())
n = int(sys.argv[1])
os.environ["CRM_DATA_DIR"] = tempfile.mkdtemp()
rng = np.random.default_rng(1)
frame = pd.DataFrame({"customer_id": "C" + pd.Series(rng.integers(0, n // 5, n)).astype(str),
                      "order_date": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D"),
                      "amount": rng.gamma(2, 50, n).round(2)})
frame["order_date"] = frame["order_date"].dt.strftime("%Y-%m-%d")
data = frame.to_csv(index=False).encode()
from crm_logic.store import Store, base_path  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

Store(base_path("demo")).close()
at = AppTest.from_file(os.path.join(os.getcwd(), "app.py"), default_timeout=900)
at.session_state["lang"] = "en"
at.run()
at.switch_page("views/data.py").run()
t = time.perf_counter(); at.file_uploader(key="upload").set_value(("big.csv", data, "text/csv")).run()
first = time.perf_counter() - t
t = time.perf_counter(); at.checkbox(key="skip_invalid").check().run(); click = time.perf_counter() - t
t = time.perf_counter(); at.checkbox(key="replace").check().run(); click2 = time.perf_counter() - t
print(f"{n:,} rows, {len(data)/1e6:.0f} MB: first read+check {first:.1f} s, click {click:.2f} s, click {click2:.2f} s, "
      f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1e6:.2f} GB", [e.value for e in at.exception])
