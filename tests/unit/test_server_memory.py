"""The server gives a freed column of values back to the system (bench/README.md, issue 10: memory flat
under setting changes). Run in a fresh process: glibc's threshold depends on what was freed before."""
import platform
import subprocess
import sys

import pytest

from tests.conftest import REPO

PROBE = """
import numpy as np
import ui.state  # what the server imports before its first page

def rss_mb():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1]) // 1024

wide = np.ones(24 << 17); del wide  # a freed 24 MB block: by default glibc serves blocks up to it from its heaps
before = rss_mb()
column = np.ones(16 << 17)  # a 16 MB column, every page touched
during = rss_mb()
del column
print(before, during, rss_mb())
"""


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_a_freed_column_goes_back_to_the_system_after_a_larger_block_was_freed():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, check=True)
    before, during, after = map(int, out.stdout.split())
    assert during - before >= 15  # the column was really held
    assert after - before <= 2  # and handed back when freed (without the app's setting: still held)
