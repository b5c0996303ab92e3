"""The shipped list of common (breached) passwords, checked offline wherever a password is set.

`data/common-passwords.txt.gz` is Django's list of 20,000 common passwords (BSD licence), one a
line, lowercase. It is read once per process (about 1 MB in memory as a frozenset); no online
lookup is ever made.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

LIST_PATH = Path(__file__).with_name("data") / "common-passwords.txt.gz"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with gzip.open(LIST_PATH, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip() for line in fh if line.strip())


def is_common(password: str) -> bool:
    """True when the password (ignoring case and surrounding spaces) is on the shipped list."""
    return (password or "").strip().lower() in common_passwords()
