"""Zip files: a student's archive extracted safely, or refused with the reason.

Refused (the whole archive, as that student's named error, never an exception that stops the
batch): not a zip or a damaged one, an absolute or `..` path, a name or path too long for the
file system, a file and a folder of the same name (or a name twice), a link entry, more than
`MAX_ZIP_ENTRIES` entries, more than `MAX_ZIP_BYTES` in all (counted as extracted, not as the
headers claim: a zip bomb stops at the limit). Nothing is extracted through a link: every
folder is made here, and files are created with O_EXCL | O_NOFOLLOW.
"""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

MAX_ZIP_BYTES = 50 * 1024 * 1024
MAX_ZIP_ENTRIES = 10_000
MAX_NAME_BYTES = 255  # one path component
MAX_PATH_BYTES = 1024  # a whole entry name


class ArchiveProblem(ValueError):
    """The archive cannot be extracted safely; the message says why, naming the entry."""


def _check_names(infos: list[zipfile.ZipInfo]) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    if len(infos) > MAX_ZIP_ENTRIES:
        raise ArchiveProblem(f"{len(infos)} entries (at most {MAX_ZIP_ENTRIES})")
    files: dict[PurePosixPath, zipfile.ZipInfo] = {}
    folders: set[PurePosixPath] = set()
    kept = []
    for info in infos:
        raw = info.filename
        shown = raw[:80] + ("..." if len(raw) > 80 else "")
        if "\\" in raw or "\0" in raw:
            raise ArchiveProblem(f"entry {shown!r} has a backslash or NUL in its name")
        name = PurePosixPath(raw)
        if name.is_absolute() or raw.startswith("/"):
            raise ArchiveProblem(f"entry {shown!r} has an absolute path")
        if ".." in name.parts:
            raise ArchiveProblem(f"entry {shown!r} climbs out of the archive ('..')")
        if len(raw.encode("utf-8", "surrogateescape")) > MAX_PATH_BYTES or any(
                len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES
                for part in name.parts):
            raise ArchiveProblem(f"entry {shown!r} has a name too long for the file system "
                                 f"({len(raw)} characters)")
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise ArchiveProblem(f"entry {shown!r} is a symbolic link (links are not followed)")
        if not name.parts or "__MACOSX" in name.parts:
            continue
        for parent in name.parents:
            if parent != PurePosixPath("."):
                if parent in files:
                    raise ArchiveProblem(f"{str(parent)!r} is both a file and a folder")
                folders.add(parent)
        if info.is_dir():
            if name in files:
                raise ArchiveProblem(f"{str(name)!r} is both a file and a folder")
            folders.add(name)
            continue
        if name in folders:
            raise ArchiveProblem(f"{str(name)!r} is both a file and a folder")
        if name in files:
            raise ArchiveProblem(f"{str(name)!r} is in the archive twice")
        files[name] = info
        kept.append((info, name))
    total = sum(info.file_size for info, _ in kept)
    if total > MAX_ZIP_BYTES:
        raise ArchiveProblem(f"{total} bytes uncompressed (at most {MAX_ZIP_BYTES})")
    return kept


def _make_folders(target: Path, rel: PurePosixPath) -> Path:
    """`target/rel`'s parent, made here folder by folder, none of them a link."""
    folder = target
    for part in rel.parts[:-1]:
        folder = folder / part
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            if not stat.S_ISDIR(os.lstat(folder).st_mode):
                raise ArchiveProblem(f"{part!r} is both a file and a folder") from None
    return folder


def unzip(archive: Path, target: Path) -> Path:
    """Extract a student's zip into `target` (made fresh); raise `ArchiveProblem` (with the
    reason) for any archive that cannot be extracted safely, having extracted nothing usable."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    try:
        if os.path.islink(archive):
            raise ArchiveProblem("the zip file is a symbolic link (links are not followed)")
        with zipfile.ZipFile(archive) as zf:
            budget = MAX_ZIP_BYTES
            for info, rel in _check_names(zf.infolist()):
                folder = _make_folders(target, rel)
                fd = os.open(folder / rel.name,
                             os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                with zf.open(info) as src, os.fdopen(fd, "wb") as out:
                    while chunk := src.read(1 << 20):
                        budget -= len(chunk)
                        if budget < 0:
                            raise ArchiveProblem(f"more than {MAX_ZIP_BYTES} bytes uncompressed "
                                                 "(a zip bomb?)")
                        out.write(chunk)
    except ArchiveProblem:
        shutil.rmtree(target, ignore_errors=True)
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError,
            RuntimeError, ValueError, OSError) as exc:  # damaged, encrypted, odd compression
        shutil.rmtree(target, ignore_errors=True)
        raise ArchiveProblem(f"cannot be extracted ({type(exc).__name__}: {exc})"[:300]) from exc
    return target
