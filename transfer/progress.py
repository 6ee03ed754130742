"""Progress bars for long work (tqdm, on stderr)."""

from __future__ import annotations

import sys


def progress_bar(total: int, enabled=None, desc: str = "transfer", unit: str = "step"):
    """A tqdm bar on stderr, or None. ``enabled``: True, False, or None for "when stderr is a
    terminal"."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, leave=False)
