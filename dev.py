#!/usr/bin/env python3
"""Quickstart driver: `python3 dev.py serve` runs the API, `python3 dev.py test` runs the whole suite.

Needs only Python >= 3.11: it creates `.venv`, installs the project with its dev tools (again only when
pyproject.toml changed) and runs the command inside it. Extra arguments go to the command
(`python3 dev.py test -k auth`, `python3 dev.py serve --port 9000`, `python3 dev.py scribe users list`)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed-from"


def ensure_installed() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"Scribe needs Python >= 3.11; this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists() and not (BIN / "python.exe").exists():
        print("creating .venv ...", flush=True)
        venv.create(VENV, with_pip=True)
    python = str(BIN / "python")
    print("installing scribe and its dev tools into .venv ...", flush=True)
    subprocess.run([python, "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run([python, "-m", "pip", "install", "-q", "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(wanted)


def main() -> int:
    command, *args = sys.argv[1:] or ["help"]
    programs = {"serve": ["scribe", "serve"], "test": ["pytest"], "scribe": ["scribe"], "install": []}
    if command not in programs:
        print(__doc__)
        return 0 if command == "help" else 2
    ensure_installed()
    if not programs[command]:
        return 0
    program, *fixed = programs[command]
    return subprocess.run([str(BIN / program), *fixed, *args], cwd=ROOT, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
