"""The mail `eocic-desk ingest` reads: .eml files, folders of them and mbox files, one at a time."""

from __future__ import annotations

import mailbox
from pathlib import Path


def mail_sources(paths: list[str]):
    """(label, raw bytes) for .eml files, folders of them (recursively) and mbox files."""
    for name in paths:
        path = Path(name)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*.eml") if p.is_file()):
                yield str(child), child.read_bytes()
        elif path.suffix.lower() in {".mbox", ".mbx"} or looks_like_mbox(path):
            for index, msg in enumerate(mailbox.mbox(str(path), create=False)):
                yield f"{path}#{index}", msg.as_bytes()
        elif path.is_file():
            yield str(path), path.read_bytes()
        else:
            raise FileNotFoundError(f"no such file or folder: {name}")


def looks_like_mbox(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(5) == b"From "
