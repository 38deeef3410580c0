"""Where the shared real-world inputs live. They are read in place, never copied
into the repository (see ../shared/corpora/README.md)."""

from pathlib import Path

CORPORA = Path(__file__).resolve().parents[3] / "shared" / "corpora"
