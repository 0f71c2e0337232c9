"""Reading an uploaded data file safely: bounded, streamed, and with every problem listed.

:func:`unpack` turns the upload into a plain CSV or Parquet file in a temporary folder: a
compressed CSV (``.csv.gz``, ``.bz2``, ``.xz``, ``.zip``) is decompressed as a stream through a
counter that stops at :class:`UploadLimits` (413 naming the limit), so a few KB that expand to
GB cost neither memory nor time; a Parquet file is refused from its footer. :func:`check_file`
then loads it, or lists its problems row by row. Both block: call them off the event loop.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import lzma
import re
import shutil
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pandas as pd
import pyarrow.parquet as pq

from tradesweep.api.errors import PayloadTooLarge
from tradesweep.data import load_bars
from tradesweep.errors import DataError, TradesweepError

MAX_ERRORS = 50
"""Problems of one file reported at most; the rest are counted as ``truncated``."""
ROW_BY_ROW_BYTES = 8 * 1024 * 1024
"""Files larger than this (decompressed) report their first problem only: listing each bad
row reads the file again per problem."""
_PLACE = re.compile(r"line (\d+) \(header is line 1\)")
_MORE = re.compile(r"; \d+ more row\(s\) have the same problem")
_CHUNK = 1024 * 1024
_OPENERS: dict[str, Any] = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_UNREADABLE = (OSError, EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile, ValueError)
"""What a damaged compressed file raises while it is read."""


@dataclass(frozen=True)
class UploadLimits:
    """What one uploaded file may expand to (:class:`~tradesweep.api.settings.ApiSettings`)."""

    decompressed_bytes: int
    rows: int


def unpack(upload: IO[bytes], name: str, folder: Path, limits: UploadLimits) -> Path:
    """The uploaded file as a plain CSV or Parquet file in ``folder``: a compressed CSV is
    decompressed as a stream, and every CSV is copied through a counter that refuses it
    (:class:`PayloadTooLarge`, naming the limit) as soon as it passes ``limits``. A Parquet
    file is refused from its footer's row count and uncompressed size."""
    lower = name.lower()
    upload.seek(0)
    if lower.endswith((".parquet", ".pq")):
        target = folder / name
        with target.open("wb") as out:
            shutil.copyfileobj(upload, out, _CHUNK)
        _check_parquet(target, name, limits)
        return target
    suffix = next((s for s in (*_OPENERS, ".zip") if lower.endswith(".csv" + s)), None)
    target = folder / (name[: -len(suffix)] if suffix else name)
    try:
        with contextlib.ExitStack() as stack:
            source = _decompressed(upload, suffix, name, stack)
            with target.open("wb") as out:
                _copy_counted(source, out, name, limits)
    except TradesweepError:
        raise
    except _UNREADABLE as exc:
        kind = (suffix or "").lstrip(".")
        raise DataError(
            f"{name}: not a readable {kind or 'CSV'} file ({' '.join(str(exc).split())[:200]})",
            fix=f"compress the CSV again with {kind}" if kind else "upload the CSV again",
            field="file",
            file=name,
        ) from None
    return target


def _decompressed(
    upload: IO[bytes], suffix: str | None, name: str, stack: contextlib.ExitStack
) -> IO[bytes]:
    """A stream of ``upload``'s decompressed bytes (``upload`` itself when ``suffix`` is
    None), closed with ``stack``; ``upload`` stays open (the form owns it)."""
    if suffix is None:
        return upload
    if suffix != ".zip":
        return stack.enter_context(_OPENERS[suffix](upload, "rb"))  # type: ignore[no-any-return]
    archive = stack.enter_context(zipfile.ZipFile(upload))
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) != 1:
        raise DataError(
            f"{name}: a zip upload must hold exactly one CSV file, it holds {len(members)}",
            fix="zip the one CSV file alone",
            field="file",
            file=name,
        )
    return stack.enter_context(archive.open(members[0]))


def _copy_counted(source: IO[bytes], out: IO[bytes], name: str, limits: UploadLimits) -> None:
    """Copy in chunks; stop at the first chunk past either limit (the header line and a
    final newline do not count as rows)."""
    size = lines = 0
    while chunk := source.read(_CHUNK):
        size += len(chunk)
        lines += chunk.count(b"\n")
        if size > limits.decompressed_bytes:
            raise _too_large(
                name,
                f"is larger than {limits.decompressed_bytes:,} bytes once decompressed",
                "max_upload_decompressed_bytes",
                limits.decompressed_bytes,
            )
        if lines > limits.rows + 1:
            raise _too_large(
                name, f"has more than {limits.rows:,} rows", "max_upload_rows", limits.rows
            )
        out.write(chunk)


def _check_parquet(path: Path, name: str, limits: UploadLimits) -> None:
    try:
        meta = pq.ParquetFile(path).metadata
    except Exception:  # a damaged file: load_bars says so, with its own fix
        return
    if meta.num_rows > limits.rows:
        raise _too_large(
            name,
            f"has {meta.num_rows:,} rows, more than {limits.rows:,}",
            "max_upload_rows",
            limits.rows,
        )
    size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if size > limits.decompressed_bytes:
        raise _too_large(
            name,
            f"is {size:,} bytes uncompressed, larger than {limits.decompressed_bytes:,}",
            "max_upload_decompressed_bytes",
            limits.decompressed_bytes,
        )


def _too_large(name: str, problem: str, limit: str, value: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"{name}: the file {problem} (limit {limit} = {value:,})",
        fix="upload a shorter history (split the file), or ask the operator to raise "
        f"TRADESWEEP_{limit.upper()}",
        field="file",
        file=name,
        limit=limit,
        limit_value=value,
    )


def check_file(path: Path, name: str, limit: int = MAX_ERRORS) -> pd.DataFrame:
    """The bars of the plain (decompressed) file at ``path``, uploaded as ``name``, or a
    :class:`DataError` listing its problems row by row.

    The loader stops at the first problem of each kind. To list them all, the offending
    line is set aside and the file read again, until it passes, a problem is not tied to a
    line (a missing column, an unreadable file), or ``limit`` problems are found. Lines
    keep their numbers in the original file. A file that passes is read once; one larger
    than :data:`ROW_BY_ROW_BYTES` reports its first problem only (``truncated``)."""
    try:
        bars = load_bars(path, ticker=None)
    except DataError as exc:
        first = exc
    else:
        bars.attrs["source"] = name
        return bars
    line = first.details.get("line")
    if not isinstance(line, int) or path.suffix.lower() in {".parquet", ".pq"}:
        raise _problems([_problem(first, None, path, name)], name, truncated=False)
    if path.stat().st_size > ROW_BY_ROW_BYTES:
        raise _problems([_problem(first, line, path, name)], name, truncated=True)
    lines = path.read_bytes().splitlines(keepends=True)
    numbers = list(range(1, len(lines) + 1))
    problems: list[dict[str, Any]] = []
    truncated = False
    error: DataError | None = first
    while error is not None:
        line = error.details.get("line")
        if not isinstance(line, int) or not 2 <= line <= len(lines):
            if not problems:  # a file-level problem; after row problems it is their echo
                problems.append(_problem(error, None, path, name))
            break
        if len(problems) == limit:
            truncated = True
            break
        problems.append(_problem(error, numbers[line - 1], path, name))
        del lines[line - 1], numbers[line - 1]
        path.write_bytes(b"".join(lines))
        try:
            load_bars(path, ticker=None)
        except DataError as exc:
            error = exc
        else:
            error = None
    raise _problems(problems, name, truncated=truncated)


def _problems(problems: list[dict[str, Any]], name: str, *, truncated: bool) -> DataError:
    problems.sort(key=lambda p: (p["line"] is None, p["line"] or 0))
    count = f"{len(problems)}{'+' if truncated else ''}"
    first = problems[0]
    return DataError(
        f"{name}: {count} problem(s); first: {first['message']}",
        fix="correct the rows listed in details.errors and upload the file again",
        field="file",
        file=name,
        errors=problems,
        truncated=truncated,
    )


def _problem(exc: DataError, line: int | None, path: Path, name: str) -> dict[str, Any]:
    """One problem, naming the file as uploaded (never the server's temporary path)."""
    message = _MORE.sub("", exc.message).replace(str(path), name)
    if line is not None:
        message = _PLACE.sub(f"line {line} (header is line 1)", message, count=1)
    return {
        "field": "file",
        "line": line,
        "row": None if line is None else line - 1,
        "column": exc.details.get("column"),
        "message": message,
        "fix": exc.fix,
    }
