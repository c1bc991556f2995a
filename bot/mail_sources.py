"""The mail `eocic-desk ingest` reads: .eml files, folders of them and mbox files, one at a time
(an mbox is read as a stream: memory does not grow with the file)."""

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
            for index, raw in enumerate(mbox_messages(path)):
                yield f"{path}#{index}", raw
        elif path.is_file():
            yield str(path), path.read_bytes()
        else:
            raise FileNotFoundError(f"no such file or folder: {name}")


def mbox_messages(path: Path):
    """Each message of an mbox file, as `mailbox.mbox` gives it, without its table of every message first:
    a "From " line starts a message, and the blank line before the next one is not part of it."""
    with path.open("rb") as fh:
        lines: list[bytes] | None = None  # None: before the first "From " line (ignored, as mailbox does)
        last_was_empty = False
        for line in fh:
            if line.startswith(b"From "):
                if lines is not None:
                    yield _mbox_message(lines, last_was_empty)
                lines, last_was_empty = [], False
                continue
            if lines is not None:
                lines.append(line)
            last_was_empty = line == b"\n"
        if lines is not None:
            yield _mbox_message(lines, last_was_empty)


def _mbox_message(lines: list[bytes], last_was_empty: bool) -> bytes:
    return mailbox.mboxMessage(b"".join(lines[:-1] if last_was_empty else lines)).as_bytes()


def looks_like_mbox(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(5) == b"From "
