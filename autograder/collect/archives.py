"""Zip files: a student's archive extracted safely (no absolute paths, no `..`, bounded size)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

MAX_ZIP_BYTES = 50 * 1024 * 1024


def unzip(archive: Path, target: Path) -> Path:
    """Extract a student's zip safely: no absolute paths, no `..`, bounded size."""
    target.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(archive) as zf:
            total = 0
            for info in zf.infolist():
                name = Path(info.filename)
                if info.is_dir() or name.is_absolute() or ".." in name.parts:
                    continue
                if "__MACOSX" in name.parts:
                    continue
                total += info.file_size
                if total > MAX_ZIP_BYTES:
                    break
                dest = target / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out)
    except zipfile.BadZipFile:
        pass  # nothing extracted: every notebook of the student is reported missing
    return target
