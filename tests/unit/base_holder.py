"""Another process that holds a base open for writing until the test lets it go: the command line
in the middle of a long import, as far as DuckDB's file lock is concerned."""
from __future__ import annotations

import subprocess
import sys
from contextlib import contextmanager

from tests.conftest import REPO

# The holder says "held" once it has the file, and closes it when a line arrives on stdin.
HOLD = "import sys; from crm_logic.store import Store; s = Store(sys.argv[1]); print('held', flush=True); " \
       "sys.stdin.readline(); s.close()"


@contextmanager
def held_base(path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], cwd=REPO, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=60)
