import sys
from pathlib import Path

# The op harness is imported by the op tests as a plain module.
sys.path.insert(0, str(Path(__file__).resolve().parent / "ops"))
