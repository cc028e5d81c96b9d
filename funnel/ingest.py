"""Import CSV / XLSX / Parquet files into the canonical tables (see shared/spec/data-contract.md).

Semantics
---------
* **Replace.** Each table given is replaced as a whole by its file; a table not given is kept as
  it is. Importing the same files twice gives identical tables (``event_seq`` is the row's
  position in its file, so it is stable too).
* **All or nothing.** Files are read into temporary staging tables and validated with SQL
  *before* anything is written. Without ``skip_bad_rows`` any problem raises
  :class:`~funnel.errors.ImportValidationError` (``.problems`` lists them) and the database is
  unchanged; the failed run is still logged in ``import_runs``. With ``skip_bad_rows`` each bad
  row is stored in ``rejected_rows`` (one record per problem, with the full raw row as JSON) and
  the good rows load. File-level problems (missing required column, empty or unreadable file,
  a mapping that names a column the file lacks, an invalid mapping) always fail the import, and
  so does skipping a rejected lead or deal row whose events are already stored (skipping it
  would delete them: ``stored_rows_would_be_lost``).
* **References are checked against the final state.** New events must reference leads /
  opportunities that exist after this import. When ``leads`` is replaced without
  ``lead_events``, stored events whose lead disappears are problems too (file ``(database)``,
  row = their ``event_seq``); likewise opportunities / opportunity_events. An event whose lead
  row was rejected is rejected too, and its reason says so. ``opportunities.lead_id`` is optional
  and not checked (the lead it came from may predate the imported leads).
* **Values.** Text is stripped; blank is null; fully blank rows are ignored. Timestamps:
  ``YYYY-MM-DD``, ISO 8601 with ``T`` or a space, optional fractional seconds, optional ``Z`` /
  ``UTC`` / ``±HH[:MM]`` offset (converted to naive UTC); other formats only when named in the
  mapping's ``[timestamp_formats]`` (strptime; per column or ``"*"``), and Chinese dates
  (``2026年3月5日 14:30``, ``2026/3/5``, full-width digits; :func:`funnel.dates.read_zh_datetime`).
  ``close_date`` is a DATE (an offset there is ignored: the date as written). Amounts: digits with
  a ``.`` decimal point, no thousands separators and no exponent (``1.2e3`` is refused); with
  ``[options] decimal = ","`` write ``1.234,50``. Amounts in Chinese notation (``¥1,234.5万``,
  ``12万元``, full-width digits; :func:`funnel.dates.read_zh_amount`) are multiplied out, and what
  could be read two ways (``12,34万``) is refused with its reason; yuan marks (元, ¥, CNY) set the
  database's currency to CNY unless a person chose one. Negative amounts are refused.
* **Lead attributes.** Every extra column of leads is kept, named in lower_snake_case (letters
  of any script kept: ``Région`` is ``région``), typed
  BOOLEAN (only true/false/yes/no), BIGINT (all whole numbers, e.g. 0/1 flags), DOUBLE (all
  numbers) or VARCHAR. Replacing leads recreates the table with the core columns plus this
  file's extra columns (attributes from an earlier file are dropped).
* **Stages.** A stage value is looked up in the mapping's ``[stages.lead]`` /
  ``[stages.opportunity]`` first (exact, then case-insensitive), then matched against the
  configured stages ignoring case, spaces and punctuation (``M.Q.L.`` is ``MQL``); anything else
  is ``unknown_stage``.
* **Row count.** Every import checks that it read every data row its file holds (CSV: each line
  is the header, part of a row read, or blank; XLSX: each sheet row was staged; Parquet: the
  file's declared row count) and, after writing, that each table holds exactly the rows counted
  as loaded. Otherwise it fails naming the line where reading broke (e.g. an unclosed quote).
* **Bounds.** Dates outside EARLIEST_DATE..LATEST_DATE, impossible UTC offsets, non-finite
  amounts and amounts of MAX_AMOUNT or more are refused. Merely suspicious values load and are
  reported as warnings (WARNING_CODES, ``ImportResult.warnings``): a date more than
  SUSPICIOUS_YEARS from its column's median in the file, an event before its lead's or deal's
  creation, a workbook's other sheets left unread.

Formats: ``.csv`` / ``.tsv`` / ``.txt`` (UTF-8, UTF-8 with BOM, UTF-16 with BOM, else Windows-1252
/ Latin-1; delimiter ``,`` ``;`` tab or ``|`` detected from the header; lines ending in LF, CRLF
or CR), ``.xlsx`` (the first sheet, or the one named by ``sheet``) and ``.parquet``. A file is a path, a ``(name, bytes)`` tuple, or a file-like object with a
``.name`` (Streamlit's UploadedFile).
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import logging
import os
import re
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from . import access, audit, fmt, i18n, store
from .dates import ISO_RE, read_zh_amount, read_zh_datetime, zh_amount_unit
from .errors import ImportValidationError
from .i18n import Joined, Message, msg, msg_n
from .mapping import (  # noqa: F401  (re-exported: the import page uses them from here)
    STAGE_FUNNEL,
    TABLE_ORDER,
    TABLES,
    canonical_columns,
    guess_mapping,
    load_mapping,
    mapping_problems,
    normalise_name,
    stage_key,
    validate_mapping,
)

__all__ = [
    "Problem", "ImportResult", "import_files", "read_table_file", "guess_mapping", "load_mapping",
    "validate_mapping", "PROBLEM_CODES", "FATAL_CODES",
]

log = logging.getLogger(__name__)

FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet",
           ".xlsx": "xlsx", ".xlsm": "xlsx"}

PROBLEM_CODES = (
    "missing_column", "missing_value", "bad_timestamp", "bad_number", "negative_amount", "unknown_stage",
    "unknown_lead", "unknown_opportunity", "duplicate_id", "empty_file", "unreadable_file",
    "unknown_column_mapping", "invalid_mapping", "out_of_range", "stored_rows_would_be_lost",
)
# Problems that no "skip bad rows" can get past: the file as a whole is wrong, or skipping the
# row would delete rows already stored (the stored events of a lead whose new row was rejected).
FATAL_CODES = frozenset({"missing_column", "empty_file", "unreadable_file", "unknown_column_mapping",
                         "invalid_mapping", "stored_rows_would_be_lost"})
# What is loaded but reported: merely suspicious, not impossible.
WARNING_CODES = ("far_from_other_dates", "before_creation", "first_sheet_only")

# Bounds of what can be true (README "Bounds"). Dates outside them are refused; inside them a date
# more than SUSPICIOUS_YEARS from the median of its column is loaded with a warning, and so is an
# event dated before its lead's or deal's creation.
EARLIEST_DATE = dt.date(1970, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)
SUSPICIOUS_YEARS = 10
MAX_OFFSET_MINUTES = 14 * 60          # UTC offsets run from -12:00 to +14:00
MAX_AMOUNT = 1e15                     # no deal is worth a quadrillion; doubles lose cents above ~9e15

MAX_PROBLEMS = 10_000        # Problem objects handed back to Python; the count is always exact
MESSAGE_PROBLEMS = 3         # problems quoted in an error message

DATABASE = "(database)"
MAPPING_FILE = "(mapping)"

_WS = "' \t\r\n\u00a0'"      # characters stripped from every value (a SQL literal)

OFFSET_RE = r"\d:\d{2}(?::\d{2}(?:\.\d+)?)? ?[+-]\d{2}(?::?\d{2})?$"
# Numbers of lead attributes (exponents allowed: 1e2 is a number there) ...
NUM_RE = {".": r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$",
          ",": r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d*)?$"}
# ... and amounts, written as plain decimals: no exponent (1.2e3 is refused with its own message),
# no thousands separator with the "." decimal point (1,234 would be ambiguous).
AMOUNT_RE = {".": r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$", ",": NUM_RE[","]}
EXPONENT_RE = r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)[eE][+-]?\d+$"
NON_FINITE_RE = r"(?i)[+-]?(?:nan|inf|infinity)"
INT_RE = r"^[+-]?\d+(?:\.0*)?$"
PLAIN_INT_RE = r"[+-]?\d+"
BOOL_RE = "(?i)true|false|yes|no"         # attribute values that make a BOOLEAN column
BOOL_TRUE_RE = "(?i)true|yes"
ATTRIBUTE_BATCH = 64                       # lead attributes typed per statement
TYPE_SAMPLE = 1000                         # rows that settle most attribute types before a full scan


# ---------------------------------------------------------------------------------------------
# Results

#: The canonical tables as a reader of another language reads them (English keeps the contract's
#: names: leads, lead_events, … are what a mapping and the files say).
TABLE_LABELS = {"leads": i18n.N_("Leads"), "lead_events": i18n.N_("Lead stage history"),
                "opportunities": i18n.N_("Opportunities"), "opportunity_events": i18n.N_("Opportunity stage history")}


@dataclass(frozen=True)
class TableName:
    """A canonical table in a message: its contract name in English (leads, lead_events), its label in
    other languages (线索, 线索阶段历史)."""

    table: str

    def format(self, lang: str) -> str:
        if i18n.normalize(lang) == "en":
            return self.table
        # a file read on its own (read_table_file's "file") is just a file: no name in other languages
        return i18n.translate(lang, TABLE_LABELS[self.table]) if self.table in TABLE_LABELS else ""


def _quoted(names) -> Joined:
    """Names as a list of quoted names: "a", "b" (“a”、“b” in Chinese)."""
    return Joined(tuple(msg('"{name}"', name=str(n)) for n in names), ", ")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an import. ``row`` is the 1-based data row (header excluded).

    ``reason`` is English (the CLI, ``--json`` and the rejected rows list read it). Given as an
    :class:`~funnel.i18n.Message` it is kept as ``message`` too, so a page says it in the reader's
    language (:meth:`reason_in`, :meth:`location_message`, :meth:`text`).
    """

    file: str
    table: str
    row: int | None
    column: str | None
    value: str | None
    reason: str               # what is wrong and what to do, readable on its own
    code: str                 # stable, one of PROBLEM_CODES
    source_column: str | None = None   # the column's name in the file, when it differs
    message: Message | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        if isinstance(self.reason, Message):
            object.__setattr__(self, "message", self.reason)
            object.__setattr__(self, "reason", self.reason.render("en"))

    def reason_in(self, lang: str) -> str:
        """The reason in ``lang`` (English text as it is when the problem carries no message)."""
        return self.message.render(lang) if self.message is not None else self.reason

    def location_message(self) -> Message:
        """Where the problem is: the file, its row (and the line or sheet row a person finds it at)
        and the column, as a message."""
        if self.file == DATABASE:
            table = TableName(self.table)
            place = (msg("{table} already in the database (event_seq {row})", table=table, row=str(self.row))
                     if self.row is not None else msg("{table} already in the database", table=table))
        elif self.file == MAPPING_FILE:
            place = msg("(mapping)")
        elif self.row is None:
            place = msg("{file}", file=self.file)
        else:
            kind = FORMATS.get(Path(self.file).suffix.lower())
            if kind == "xlsx":
                place = msg("{file}, row {row} (sheet row {sheet_row})", file=self.file, row=str(self.row),
                            sheet_row=str(self.row + 1))
            elif kind == "parquet":
                place = msg("{file}, row {row}", file=self.file, row=str(self.row))
            else:
                place = msg("{file}, row {row} (line {line})", file=self.file, row=str(self.row),
                            line=str(self.row + 1))
        if not self.column:
            return place
        if self.source_column and self.source_column != self.column:
            return msg('{place}, column "{source_column}" ({column})', place=place,
                       source_column=self.source_column, column=self.column)
        return msg("{place}, column {column}", place=place, column=self.column)

    def location(self) -> str:
        return self.location_message().render("en")

    def text_message(self) -> Message:
        """Where and what, as one message: ``leads.csv, row 3 (line 4), column created_at: "…" is not a date. …``"""
        return msg("{location}: {reason}", location=self.location_message(),
                   reason=self.message if self.message is not None else self.reason)

    def text(self, lang: str = "en") -> str:
        return self.text_message().render(lang)

    def __str__(self) -> str:
        return f"{self.location()}: {self.reason}"

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("message")
        return d


@dataclass
class ImportResult:
    run_id: int
    rows: dict[str, dict[str, int]]       # {table: {"read": n, "loaded": n, "rejected": n}}
    problems: list[Problem]
    message: str
    problem_count: int = 0                # exact total; ``problems`` holds at most MAX_PROBLEMS
    status: str = "committed"
    # Loaded but suspicious (WARNING_CODES): a date far from the rest, an event before its lead's
    # or deal's creation, a workbook's other sheets left unread. At most MAX_PROBLEMS of them.
    warnings: list[Problem] = field(default_factory=list)
    warning_count: int = 0
    # ``message`` as a message (funnel.i18n), for a page to say in the reader's language
    message_obj: i18n.Message | None = None

    @property
    def rejected(self) -> int:
        return sum(v.get("rejected", 0) for v in self.rows.values())

    @property
    def loaded(self) -> int:
        return sum(v.get("loaded", 0) for v in self.rows.values())


# ---------------------------------------------------------------------------------------------
# Small helpers


def _lit(s: object) -> str:
    """A SQL string literal."""
    return "'" + str(s).replace("'", "''") + "'"


_qi = store.quote_ident


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def _rows(n: int) -> Message:
    return msg_n("{n} row", "{n} rows", n, n=fmt.Count(n))


def _clean(col: str) -> str:
    return _clean_expr(_qi(col))


def _clean_expr(q: str) -> str:
    """Stripped text, blank -> NULL. trim() only runs when an end may be whitespace (4x faster).

    The test is a cheap superset (a control character or space at either end, or a no-break space
    anywhere) written without IN lists and without repeating a function call: DuckDB's optimizer
    spends time that grows with the cube of the number of such expressions in one statement
    (IN-list rewriting, common subexpressions), which made a 400-column file take minutes to plan.
    """
    return (f"CASE WHEN ascii({q}) <= 32 OR ascii(right({q}, 1)) <= 32 OR contains({q}, chr(160)) "
            f"THEN NULLIF(trim({q}, {_WS}), '') ELSE NULLIF({q}, '') END")


def _py_clean(v: str | None) -> str | None:
    v = (v or "").strip(" \t\r\n\u00a0")
    return v or None


def _unique_names(headers: list[str]) -> list[str]:
    """lower_snake_case names, unique, never empty, never starting with '_' (reserved here)."""
    out: list[str] = []
    seen: set[str] = set()
    for i, h in enumerate(headers, start=1):
        base = normalise_name(h) or f"column_{i}"
        if base[0].isdigit():
            base = "c_" + base
        name, k = base, 2
        while name in seen:
            name, k = f"{base}_{k}", k + 1
        seen.add(name)
        out.append(name)
    return out


def _unique_labels(headers: list[str]) -> list[str]:
    out, seen = [], set()
    for i, h in enumerate(headers, start=1):
        base = str(h).strip() or f"column {i}"
        name, k = base, 2
        while name in seen:
            name, k = f"{base} ({k})", k + 1
        seen.add(name)
        out.append(name)
    return out


# ---------------------------------------------------------------------------------------------
# Reading files into staging tables


@dataclass
class _Source:
    name: str
    path: Path | None = None
    data: bytes | None = None

    @property
    def fmt(self) -> str | None:
        return FORMATS.get(Path(self.name).suffix.lower())

    def local_path(self, tmpdir: Path) -> Path:
        if self.path is not None:
            return self.path
        p = tmpdir / f"{uuid.uuid4().hex}{Path(self.name).suffix.lower()}"
        p.write_bytes(self.data or b"")
        self.path = p
        return p

    def open_binary(self):
        return open(self.path, "rb") if self.path is not None else io.BytesIO(self.data or b"")

    def size(self) -> int:
        return self.path.stat().st_size if self.path is not None else len(self.data or b"")


NOT_A_FILE = msg("A file is a path, a (name, bytes) tuple, or a file-like object with a .name.")


def _as_source(f) -> _Source:
    if isinstance(f, (str, os.PathLike)):
        p = Path(f)
        return _Source(p.name, path=p)
    if isinstance(f, tuple) and len(f) == 2:
        name, data = f
        if hasattr(data, "read"):
            data = data.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
        return _Source(Path(str(name)).name, data=bytes(data))
    if hasattr(f, "getvalue"):
        data = f.getvalue()
    elif hasattr(f, "read"):
        data = f.read()
    else:
        raise TypeError(NOT_A_FILE.render("en"))
    if isinstance(data, str):
        data = data.encode("utf-8")
    name = getattr(f, "name", None) or "upload.csv"
    return _Source(Path(str(name)).name, data=bytes(data))


@dataclass
class _Staged:
    table: str
    file: str
    fmt: str
    raw: str                  # temp table: one VARCHAR column per file column, in file order
    headers: list[str]        # header names as in the file (stripped)
    cols: list[str]           # column names in ``raw`` (lower_snake_case, unique)
    notes: list = field(default_factory=list)   # warnings about the file as a whole (Problem)


def _detect_encoding(src: _Source, counter: _LineCounter | None = None) -> str:
    """utf-16 (by its BOM), utf-8 (the whole file decodes) or legacy. ``counter`` is fed the
    bytes on the way: for a UTF-8 file that is the row count's line count, at no extra read."""
    with src.open_binary() as fh:
        head = fh.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        fh.seek(0)
        dec = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := fh.read(8 << 20):
                dec.decode(chunk)
                if counter is not None:
                    counter.feed(chunk)
            dec.decode(b"", final=True)
        except UnicodeDecodeError:
            return "legacy"
    return "utf-8"


def _transcode(src: _Source, enc: str, tmpdir: Path) -> Path:
    """Rewrite a non-UTF-8 text file as UTF-8 (Windows-1252 first: it is what Excel writes)."""
    with src.open_binary() as fh:
        data = fh.read()
    if enc == "utf-16":
        text = data.decode("utf-16")
    else:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    out = tmpdir / f"{uuid.uuid4().hex}.csv"
    out.write_text(text, encoding="utf-8", newline="")
    return out


def _sniff_delimiter(sample: str) -> str:
    first = re.split(r"\r\n|\r|\n", sample.lstrip("\ufeff"), maxsplit=1)[0]
    counts = {d: 0 for d in (",", ";", "\t", "|")}
    inq = False
    for ch in first:
        if ch == '"':
            inq = not inq
        elif not inq and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _duck_error(e: Exception) -> str:
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    keep = [ln for ln in lines[:4] if not ln.startswith(("Possible", "*", "LINE"))]
    return " ".join(keep)[:300]


@dataclass
class _LineStats:
    """What a plain byte count says about a text file: its lines, and how many may be blank."""

    terminator: str          # the character counted as a line end: "\n" (LF, CRLF) or "\r" (CR-only)
    new_line: str | None     # DuckDB's new_line option when the file uses one line end throughout
    lines: int               # physical lines, the last one counted even without a line end
    has_quotes: bool


class _LineCounter:
    """Line statistics from C-speed byte counts, fed chunk by chunk (no parsing): the independent
    side of the row count check. Fed by the encoding check's own pass over a UTF-8 file."""

    def __init__(self):
        self.lf = self.cr = self.crlf = self.quotes = 0
        self.first_end: bytes | None = None
        self.last = b""

    def feed(self, chunk: bytes) -> None:
        if self.first_end is None and (m := re.search(rb"\r\n?|\n", chunk)):
            self.first_end = m.group(0)
        self.lf += chunk.count(b"\n")
        self.crlf += chunk.count(b"\r\n")     # one split across two chunks only makes the file "mixed"
        self.cr += chunk.count(b"\r")
        self.quotes += chunk.count(b'"')
        self.last = chunk[-1:]

    def stats(self) -> _LineStats:
        # The header's line end is the file's. It is named to DuckDB, whose own guess was seen to
        # split an LF file at a CR inside a quoted value (and to keep a guess from an earlier
        # file). CRLF with some bare LF lines: None — the file is rewritten with LF first.
        if self.first_end == b"\r":
            term, new_line, lines = "\r", "\\r", self.cr
        else:
            term, lines = "\n", self.lf
            new_line = ("\\r\\n" if self.crlf == self.lf else None) if self.first_end == b"\r\n" else "\\n"
        lines += 1 if self.last and self.last not in (b"\n", b"\r") else 0
        return _LineStats(term, new_line, lines, self.quotes > 0)


def _line_stats(path: Path) -> _LineStats:
    counter = _LineCounter()
    with open(path, "rb") as fh:
        while chunk := fh.read(8 << 20):
            counter.feed(chunk)
    return counter.stats()


def _blank_lines(path: Path) -> int:
    """Empty lines (DuckDB skips them), counted only when the row count needs them. Some may sit
    inside quoted values, so this is an upper bound; +1 for an empty line at a chunk edge."""
    blank, tail = 0, b""
    with open(path, "rb") as fh:
        while chunk := fh.read(8 << 20):
            norm = (tail + chunk).replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            blank += norm.count(b"\n\n") + norm[1:].count(b"\n\n")   # overlapping pairs
            tail = chunk[-1:]
    return blank + 1


def _normalise_line_ends(path: Path, tmpdir: Path) -> Path:
    """A copy of a CRLF file that has some bare LF lines too, with LF only (DuckDB's reader
    cannot read such a file). A bare CR inside a quoted value is kept."""
    out = tmpdir / f"{uuid.uuid4().hex}.csv"
    out.write_bytes(path.read_bytes().replace(b"\r\n", b"\n"))
    return out


_LINE_RE = re.compile(r"Line: (\d+)")


def _stray_line_end(path: Path) -> tuple[int | None, Message | str]:
    """(line, what) of the first line end that is not the file's own: a bare CR in an LF or CRLF
    file, a bare LF in a CR file. Whether it sits inside quotes is not checked: DuckDB has just
    refused the file, and this says where to look."""
    data = path.read_bytes()
    m = re.search(rb"\r\n?|\n", data)
    own = m.group(0) if m else b"\n"
    pattern = rb"\n" if own == b"\r" else rb"\r(?!\n)"
    hit = re.search(pattern, data[m.end():] if m else data)
    if hit is None:
        return None, ""
    pos = hit.start() + (m.end() if m else 0)
    sep = b"\r" if own == b"\r" else b"\n"
    return data[:pos].count(sep) + 1, (msg("line feed (LF)") if own == b"\r" else msg("carriage return (CR)"))


#: The separators of a text file, as a message names them ("a comma-separated file").
SEPARATOR_NAMES = {";": i18n.N_("semicolon"), "\t": i18n.N_("tab"), "|": i18n.N_("pipe"), ",": i18n.N_("comma")}


def _csv_failure(src: _Source, table: str, delim: str, e: Exception, path: Path | None = None) -> Problem:
    """A DuckDB CSV error as a Problem naming the line where reading broke."""
    text = str(e)
    m = _LINE_RE.search(text)
    line = int(m.group(1)) if m else None
    if line is None and "invalid state" in text and path is not None:
        line, what = _stray_line_end(path)
        if line is not None:
            return Problem(src.name, table, line - 1, None, None,
                           msg("this line holds a {what} inside a value that is not in quotes, so it cannot tell "
                               "where the row ends. Put that value in quotes, or remove the line break (or save the "
                               "file with one kind of line end throughout).", what=what), "unreadable_file")
    if "unterminated quote" in text:
        why = msg('a value starts with a quote (") that is not closed where the value ends, so the lines after it '
                  'cannot be read as rows. Close the quote (a quote inside a quoted value is written twice: ""), '
                  "or remove it.")
    elif (cm := re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)):
        why = msg("this row has {found} values but the header has {expected} columns. Check for an extra "
                  "separator ({separator}) or a value with the separator in it that is not in quotes.",
                  found=cm.group(2), expected=cm.group(1), separator=repr(delim))
    else:
        why = msg("the file could not be read as a {kind}-separated file: {error} Check that every row has "
                  "the same number of columns as the header and that quotes are closed.",
                  kind=msg(SEPARATOR_NAMES.get(delim, SEPARATOR_NAMES[","])), error=_duck_error(e))
    return Problem(src.name, table, (line - 1) if line else None, None, None, why, "unreadable_file")


def _stage_csv(con, src: _Source, table: str, raw: str, tmpdir: Path) -> tuple[_Staged | None, list[Problem]]:
    counter = _LineCounter()
    enc = _detect_encoding(src, counter)
    path = src.local_path(tmpdir) if enc == "utf-8" else _transcode(src, enc, tmpdir)
    with open(path, "r", encoding="utf-8-sig", newline="") as fh:
        sample = fh.read(1 << 20)
    if not sample.strip():
        return None, [_empty(src, table, msg("the file is empty (no header row and no data)"))]
    delim = _sniff_delimiter(sample)
    # newline="" lets the csv module split LF, CRLF and CR-only lines alike
    header = next(csv.reader(io.StringIO(sample, newline=""), delimiter=delim), [])
    headers = [h.replace("\ufeff", "").strip() for h in header]
    if not any(headers):
        return None, [_empty(src, table, msg("the file has no header row (the first line is blank)"))]
    cols = _unique_names(headers)
    columns = "{" + ", ".join(f"{_lit(c)}: 'VARCHAR'" for c in cols) + "}"
    ls = counter.stats() if enc == "utf-8" else _line_stats(path)
    if ls.new_line is None:
        path = _normalise_line_ends(path, tmpdir)
        ls = _line_stats(path)

    def reader(p: Path, ls: _LineStats) -> str:
        # The line end is named when the file has one throughout, not left to DuckDB: a reader
        # that guessed it was seen to keep a guess from an earlier file.
        nl = f", new_line={_lit(ls.new_line)}" if ls.new_line else ""
        return (f"read_csv({_lit(str(p))}, columns={columns}, header=true, delim={_lit(delim)}, "
                f"quote='\"', escape='\"'{nl}, auto_detect=false")

    base = reader(path, ls)
    try:
        con.execute(f"CREATE TEMP TABLE {raw} AS SELECT * FROM {base})")
    except duckdb.Error as e:
        if "unterminated quote" in str(e):
            return None, [_csv_failure(src, table, delim, e, path)]
        # Short rows: pad with nulls (the parallel reader cannot combine that with quoted newlines).
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {raw} AS SELECT * FROM {base}, "
                        f"null_padding=true, parallel=false)")
        except duckdb.Error as e2:
            return None, [_csv_failure(src, table, delim, e2, path)]
    st = _Staged(table, src.name, "csv", raw, headers, cols)
    problem = _check_csv_rows(con, src, st, path, header, ls, delim)
    return (None, [problem]) if problem else (st, [])


def _check_csv_rows(con, src: _Source, st: _Staged, path: Path, header: list[str],
                    ls: _LineStats, delim: str) -> Problem | None:
    """The row count check: every line of the file is the header, part of a row that was read
    (a quoted value may span lines), or blank. Otherwise rows were lost — e.g. the null-padding
    reader takes an unclosed quote to the end of the file without a word — and the import fails
    naming the line where reading broke."""
    read = con.execute(f"SELECT count(*) FROM {st.raw}").fetchall()[0][0]
    embedded = 0
    # Only a quoted value can hold a line end, and only lines beyond the rows can be inside one.
    if ls.has_quotes and ls.lines - 1 - read > 0:
        t = _lit("\r" if ls.terminator == "\r" else "\n")   # the character counted as a line end
        for i in range(0, len(st.cols), ATTRIBUTE_BATCH):
            parts = [f"coalesce(sum(length({_qi(c)}) - length(replace({_qi(c)}, {t}, ''))), 0)"
                     for c in st.cols[i: i + ATTRIBUTE_BATCH]]
            embedded += con.execute(f"SELECT {' + '.join(parts)} FROM {st.raw}").fetchall()[0][0]
        embedded += sum(h.count("\r" if ls.terminator == "\r" else "\n") for h in header)
    unaccounted = ls.lines - 1 - read - embedded
    if unaccounted == 0 or (unaccounted > 0 and unaccounted <= _blank_lines(path)):
        return None
    line, why = _find_break(con, st, path, delim)
    return Problem(src.name, st.table, (line - 1) if line else None, None, None,
                   msg("the file has {lines} after the header but only {rows} could be read: {why}",
                       lines=msg_n("{n} line", "{n} lines", ls.lines - 1, n=fmt.Count(ls.lines - 1)),
                       rows=_rows(read), why=why), "unreadable_file")


def _find_break(con, st: _Staged, path: Path, delim: str) -> tuple[int | None, Message]:
    """Where a CSV file stops reading as rows: the strict csv module's reading, record by record,
    against the rows DuckDB read (slow, but it only runs when the counts disagree)."""
    first = con.execute(f"SELECT {_qi(st.cols[0])} FROM {st.raw} ORDER BY rowid").fetchall()
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=delim, strict=True)
        last_end = 1
        i = 0
        try:
            next(reader, None)
            last_end = reader.line_num
            for rec in reader:
                if not rec:
                    last_end = reader.line_num
                    continue
                got = first[i][0] if i < len(first) else None
                if (rec[0] if rec else None) != got and not (rec[0] == "" and got is None):
                    return last_end + 1, msg('this line does not read as the next row. Check for a stray or '
                                             'unclosed quote (") here or just before.')
                i += 1
                last_end = reader.line_num
        except csv.Error:
            return last_end + 1, msg('a value that starts with a quote (") in this line is never closed, so the '
                                     "rest of the file would be read into it. Close the quote, or remove it.")
    return None, msg('check that every quote (") is closed and that no row is split across lines.')


def _cell_str(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.datetime):
        if v.tzinfo is None and v.time() == dt.time(0):
            return v.date().isoformat()
        return v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return str(v)


class _NoSuchSheet(Exception):
    pass


def _xlsx_rows(src: _Source, sheet: str | None = None) -> tuple[list[str], list[list[str | None]], list[str], str]:
    """(headers, rows, every sheet name, the sheet read) of a workbook: the sheet named (matched
    ignoring case), else the first one."""
    import openpyxl

    with src.open_binary() as fh:
        wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
        try:
            names = list(wb.sheetnames)
            if sheet is None:
                ws = wb.worksheets[0]
            else:
                hit = next((n for n in names if n == sheet), None) or \
                    next((n for n in names if n.strip().casefold() == str(sheet).strip().casefold()), None)
                if hit is None:
                    raise _NoSuchSheet(names)
                ws = wb[hit]
            it = ws.iter_rows(values_only=True)
            header = next(it, None)
            if header is None:
                return [], [], names, ws.title
            rows = [[_cell_str(v) for v in r] for r in it]
        finally:
            wb.close()
    headers = [(_cell_str(h) or "").strip() for h in header]
    width = max([len(headers)] + [len(r) for r in rows])
    headers += [""] * (width - len(headers))
    rows = [r + [None] * (width - len(r)) for r in rows]
    # Drop trailing columns with neither a header nor any value (Excel's formatted empties).
    while headers and not headers[-1] and all(r[len(headers) - 1] in (None, "") for r in rows):
        headers.pop()
        rows = [r[: len(headers)] for r in rows]
    # Drop trailing blank rows, which read-only sheets often report.
    while rows and all(v is None or not str(v).strip() for v in rows[-1]):
        rows.pop()
    return headers, rows, names, ws.title


def _sheet_list(names: list[str]) -> Joined:
    return _quoted(names)


def _stage_xlsx(con, src: _Source, table: str, raw: str,
                sheet: str | None = None) -> tuple[_Staged | None, list[Problem]]:
    import pyarrow as pa

    try:
        headers, rows, names, used = _xlsx_rows(src, sheet)
    except _NoSuchSheet as e:
        return None, [Problem(src.name, table, None, None, str(sheet),
                              msg('the workbook has no sheet "{sheet}"; its sheets are {sheets}. Name one of them '
                                  '(sheet = "…" under [options] in the mapping, or --sheet).', sheet=str(sheet),
                                  sheets=_sheet_list(e.args[0])),
                              "unreadable_file")]
    except Exception as e:  # openpyxl raises zipfile, KeyError, InvalidFileException, ...
        return None, [Problem(src.name, table, None, None, None,
                              msg("the file could not be read as an Excel workbook ({error}). Save it from Excel as "
                                  ".xlsx, or export it as CSV.", error=f"{type(e).__name__}: {str(e)[:150]}"),
                              "unreadable_file")]
    if not any(headers):
        return None, [_empty(src, table, msg('the file has no header row in its sheet "{sheet}"', sheet=used))]
    cols = _unique_names(headers)
    arrow = pa.table({c: pa.array([r[i] for r in rows], type=pa.string()) for i, c in enumerate(cols)})
    view = raw + "_src"
    # DuckDB 2.0 refuses register() while an earlier result is unfetched (e.g. after fetchone());
    # running any statement first closes it.
    con.execute("SELECT 1").fetchall()
    con.register(view, arrow)
    try:
        con.execute(f"CREATE TEMP TABLE {raw} AS SELECT * FROM {view}")
    finally:
        con.unregister(view)
    st = _Staged(table, src.name, "xlsx", raw, headers, cols)
    staged = con.execute(f"SELECT count(*) FROM {raw}").fetchall()[0][0]
    if staged != len(rows):   # the row count check: every sheet row read is a staged row
        return None, [Problem(src.name, table, None, None, None,
                              msg("the sheet has {data_rows} but {rows} were staged. Save the workbook again, or "
                                  "export the sheet as CSV.",
                                  data_rows=msg_n("{n} data row", "{n} data rows", len(rows), n=fmt.Count(len(rows))),
                                  rows=_rows(staged)), "unreadable_file")]
    if sheet is None and len(names) > 1:
        st.notes.append(Problem(
            src.name, table, None, None, used,
            msg('the workbook has {n} sheets ({sheets}); only the first, "{sheet}", was read. To read another, '
                'name it: sheet = "{other}" under [options] in the mapping, or --sheet.', n=str(len(names)),
                sheets=_sheet_list(names), sheet=used, other=names[1]),
            "first_sheet_only"))
    return st, []


def _stage_parquet(con, src: _Source, table: str, raw: str, tmpdir: Path) -> tuple[_Staged | None, list[Problem]]:
    path = src.local_path(tmpdir)
    rel = f"read_parquet({_lit(str(path))})"
    try:
        desc = con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()
    except duckdb.Error as e:
        return None, [Problem(src.name, table, None, None, None,
                              msg("the file could not be read as a Parquet file: {error} Export it again, or use CSV.",
                                  error=_duck_error(e)), "unreadable_file")]
    headers = [str(r[0]).strip() for r in desc]
    cols = _unique_names(headers)
    exprs = []
    for (name, dtype, *_), col in zip(desc, cols):
        q = _qi(name)
        t = str(dtype).upper()
        if t.startswith("TIMESTAMP WITH TIME ZONE") or t == "TIMESTAMPTZ":
            e = f"strftime(timezone('UTC', {q}), '%Y-%m-%d %H:%M:%S.%f')"
        elif t == "BOOLEAN":
            e = f"CASE WHEN {q} THEN 'true' WHEN NOT {q} THEN 'false' END"
        elif t in ("DOUBLE", "FLOAT", "REAL"):
            # whole numbers without ".0" so float-typed ids and counts read as integers
            e = (f"CASE WHEN isfinite({q}) AND {q} = round({q}) AND abs({q}) < 1e15 "
                 f"THEN CAST(CAST({q} AS BIGINT) AS VARCHAR) ELSE CAST({q} AS VARCHAR) END")
        else:
            e = f"CAST({q} AS VARCHAR)"
        exprs.append(f"{e} AS {_qi(col)}")
    try:
        con.execute(f"CREATE TEMP TABLE {raw} AS SELECT {', '.join(exprs)} FROM {rel}")
    except duckdb.Error as e:
        return None, [Problem(src.name, table, None, None, None,
                              msg("the file could not be read as a Parquet file: {error}", error=_duck_error(e)),
                              "unreadable_file")]
    # The row count check: the rows the file's own metadata declares were all staged.
    declared = con.execute(f"SELECT sum(num_rows) FROM parquet_file_metadata({_lit(str(path))})").fetchall()[0][0]
    staged = con.execute(f"SELECT count(*) FROM {raw}").fetchall()[0][0]
    if declared is not None and int(declared) != staged:
        return None, [Problem(src.name, table, None, None, None,
                              msg("the file declares {declared} but {rows} could be read. Export it again, or use CSV.",
                                  declared=_rows(int(declared)), rows=_rows(staged)), "unreadable_file")]
    return _Staged(table, src.name, "parquet", raw, headers, cols), []


def _empty(src: _Source, table: str, what: Message) -> Problem:
    return Problem(src.name, table, None, None, None,
                   msg("{what}. A {table} file needs a header row and at least one data row.", what=what,
                       table=TableName(table)), "empty_file")


def _stage(con, src: _Source, table: str, raw: str, tmpdir: Path,
           sheet: str | None = None) -> tuple[_Staged | None, list[Problem]]:
    if src.path is not None and not src.path.is_file():
        return None, [Problem(src.name, table, None, None, None,
                              msg("the file was not found at {path}. Check the path.", path=str(src.path)),
                              "unreadable_file")]
    if src.fmt is None:
        return None, [Problem(src.name, table, None, None, None,
                              msg("the file has an unsupported type ({suffix}). Use .csv, .xlsx or .parquet (save "
                                  "older .xls files as .xlsx).", suffix=Path(src.name).suffix or msg("no extension")),
                              "unreadable_file")]
    if src.size() == 0:
        return None, [_empty(src, table, msg("the file is empty (0 bytes)"))]
    if src.fmt == "csv":
        return _stage_csv(con, src, table, raw, tmpdir)
    if src.fmt == "xlsx":
        return _stage_xlsx(con, src, table, raw, sheet)
    return _stage_parquet(con, src, table, raw, tmpdir)


def read_table_file(file, nrows: int | None = None, sheet: str | None = None) -> pd.DataFrame:
    """Read a CSV / XLSX / Parquet file as a DataFrame of strings, headers as in the file.

    Blank cells are "" (like ``dtype=str, keep_default_na=False``). ``sheet`` names the sheet of
    a workbook (default: the first; see :func:`sheet_names`). Raises ImportValidationError when
    the file cannot be read or has no header.
    """
    src = _as_source(file)
    con = duckdb.connect()
    with tempfile.TemporaryDirectory(prefix="funnel-read-") as tmp:
        st, probs = _stage(con, src, "file", "_read_raw", Path(tmp), sheet)
        if st is None:
            if probs and probs[0].code == "empty_file" and src.size() > 0:
                return pd.DataFrame()
            raise ImportValidationError(probs[0].text_message(), problems=probs)
        limit = f" LIMIT {int(nrows)}" if nrows is not None else ""
        df = con.execute(f"SELECT * FROM {st.raw} ORDER BY rowid{limit}").df()
    con.close()
    df.columns = _unique_labels(st.headers)
    return df.fillna("").astype(str) if len(df.columns) else df


def sheet_names(file) -> list[str]:
    """The sheet names of an .xlsx workbook, in workbook order ([] for any other file type)."""
    src = _as_source(file)
    if src.fmt != "xlsx":
        return []
    import openpyxl

    try:
        with src.open_binary() as fh:
            wb = openpyxl.load_workbook(fh, read_only=True)
            try:
                return list(wb.sheetnames)
            finally:
                wb.close()
    except Exception as e:  # openpyxl raises zipfile, KeyError, InvalidFileException, ...
        raise ImportValidationError(msg("{file} could not be read as an Excel workbook ({error}).", file=src.name,
                                        error=type(e).__name__),
                                    hint=msg("Save it from Excel as .xlsx, or export it as CSV.")) from None


# ---------------------------------------------------------------------------------------------
# Parsing expressions


def _offset_parts(v: str) -> str:
    return f"regexp_extract({v}, '([+-]\\d{{2}}):?(\\d{{2}})?$', ['h', 'm'])"


def _bad_offset_expr(v: str) -> str:
    """TRUE when cleaned text ``v`` ends in a UTC offset no place has (beyond ±14:00, or :60+)."""
    o = _offset_parts(v)
    return (f"(regexp_matches({v}, {_lit(OFFSET_RE)}) AND (abs(CAST({o}.h AS INTEGER)) * 60 > {MAX_OFFSET_MINUTES} "
            f"OR COALESCE(TRY_CAST({o}.m AS INTEGER), 0) > 59))")


def _ts_expr(v: str, formats: list[str], *, date_only: bool = False) -> str:
    """SQL turning cleaned text ``v`` into a naive-UTC TIMESTAMP (NULL when it does not parse,
    or when its UTC offset is impossible)."""
    iso = f"CASE WHEN regexp_full_match({v}, {_lit(ISO_RE)}) THEN TRY_CAST({v} AS TIMESTAMP) END"
    if not date_only:
        o = _offset_parts(v)
        minutes = (f"(CASE WHEN starts_with({o}.h, '-') THEN -1 ELSE 1 END) * "
                   f"(abs(CAST({o}.h AS INTEGER)) * 60 + COALESCE(TRY_CAST({o}.m AS INTEGER), 0))")
        iso = (f"CASE WHEN NOT regexp_matches({v}, {_lit(OFFSET_RE)}) THEN {iso} "
               f"WHEN NOT {_bad_offset_expr(v)} THEN ({iso}) - to_minutes(CAST({minutes} AS BIGINT)) END")
    parts = []
    for f in formats:
        e = f"TRY_STRPTIME({v}, {_lit(f)})"
        if "%z" in f or "%Z" in f:
            e = f"timezone('UTC', {e})"
        parts.append(f"CAST({e} AS TIMESTAMP)")
    expr = f"COALESCE({', '.join(parts + [iso])})" if parts else iso
    return f"CAST({expr} AS DATE)" if date_only else expr


def _num_expr(v: str, decimal: str, *, amount: bool = False) -> str:
    res = AMOUNT_RE if amount else NUM_RE
    if decimal == ",":
        return (f"CASE WHEN regexp_full_match({v}, {_lit(res[','])}) "
                f"THEN TRY_CAST(replace(replace({v}, '.', ''), ',', '.') AS DOUBLE) END")
    return f"CASE WHEN regexp_full_match({v}, {_lit(res['.'])}) THEN TRY_CAST({v} AS DOUBLE) END"


def _int_expr(v: str) -> str:
    return (f"CASE WHEN regexp_full_match({v}, {_lit(INT_RE)}) "
            f"THEN TRY_CAST(regexp_replace({v}, '\\.0*$', '') AS BIGINT) END")


OR = i18n.N_(" or ")      # between alternatives in a message ("'%d/%m/%Y' or '%m/%d/%Y'")
#: A stage value that is no configured stage, per funnel: as it is, and when the mapping maps it to
#: a stage that is not configured either.
UNKNOWN_STAGE = {
    "lead": i18n.N_('"{value}" is not a configured lead stage ({stages}). Map it in the mapping ([stages.{funnel}] '
                    '"{value}" = "{example}") or add the stage on the Stage settings page.'),
    "opportunity": i18n.N_('"{value}" is not a configured opportunity stage ({stages}). Map it in the mapping '
                           '([stages.{funnel}] "{value}" = "{example}") or add the stage on the Stage settings page.'),
}
UNKNOWN_STAGE_MAPPED = {
    "lead": i18n.N_('"{value}" is mapped to "{target}" in the mapping, but "{target}" is not a configured lead stage '
                    '({stages}). Fix [stages.{funnel}] in the mapping or add the stage on the Stage settings page.'),
    "opportunity": i18n.N_('"{value}" is mapped to "{target}" in the mapping, but "{target}" is not a configured '
                           'opportunity stage ({stages}). Fix [stages.{funnel}] in the mapping or add the stage on '
                           'the Stage settings page.'),
}


def _formats_for(mapping: dict, col: str) -> list[str]:
    tf = mapping.get("timestamp_formats") or {}
    return list(tf.get(col, [])) + [f for f in tf.get("*", []) if f not in tf.get(col, [])]


# ---------------------------------------------------------------------------------------------
# The import run


class _Run:
    """State of one import_files call: staging tables, problems table, counts."""

    def __init__(self, con, mapping: dict, skip_bad_rows: bool):
        self.con = con
        self.mapping = mapping
        self.skip = skip_bad_rows
        self.token = uuid.uuid4().hex[:10]
        self.temps: list[str] = []
        self.staged: dict[str, _Staged] = {}
        self.resolved: dict[str, dict[str, str]] = {}   # table -> canonical -> raw column
        self.extras: list[tuple[str, str, str]] = []    # leads attributes: (name, raw column, header)
        self.typed: dict[str, str] = {}
        self.read: dict[str, int] = {}
        self.problems_table = self.temp("problems")
        self.warnings_table = self.temp("warnings")
        self.decimal = (mapping.get("options") or {}).get("decimal", ".")
        self.zh_columns: set[tuple[str, str]] = set()   # (table, column) with values in Chinese notation
        self.currencies: set[str] = set()               # currencies the amounts named (元 / ¥: CNY)
        self.details: list[Message | str] = []          # messages row checks refer to (detail column)

    def temp(self, what: str) -> str:
        name = f"_imp_{self.token}_{what}"
        self.temps.append(name)
        return name

    def drop_temps(self) -> None:
        for t in reversed(self.temps):
            try:
                self.con.execute(f"DROP TABLE IF EXISTS temp.{t}")
            except duckdb.Error:
                pass

    # -- columns ----------------------------------------------------------------------------

    def resolve_columns(self, st: _Staged) -> list[Problem]:
        table = st.table
        cmap = ((self.mapping.get("columns") or {}).get(table)) or {}
        found = _quoted([h for h in st.headers if h]) if any(st.headers) else msg("none")
        problems: list[Problem] = []
        used: dict[str, str] = {}     # raw col -> canonical / attribute name
        res: dict[str, str] = {}

        def find(source: str) -> str | None:
            s = source.strip()
            for pred in (lambda h: h == s, lambda h: h.casefold() == s.casefold(),
                         lambda h: normalise_name(h) == normalise_name(s) and normalise_name(s)):
                for h, c in zip(st.headers, st.cols):
                    if c not in used and pred(h):
                        return c
            return None

        for canon, source in cmap.items():
            c = find(str(source))
            if c is None:
                problems.append(Problem(
                    st.file, table, None, None, str(source),
                    msg('the mapping says {column} = "{source}", but the file has no column "{source}" (found: '
                        '{found}). Fix the name under [columns.{table}] in the mapping.', column=canon,
                        source=str(source), found=found, table=table),
                    "unknown_column_mapping"))
                continue
            used[c] = canon
            res[canon] = c
        for canon in canonical_columns(table):
            if canon in res:
                continue
            c = next((c for c in st.cols if c == canon and c not in used), None)
            if c is not None:
                used[c] = canon
                res[canon] = c
        missing = [c for c in canonical_columns(table) if c not in res and c in _required(table)]
        if missing:
            guess = guess_mapping([h for h, c in zip(st.headers, st.cols) if c not in used], table)
            for canon in missing:
                reason = (msg('the required column {column} is missing (found: {found}). Rename the column in the '
                              'file to {column}, or map it, e.g. [columns.{table}] {column} = "{guess}".',
                              column=canon, found=found, table=table, guess=guess[canon]) if canon in guess else
                          msg('the required column {column} is missing (found: {found}). Rename the column in the '
                              'file to {column}, or map one of the columns to it under [columns.{table}] '
                              '({column} = "Your column").', column=canon, found=found, table=table))
                problems.append(Problem(st.file, table, None, canon, None, reason, "missing_column"))
        self.resolved[table] = res
        if table == "leads":
            core = set(store.LEAD_CORE_COLUMNS)
            attr_names = {c: canon for c, canon in used.items() if canon not in core}
            for h, c in zip(st.headers, st.cols):
                if used.get(c) in core:
                    continue
                name = attr_names.get(c, c)
                if name in core or (c not in attr_names and name in attr_names.values()):
                    continue  # a second "created_at" / "page_views" beside the mapped one: left out
                self.extras.append((name, c, h))
        return problems

    # -- typed staging ----------------------------------------------------------------------

    def zh_lookup(self, st: _Staged, canon: str, kind: str, src: str) -> tuple[str | None, bool]:
        """(lookup table (src, ts, amount, reason) of the values of a date or amount column written in
        Chinese notation, or None when it has none; whether the lookup holds every value). ``reason``
        is the index of the message saying why a value cannot be read (:meth:`detail`).

        Only values a cheap superset test picks (any non-ASCII character, a year followed by '/' or
        '.', CNY / RMB) are read in Python, each distinct value once; every value when the column's
        name gives a yuan unit (金额（万元）: 12.5 there is 125,000).
        """
        col = _clean(src)
        unit = zh_amount_unit(st.headers[st.cols.index(src)]) if kind == "amount" else ""
        pick = r"[^\x00-\x7F]|(?i:cny|rmb)" if kind == "amount" else r"[^\x00-\x7F]|^\d{4}[/.]"
        where = f"{col} IS NOT NULL" if unit else f"regexp_matches({col}, {_lit(pick)})"
        values = [r for (r,) in self.con.execute(f"SELECT DISTINCT {col} FROM {st.raw} WHERE {where}").fetchall()]
        rows = []
        for val in values:
            zh = read_zh_amount(val, self.decimal, unit) if kind == "amount" else read_zh_datetime(val)
            if zh is None:
                continue
            if zh.currency and zh.value is not None:
                self.currencies.add(zh.currency)
            rows.append((val, zh.value if kind != "amount" else None,
                         float(zh.value) if kind == "amount" and zh.value is not None else None,
                         self.detail(zh.message or zh.reason) if zh.reason is not None else None))
        if not rows:
            return None, False
        name = self.temp(f"zh_{st.table}_{canon}")
        frame = pd.DataFrame(rows, columns=["src", "ts", "amount", "reason"]).astype(
            {"src": object, "ts": "datetime64[us]", "amount": float, "reason": "Int64"})
        view = f"{name}_frame"
        self.con.register(view, frame)
        try:
            self.con.execute(f"CREATE TEMP TABLE {name} AS SELECT CAST(src AS VARCHAR) AS src, "
                             f"CAST(ts AS TIMESTAMP) AS ts, CAST(amount AS DOUBLE) AS amount, "
                             f"CAST(reason AS INTEGER) AS reason FROM {view}")
        finally:
            self.con.unregister(view)
        self.zh_columns.add((st.table, canon))
        return name, bool(unit)

    def build_typed(self, st: _Staged) -> None:
        table = st.table
        res = self.resolved[table]
        inner = ["rowid + 1 AS _row"]
        outer = ["s._row"]
        present: list[str] = []       # inner columns that decide whether a row is blank
        joins = ""
        for canon, kind, _req in TABLES[table]:
            src = res.get(canon)
            cleaned = _clean(src) if src else "CAST(NULL AS VARCHAR)"
            inner.append(f"{cleaned} AS {_qi(canon + '__s')}")
            v = f"s.{_qi(canon + '__s')}"
            if src:
                present.append(v)
            if kind in ("id", "ref", "text"):
                outer.append(f"{v} AS {_qi(canon)}")
                continue
            outer.append(f"{v} AS {_qi(canon + '__s')}")
            # Chinese notation is read after the contract's own forms (and formats the mapping names).
            zh, every_value = (self.zh_lookup(st, canon, kind, src) if src and kind in ("timestamp", "date", "amount")
                               else (None, False))
            z = f"z_{canon}"
            if zh:
                joins += f" LEFT JOIN {zh} {z} ON {z}.src = {v}"
                outer.append(f"{z}.reason AS {_qi(canon + '__zh')}")
            if kind == "timestamp":
                e = _ts_expr(v, _formats_for(self.mapping, canon))
                e = f"COALESCE({e}, {z}.ts)" if zh else e
            elif kind == "date":
                e = _ts_expr(v, _formats_for(self.mapping, canon), date_only=True)
                e = f"COALESCE({e}, CAST({z}.ts AS DATE))" if zh else e
            elif kind == "amount":
                e = _num_expr(v, self.decimal, amount=True)
                e = f"{z}.amount" if every_value else f"COALESCE({e}, {z}.amount)" if zh else e
            elif kind == "integer":
                e = _int_expr(v)
            elif kind == "stage":
                e, why, stage_join = self.stage_sql(table, st, v)
                joins += stage_join
                outer.append(f"{why} AS {_qi(canon + '__why')}")
            else:  # pragma: no cover
                raise AssertionError(kind)
            outer.append(f"{e} AS {_qi(canon)}")
        used = set(res.values())
        if table == "leads":
            for name, c, _h in self.extras:
                inner.append(f"{_clean(c)} AS {_qi('a__' + name)}")
                outer.append(f"s.{_qi('a__' + name)}")
                present.append(f"s.{_qi('a__' + name)}")
                used.add(c)
        for c in st.cols:  # columns not imported still make a row non-blank
            if c not in used:
                inner.append(f"{_qi(c)} AS {_qi('r__' + c)}")
                present.append(_clean_expr(f"s.{_qi('r__' + c)}"))
        blank = " AND ".join(f"{p} IS NULL" for p in present) or "false"
        typed = self.temp(f"typed_{table}")
        self.con.execute(
            f"CREATE TEMP TABLE {typed} AS SELECT {', '.join(outer)} "
            f"FROM (SELECT {', '.join(inner)} FROM {st.raw}) s{joins} WHERE NOT ({blank})")
        self.typed[table] = typed
        self.read[table] = self.con.execute(f"SELECT count(*) FROM {typed}").fetchall()[0][0]

    def stage_sql(self, table: str, st: _Staged, v: str) -> tuple[str, str, str]:
        """SQL for (configured stage, reason when unknown, join clause) of cleaned stage text ``v``
        (the reason: the index of its message, :meth:`detail`).

        Stage values are few: they are resolved in Python once per distinct value. When every value
        is already a configured stage the column is taken as is; a short list becomes a CASE; a long
        one a join with a small lookup table.
        """
        funnel = STAGE_FUNNEL[table]
        src_col = self.resolved[table]["stage"]
        values = sorted({c for (r,) in self.con.execute(f"SELECT DISTINCT {_qi(src_col)} FROM {st.raw}").fetchall()
                         if (c := _py_clean(r)) is not None})
        configured = [s.stage for s in store.stages(self.con, funnel)]
        by_norm = {stage_key(s): s for s in configured}
        smap = ((self.mapping.get("stages") or {}).get(funnel)) or {}
        smap_ci = {str(k).strip().casefold(): v for k, v in smap.items()}
        listing = Joined(tuple(configured), ", ")
        rows = []
        for val in values:
            target = smap.get(val, smap_ci.get(val.casefold()))
            if target is not None:
                hit = target if target in configured else by_norm.get(stage_key(target))
                why = None if hit else self.detail(msg(
                    UNKNOWN_STAGE_MAPPED[funnel], value=val, target=target, stages=listing, funnel=funnel))
            else:
                hit = val if val in configured else by_norm.get(stage_key(val))
                why = None if hit else self.detail(msg(
                    UNKNOWN_STAGE[funnel], value=val[:80], stages=listing, funnel=funnel,
                    example=configured[0] if configured else "Stage"))
            rows.append((val, hit, why))
        if all(hit == val for val, hit, _ in rows):
            return v, "CAST(NULL AS INTEGER)", ""
        if len(rows) <= 200:
            hits = " ".join(f"WHEN {_lit(val)} THEN {_lit(hit)}" for val, hit, _ in rows if hit)
            whys = " ".join(f"WHEN {_lit(val)} THEN {why}" for val, _, why in rows if why is not None)
            return (f"CASE {v} {hits} END" if hits else "CAST(NULL AS VARCHAR)",
                    f"CASE {v} {whys} END" if whys else "CAST(NULL AS INTEGER)", "")
        name = self.temp(f"stages_{table}")
        self.con.execute(f"CREATE TEMP TABLE {name} (src VARCHAR, stage VARCHAR, reason INTEGER)")
        self.con.executemany(f"INSERT INTO {name} VALUES (?, ?, ?)", rows)
        return "m.stage", "m.reason", f" LEFT JOIN {name} m ON m.src = {v}"

    # -- row checks -------------------------------------------------------------------------
    #
    # A row check stores what its message needs, not a sentence: the value as shown (``shown``,
    # its first 80 characters), which wording applies (``variant``), the row it refers to
    # (``ref_row``), another value (``extra``: a date it is compared with) and the index of a
    # message made in Python (``detail``: a stage or a Chinese-notation value that cannot be read).
    # The message is built from them when the problems are fetched (:meth:`reason_message`).

    def detail(self, message: Message | str) -> int:
        """The index of ``message`` among this run's detail messages (for a row check to refer to)."""
        self.details.append(message)
        return len(self.details) - 1

    def check_rows(self) -> None:
        con, P = self.con, self.problems_table
        con.execute(f"""CREATE TEMP TABLE {P} (file VARCHAR, table_name VARCHAR, row_number BIGINT,
            column_name VARCHAR, source_column VARCHAR, value VARCHAR, code VARCHAR, shown VARCHAR,
            variant VARCHAR, ref_row BIGINT, extra VARCHAR, detail INTEGER, t_ord INTEGER, c_ord INTEGER)""")
        for table in TABLE_ORDER:
            if table in self.typed:
                self._check_values(table)
        # References, in dependency order: leads before lead_events, opportunities before their events.
        self._check_refs("leads", "lead_events", "lead_id", "unknown_lead")
        self._check_refs("opportunities", "opportunity_events", "opportunity_id", "unknown_opportunity")

    def _insert(self, table: str, col: str, c_ord: int, where: str, value: str, code: str, *,
                shown: str = "NULL", variant: str = "NULL", ref_row: str = "NULL", extra: str = "NULL",
                detail: str = "NULL", frm: str | None = None, row: str = "_row", file: str | None = None,
                t_ord: int | None = None, target: str | None = None) -> None:
        st = self.staged.get(table)
        src_col = None
        if st is not None and col in self.resolved.get(table, {}):
            raw_col = self.resolved[table][col]
            src_col = st.headers[st.cols.index(raw_col)]
        file = file if file is not None else st.file
        t_ord = t_ord if t_ord is not None else TABLE_ORDER.index(table)
        self.con.execute(
            f"INSERT INTO {target or self.problems_table} SELECT {_lit(file)}, {_lit(table)}, {row}, {_lit(col)}, "
            f"{_lit(src_col) if src_col else 'NULL'}, {value}, {_lit(code)}, {shown}, {variant}, {ref_row}, "
            f"{extra}, {detail}, {t_ord}, {c_ord} FROM {frm or self.typed[table]} WHERE {where}")

    def _check_values(self, table: str) -> None:
        T = self.typed[table]
        for c_ord, (canon, kind, required) in enumerate(TABLES[table]):
            raw = _qi(canon + "__s") if kind not in ("id", "ref", "text") else _qi(canon)
            val = f"left({raw}, 200)"
            shown = f"left({raw}, 80)"
            if required:
                self._insert(table, canon, c_ord, f"{raw} IS NULL", "NULL", "missing_value")
            if kind in ("timestamp", "date"):
                variant = (f"CASE WHEN {_bad_offset_expr(raw)} THEN 'offset' ELSE 'date' END" if kind == "timestamp"
                           else "'date'")
                variant, detail = self._zh_variant(table, canon, variant)
                self._insert(table, canon, c_ord, f"{raw} IS NOT NULL AND {_qi(canon)} IS NULL", val,
                             "bad_timestamp", shown=shown, variant=variant, detail=detail)
                lo, hi = EARLIEST_DATE.isoformat(), (LATEST_DATE + dt.timedelta(days=1)).isoformat()
                self._insert(table, canon, c_ord,
                             f"{_qi(canon)} < DATE {_lit(lo)} OR {_qi(canon)} >= DATE {_lit(hi)}", val,
                             "out_of_range", shown=shown, variant="'date'")
            elif kind in ("amount", "integer"):
                variant = _lit(kind)
                if kind == "amount":
                    variant = (f"CASE WHEN regexp_full_match({raw}, {_lit(EXPONENT_RE)}) THEN 'exponent' "
                               f"WHEN regexp_full_match({raw}, {_lit(NON_FINITE_RE)}) THEN 'non_finite' "
                               f"ELSE 'amount' END")
                    variant, detail = self._zh_variant(table, canon, variant)
                else:
                    detail = "NULL"
                self._insert(table, canon, c_ord, f"{raw} IS NOT NULL AND {_qi(canon)} IS NULL", val,
                             "bad_number", shown=shown, variant=variant, detail=detail)
                if kind == "amount":
                    self._insert(table, canon, c_ord, f"{_qi(canon)} >= {MAX_AMOUNT!r}", val, "out_of_range",
                                 shown=shown, variant="'amount'")
                    self._insert(table, canon, c_ord, f"{_qi(canon)} < 0", val, "negative_amount", shown=shown)
            elif kind == "stage":
                self._insert(table, canon, c_ord, f"{raw} IS NOT NULL AND {_qi(canon)} IS NULL", val,
                             "unknown_stage", shown=shown, detail=_qi(canon + "__why"))
            elif kind == "id":
                first = self.temp(f"dups_{table}")
                self.con.execute(
                    f"CREATE TEMP TABLE {first} AS SELECT {_qi(canon)} AS id, min(_row) AS first_row "
                    f"FROM {T} WHERE {_qi(canon)} IS NOT NULL GROUP BY 1 HAVING count(*) > 1")
                self._insert(
                    table, canon, c_ord, "t._row > d.first_row", f"left(t.{_qi(canon)}, 200)", "duplicate_id",
                    shown=f"left(t.{_qi(canon)}, 80)", ref_row="d.first_row",
                    frm=f"{T} t JOIN {first} d ON d.id = t.{_qi(canon)}", row="t._row")

    def _zh_variant(self, table: str, canon: str, variant: str) -> tuple[str, str]:
        """(variant, detail) SQL: the reason a Chinese-notation value could not be read (e.g. an
        ambiguous 12,34万) comes before the column's general one."""
        if (table, canon) not in self.zh_columns:
            return variant, "NULL"
        zh = _qi(canon + "__zh")
        return f"CASE WHEN {zh} IS NOT NULL THEN 'zh' ELSE {variant} END", zh

    def _check_refs(self, parent: str, child: str, key: str, code: str) -> None:
        """Child rows (new, or stored when only the parent is replaced) need a parent after import."""
        con = self.con
        if parent not in self.typed and child not in self.typed:
            return
        valid = self.temp(f"valid_{parent}")
        rejected = self.temp(f"rejected_{parent}")
        if parent in self.typed:
            T = self.typed[parent]
            con.execute(
                f"CREATE TEMP TABLE {valid} AS SELECT DISTINCT {key} AS id FROM {T} WHERE {key} IS NOT NULL "
                f"AND _row NOT IN (SELECT row_number FROM {self.problems_table} WHERE table_name = {_lit(parent)})")
            con.execute(
                f"CREATE TEMP TABLE {rejected} AS SELECT {key} AS id, min(_row) AS first_row FROM {T} "
                f"WHERE {key} IS NOT NULL AND {key} NOT IN (SELECT id FROM {valid}) GROUP BY 1")
        else:
            con.execute(f"CREATE TEMP TABLE {valid} AS SELECT {key} AS id FROM main.{parent}")
            con.execute(f"CREATE TEMP TABLE {rejected} (id VARCHAR, first_row BIGINT)")
        c_ord = next(i for i, (c, _, _) in enumerate(TABLES[child]) if c == key)
        shown = f"left(e.{key}, 80)"
        frm = f"{{}} e LEFT JOIN {valid} v ON v.id = e.{key} LEFT JOIN {rejected} r ON r.id = e.{key}"
        if child in self.typed:
            variant = ("CASE WHEN r.id IS NOT NULL THEN 'rejected' ELSE 'missing' END" if parent in self.typed
                       else "'missing'")
            self._insert(child, key, c_ord, f"e.{key} IS NOT NULL AND v.id IS NULL", f"left(e.{key}, 200)", code,
                         shown=shown, variant=variant, ref_row="r.first_row",
                         frm=frm.format(self.typed[child]), row="e._row")
        elif parent in self.typed:
            # Stored child rows whose parent is replaced away: moved aside with skip bad rows (the
            # new file no longer has that parent). But when the parent IS in the file and its row
            # was rejected, skipping it must not delete the stored history: that is fatal.
            self._insert(child, key, c_ord, "v.id IS NULL AND r.id IS NOT NULL", f"left(e.{key}, 200)",
                         "stored_rows_would_be_lost", shown=shown, ref_row="r.first_row",
                         frm=frm.format(f"main.{child}"), row="e.event_seq", file=DATABASE, t_ord=len(TABLE_ORDER))
            self._insert(child, key, c_ord, "v.id IS NULL AND r.id IS NULL", f"left(e.{key}, 200)", code,
                         shown=shown, variant="'gone'", frm=frm.format(f"main.{child}"), row="e.event_seq",
                         file=DATABASE, t_ord=len(TABLE_ORDER))

    # -- the words of a row check --------------------------------------------------------------

    def reason_message(self, code: str, variant: str | None, table: str, column: str | None,
                       detail: int | None, shown: str | None, ref_row=None, extra: str | None = None) -> Message:
        """The reason of one row check's finding, from what the check stored (see check_rows)."""
        value, row = shown, (None if ref_row is None else str(ref_row))
        parent = {"lead_events": "leads", "opportunity_events": "opportunities"}.get(table)
        parent_file = self.staged[parent].file if parent in self.staged else None
        if code == "missing_value":
            return msg("the value is empty, but {column} is required. Fill it in, or skip bad rows to leave this "
                       "row out.", column=column)
        if variant == "zh":
            return msg('"{value}" {reason}', value=value, reason=self.details[detail])
        if code in ("unknown_stage",):
            return self.details[detail]
        if code == "bad_timestamp":
            if variant == "offset":
                return msg('"{value}" has a UTC offset no place has (offsets run from -12:00 to +14:00, minutes '
                           'below 60). Fix the offset, or write the time in UTC.', value=value)
            formats = _formats_for(self.mapping, column)
            if formats:
                return msg('"{value}" is not a date. Write it as YYYY-MM-DD, or as {formats} (the format named in '
                           'the mapping).', value=value, formats=Joined(tuple(repr(f) for f in formats), OR))
            return msg('"{value}" is not a date. Use YYYY-MM-DD or YYYY-MM-DD HH:MM:SS (ISO 8601), or name the '
                       'format in the mapping ([timestamp_formats] {column} = "{example}").', value=value,
                       column=column, example="%d/%m/%Y")
        if code == "out_of_range":
            if variant == "amount":
                return msg('"{value}" is larger than any deal (amounts must be below {limit}). Fix the amount in '
                           'the file.', value=value, limit=f"{MAX_AMOUNT:,.0f}")
            return msg('"{value}" is outside the dates Funnelcast accepts ({earliest} to {latest}): no CRM record is '
                       'that old or that far ahead. Fix the date; if it stands for "unknown", leave the cell empty '
                       '(where the column is optional) or skip bad rows.', value=value,
                       earliest=EARLIEST_DATE.isoformat(), latest=LATEST_DATE.isoformat())
        if code == "bad_number":
            if variant == "exponent":
                return msg('"{value}" is in exponent notation, which amounts do not accept (often a spreadsheet '
                           'shortening a long number). Write the amount in full, e.g. 1200 for 1.2e3.', value=value)
            if variant == "non_finite":
                return msg('"{value}" is not a finite number; an amount is a real figure of 0 or more. Fix the '
                           'amount in the file.', value=value)
            if variant == "integer":
                return msg('"{value}" is not a whole number. Write {column} with digits only, e.g. 250.',
                           value=value, column=column)
            if self.decimal == ",":
                return msg('"{value}" is not a number. Write amounts like 1234,50 or 1.234,50 (decimal = "," in '
                           'the mapping), without currency signs.', value=value)
            return msg('"{value}" is not a number. Write amounts with digits and a \'.\' decimal point, without '
                       'thousands separators or currency signs (e.g. 1234.50); for 1.234,50 set decimal = "," '
                       'under [options] in the mapping.', value=value)
        if code == "negative_amount":
            return msg('"{value}" is negative; amounts must be 0 or more. Fix the amount in the file.', value=value)
        if code == "duplicate_id":
            return msg('"{value}" appears more than once; row {row} already has it. Each {column} must be unique: '
                       'remove or renumber the repeat.', value=value, row=row, column=column)
        if code in ("unknown_lead", "unknown_opportunity", "stored_rows_would_be_lost"):
            return self._reference_message(code, variant, table, value, row, parent_file)
        if code == "far_from_other_dates":
            return msg('"{value}" is more than {years} years from the other {column} values of this file (their '
                       'median is {median}). It was loaded; check it is not a typing slip (the default as-of date '
                       'is the latest date in the data).', value=value, years=str(SUSPICIOUS_YEARS), column=column,
                       median=extra)
        if code == "before_creation":
            return (msg('"{value}" is before its lead\'s creation ({created}). It was loaded; check the dates of '
                        'this lead (time in stage counts from the event, cohorts from the creation).',
                        value=value, created=extra) if table == "lead_events" else
                    msg('"{value}" is before its deal\'s creation ({created}). It was loaded; check the dates of '
                        'this deal (time in stage counts from the event, cohorts from the creation).',
                        value=value, created=extra))
        raise AssertionError(f"no words for the row check {code!r}")  # pragma: no cover

    @staticmethod
    def _reference_message(code: str, variant: str | None, table: str, value: str | None, row: str | None,
                           parent_file: str | None) -> Message:
        """An event's reference to its lead or deal that does not hold after the import."""
        lead = table == "lead_events"
        if code == "stored_rows_would_be_lost":
            return (msg('"{value}" was rejected in {file} (row {row}), so this stored lead event would have no lead; '
                        'skipping that row would delete the events already stored for it. Fix that row, or import '
                        'lead_events too.', value=value, file=parent_file, row=row) if lead else
                    msg('"{value}" was rejected in {file} (row {row}), so this stored opportunity event would have no '
                        'opportunity; skipping that row would delete the events already stored for it. Fix that '
                        'row, or import opportunity_events too.', value=value, file=parent_file, row=row))
        if variant == "gone":
            return (msg('"{value}" is not in {file}, so this stored event would have no lead. Import lead_events '
                        'together with leads, or add the lead back.', value=value, file=parent_file) if lead else
                    msg('"{value}" is not in {file}, so this stored event would have no opportunity. Import '
                        'opportunity_events together with opportunities, or add the opportunity back.',
                        value=value, file=parent_file))
        if variant == "rejected":
            return (msg('"{value}" is in {file} (row {row}) but that row was rejected, so this row has no lead. Fix '
                        'the lead row.', value=value, file=parent_file, row=row) if lead else
                    msg('"{value}" is in {file} (row {row}) but that row was rejected, so this row has no '
                        'opportunity. Fix the opportunity row.', value=value, file=parent_file, row=row))
        if parent_file is None:
            return (msg('"{value}" is not a lead in the database. Import leads together with lead_events, or fix '
                        'the id.', value=value) if lead else
                    msg('"{value}" is not an opportunity in the database. Import opportunities together with '
                        'opportunity_events, or fix the id.', value=value))
        return (msg('"{value}" is not a lead in {file}. Add the lead there, or fix the id.', value=value,
                    file=parent_file) if lead else
                msg('"{value}" is not an opportunity in {file}. Add the opportunity there, or fix the id.',
                    value=value, file=parent_file))

    _FETCHED = ("file, table_name, row_number, column_name, value, code, source_column, "
                "shown, variant, ref_row, extra, detail")

    def _problem(self, file, table, row, column, value, code, source_column, shown, variant, ref_row, extra,
                 detail) -> Problem:
        reason = self.reason_message(code, variant, table, column, detail, shown, ref_row, extra)
        return Problem(file, table, row, column, value, reason, code, source_column)

    # Markers for a row's values in an English reason made once per kind of finding (see _store_rejected).
    _MARK_VALUE, _MARK_ROW, _MARK_EXTRA = "\x1evalue\x1e", "\x1erow\x1e", "\x1eextra\x1e"

    def _reason_templates(self, table: str) -> str:
        """A temp table of the English reasons of the findings in the problems table, one per kind of
        finding (code, variant, table, column, detail), with markers where a row's values go: the
        rejected rows list stores every finding's reason, and there may be millions."""
        P = self.problems_table
        kinds = self.con.execute(f"SELECT DISTINCT code, variant, table_name, column_name, detail FROM {P} "
                                 f"WHERE table_name = {_lit(table)}").fetchall()
        rows = [(code, variant, t, column, detail,
                 self.reason_message(code, variant, t, column, detail, self._MARK_VALUE, self._MARK_ROW,
                                     self._MARK_EXTRA).render("en"))
                for code, variant, t, column, detail in kinds]
        name = self.temp(f"reasons_{table}")
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} (code VARCHAR, variant VARCHAR, table_name VARCHAR, "
                         "column_name VARCHAR, detail INTEGER, template VARCHAR)")
        if rows:
            self.con.executemany(f"INSERT INTO {name} VALUES (?, ?, ?, ?, ?, ?)", rows)
        return name

    def _reason_sql(self, templates: str) -> tuple[str, str]:
        """(join clause on the problems table ``p``, the English reason) for :meth:`_reason_templates`.
        The row's own value goes in last, so nothing in it is taken for a marker."""
        join = (f" JOIN {templates} t ON t.code = p.code AND t.table_name = p.table_name "
                "AND t.variant IS NOT DISTINCT FROM p.variant AND t.column_name IS NOT DISTINCT FROM p.column_name "
                "AND t.detail IS NOT DISTINCT FROM p.detail")
        reason = (f"replace(replace(replace(t.template, {_lit(self._MARK_ROW)}, coalesce(CAST(p.ref_row AS VARCHAR), "
                  f"'')), {_lit(self._MARK_EXTRA)}, coalesce(p.extra, '')), {_lit(self._MARK_VALUE)}, "
                  "coalesce(p.shown, ''))")
        return join, reason

    # -- warnings: loaded, but worth a look ---------------------------------------------------

    def check_warnings(self) -> None:
        """Dates among the rows that will load more than SUSPICIOUS_YEARS from the median of their
        column in the file, into the warnings table (the problems table's shape); events before
        their creation follow in check_creation_warnings."""
        con, W, P = self.con, self.warnings_table, self.problems_table
        con.execute(f"CREATE TEMP TABLE {W} AS SELECT * FROM {P} LIMIT 0")
        span = int(SUSPICIOUS_YEARS * 365.25 * 86400)
        for table in TABLE_ORDER:
            if table not in self.typed:
                continue
            T = self.typed[table]
            good = f"_row NOT IN (SELECT row_number FROM {P} WHERE table_name = {_lit(table)})"
            for c_ord, (canon, kind, _req) in enumerate(TABLES[table]):
                if kind not in ("timestamp", "date"):
                    continue
                c = _qi(canon)
                # The median from a histogram by day (a hash aggregate over a few thousand days,
                # exact, much cheaper than ordering millions of timestamps); the rows are only
                # scanned for the far ones when the extremes are far from it.
                days = con.execute(f"SELECT CAST({c} AS DATE) AS d, count(*) FROM {T} "
                                   f"WHERE {c} IS NOT NULL AND {good} GROUP BY 1 ORDER BY 1").fetchall()
                n = sum(k for _, k in days)
                if n < 3:   # two dates have no "rest of the data" to stand out from
                    continue
                seen, med = 0, days[0][0]
                for d, k in days:       # the lower median (percentile_disc 0.5) of the days
                    seen += k
                    if 2 * seen >= n:
                        med = d
                        break
                reach = dt.timedelta(days=SUSPICIOUS_YEARS * 365.25)
                if days[0][0] >= med - reach and days[-1][0] <= med + reach:
                    continue
                med_ts = _lit(f"{med} 12:00:00")   # noon: a day's median is within half a day
                self._insert(table, canon, c_ord,
                             f"{c} IS NOT NULL AND {good} AND abs(epoch({c}) - epoch(CAST({med_ts} AS TIMESTAMP))) > {span}",
                             f"left({_qi(canon + '__s')}, 200)", "far_from_other_dates",
                             shown=f"left({_qi(canon + '__s')}, 80)", extra=_lit(str(med)[:10]), target=W)

    def check_creation_warnings(self) -> None:
        """Events dated before their lead's or deal's creation, read off the derived tables just
        rebuilt inside the import's transaction (each event already sits beside its parent's
        created_at there: a filter, not a join of millions of events). New events are named by
        their file row (event_seq), stored ones as already in the database."""
        for parent, child, derived in (("leads", "lead_events", "lead_visits"),
                                       ("opportunities", "opportunity_events", "deal_history")):
            if child not in self.typed and parent not in self.typed:
                continue
            c_ord = next(i for i, (c, _, _) in enumerate(TABLES[child]) if c == "entered_at")
            where = "e.entered_at IS NOT NULL AND e.entered_at < e.created_at"
            kw = {} if child in self.typed else {"file": DATABASE, "t_ord": len(TABLE_ORDER)}
            self._insert(child, "entered_at", c_ord, where, "left(CAST(e.entered_at AS VARCHAR), 200)",
                         "before_creation", shown="left(CAST(e.entered_at AS VARCHAR), 80)",
                         extra="CAST(e.created_at AS VARCHAR)", frm=f"main.{derived} e", row="e.event_seq",
                         target=self.warnings_table, **kw)

    def fetch_warnings(self, limit: int = MAX_PROBLEMS) -> tuple[list[Problem], int]:
        notes = [n for st in self.staged.values() for n in st.notes]
        W = self.warnings_table
        total = self.con.execute(f"SELECT count(*) FROM {W}").fetchall()[0][0]
        rows = self.con.execute(
            f"SELECT {self._FETCHED} FROM {W} ORDER BY t_ord, row_number, c_ord, code LIMIT {int(limit)}").fetchall()
        return notes + [self._problem(*r) for r in rows], total + len(notes)

    # -- results ----------------------------------------------------------------------------

    def problem_count(self) -> int:
        return self.con.execute(f"SELECT count(*) FROM {self.problems_table}").fetchall()[0][0]

    def fatal_count(self) -> int:
        codes = ", ".join(_lit(c) for c in sorted(FATAL_CODES))
        return self.con.execute(f"SELECT count(*) FROM {self.problems_table} WHERE code IN ({codes})").fetchall()[0][0]

    def fetch_problems(self, limit: int = MAX_PROBLEMS) -> list[Problem]:
        rows = self.con.execute(
            f"SELECT {self._FETCHED} FROM {self.problems_table} ORDER BY t_ord, row_number, c_ord, code "
            f"LIMIT {int(limit)}").fetchall()
        return [self._problem(*r) for r in rows]

    def bad_rows(self) -> dict[tuple[str, str], int]:
        rows = self.con.execute(
            f"SELECT file, table_name, count(DISTINCT row_number) FROM {self.problems_table} GROUP BY 1, 2").fetchall()
        return {(f, t): n for f, t, n in rows}

    def row_counts(self, committed: bool) -> dict[str, dict[str, int]]:
        bad = self.bad_rows()
        out: dict[str, dict[str, int]] = {}
        for table in TABLE_ORDER:
            if table in self.typed:
                rej = bad.get((self.staged[table].file, table), 0)
                out[table] = {"read": self.read[table], "loaded": (self.read[table] - rej) if committed else 0,
                              "rejected": rej}
            if (DATABASE, table) in bad:
                out.setdefault(table, {"read": 0, "loaded": 0, "rejected": 0})
                out[table]["removed_stored"] = bad[(DATABASE, table)]
                out[table]["rejected"] += bad[(DATABASE, table)]
        return out

    # -- writing ----------------------------------------------------------------------------

    def write(self, run_id: int, has_problems: bool) -> None:
        con, P = self.con, self.problems_table
        if has_problems:
            self._store_rejected(run_id)

        def good(table: str) -> tuple[str, str]:
            if not has_problems:
                return "", ""
            return (f" WHERE _row NOT IN (SELECT row_number FROM {P} WHERE table_name = {_lit(table)} "
                    f"AND file <> {_lit(DATABASE)})", " ORDER BY _row")

        if "leads" in self.typed:
            attrs = self._attribute_types()
            cols = []
            for c, t in store.LEAD_CORE_COLUMNS.items():
                extra = " PRIMARY KEY" if c == "lead_id" else " NOT NULL" if c == "created_at" else ""
                cols.append(f"{_qi(c)} {t}{extra}")
            cols += [f"{_qi(name)} {t}" for name, t, _ in attrs]
            con.execute("DROP TABLE IF EXISTS main.leads")
            con.execute(f"CREATE TABLE main.leads ({', '.join(cols)})")
            sel = [_qi(c) for c in store.LEAD_CORE_COLUMNS] + [e for _, _, e in attrs]
            w, o = good("leads")
            con.execute(f"INSERT INTO main.leads SELECT {', '.join(sel)} FROM {self.typed['leads']}{w}{o}")
        if "opportunities" in self.typed:
            cols = canonical_columns("opportunities")
            w, o = good("opportunities")
            con.execute("DELETE FROM main.opportunities")
            con.execute(f"INSERT INTO main.opportunities ({', '.join(cols)}) SELECT {', '.join(cols)} "
                        f"FROM {self.typed['opportunities']}{w}{o}")
        for table in ("lead_events", "opportunity_events"):
            if table in self.typed:
                cols = canonical_columns(table)
                w, o = good(table)
                con.execute(f"DELETE FROM main.{table}")
                con.execute(f"INSERT INTO main.{table} ({', '.join(cols)}, event_seq) SELECT {', '.join(cols)}, "
                            f"_row FROM {self.typed[table]}{w}{o}")
        if has_problems:
            # Stored events orphaned by a replaced parent were copied to rejected_rows above.
            for parent, child, key in (("leads", "lead_events", "lead_id"),
                                       ("opportunities", "opportunity_events", "opportunity_id")):
                if parent in self.typed and child not in self.typed:
                    con.execute(f"DELETE FROM main.{child} WHERE {key} NOT IN (SELECT {key} FROM main.{parent})")

    def set_currency(self) -> i18n.Message | None:
        """Amounts written in yuan (元, ¥, CNY) make the database's currency CNY, unless a person chose
        one (fmt.set_currency with from_import). A sentence for the import's message when it changed."""
        if len(self.currencies) != 1:
            return None
        code = next(iter(self.currencies))
        before = fmt.currency(self.con)
        after = fmt.set_currency(self.con, code, from_import=True)
        if after == before:
            return None
        return i18n.msg("Amounts are in {currency} (the file writes them in 元 / ¥), so money is now shown in "
                        "{currency}.", currency=after)

    def check_written(self, rows: dict[str, dict[str, int]]) -> None:
        """The row count check's last step: each written table holds exactly the rows counted as
        loaded (read = loaded + rejected by construction). A difference rolls the import back."""
        for table in self.typed:
            have = self.con.execute(f"SELECT count(*) FROM main.{table}").fetchall()[0][0]
            if have != rows[table]["loaded"]:
                raise ImportValidationError(
                    msg("Nothing was imported: {table} would hold {held} rows but {loaded} were read and accepted "
                        "from {file}.", table=TableName(table), held=fmt.Count(have),
                        loaded=fmt.Count(rows[table]["loaded"]), file=self.staged[table].file),
                    hint=msg("This is a bug in the import, not in your file; the database was not changed."))

    def _attribute_types(self) -> list[tuple[str, str, str]]:
        """(name, DuckDB type, SELECT expression) for each extra leads column.

        A type holds when every non-blank value of the column has its form (bool_and skips
        NULLs). The forms are tried on the first TYPE_SAMPLE rows first, and the whole column is
        read only for the forms that survive there — a text column is settled by its sample, so
        a wide file costs one check per column rather than four. The statistics are gathered
        ATTRIBUTE_BATCH columns per statement, keeping every statement small.
        """
        if not self.extras:
            return []
        T = self.typed["leads"]
        forms = {"bool": BOOL_RE, "int": INT_RE, "num": NUM_RE[self.decimal], "plain_int": PLAIN_INT_RE}

        def check(a: str, form: str) -> str:
            if form == "int":   # whole numbers that also fit a BIGINT
                return (f"bool_and(CASE WHEN regexp_full_match({a}, {_lit(INT_RE)}) THEN "
                        f"TRY_CAST(regexp_replace({a}, '\\.0*$', '') AS BIGINT) IS NOT NULL ELSE {a} IS NULL END)")
            return f"bool_and(regexp_full_match({a}, {_lit(forms[form])}))"

        def gather(frm: str, wanted: list[tuple[str, list[str]]]) -> dict[tuple[str, str], object]:
            got: dict[tuple[str, str], object] = {}
            for i in range(0, len(wanted), ATTRIBUTE_BATCH):
                batch = wanted[i: i + ATTRIBUTE_BATCH]
                keys = [(name, f) for name, fs in batch for f in ["count"] + fs]
                aggs = [f"count({_qi('a__' + n)})" if f == "count" else check(_qi("a__" + n), f) for n, f in keys]
                got.update(zip(keys, self.con.execute(f"SELECT {', '.join(aggs)} FROM {frm}").fetchall()[0]))
            return got

        names = [name for name, _c, _h in self.extras]
        sample = gather(f"(SELECT * FROM {T} LIMIT {TYPE_SAMPLE})", [(n, list(forms)) for n in names])
        # a form refuted by the sample (False) is refuted; one it cannot judge (NULL) stays open
        alive = [(n, [f for f in forms if sample[(n, f)] is not False]) for n in names]
        full = gather(T, alive)
        stats: list = []
        for n in names:
            stats += [full[(n, "count")]] + [full.get((n, f), False) for f in ("bool", "int", "num", "plain_int")]
        out = []
        for i, (name, _c, header) in enumerate(self.extras):
            n, is_bool, is_int, is_num, is_plain_int = stats[5 * i: 5 * i + 5]
            a = _qi("a__" + name)
            if n == 0 and not header:
                continue  # a blank, unnamed column
            if n and is_bool:
                out.append((name, "BOOLEAN",
                            f"CASE WHEN regexp_full_match({a}, {_lit(BOOL_TRUE_RE)}) THEN true "
                            f"WHEN {a} IS NOT NULL THEN false END"))
            # Every value was checked above, so a plain cast is enough where the text is already
            # in the cast's own syntax (a short expression per column keeps wide files fast).
            elif n and is_int:
                out.append((name, "BIGINT", f"TRY_CAST({a} AS BIGINT)" if is_plain_int else _int_expr(a)))
            elif n and is_num:
                out.append((name, "DOUBLE", f"TRY_CAST({a} AS DOUBLE)" if self.decimal == "." else _num_expr(a, self.decimal)))
            else:
                out.append((name, "VARCHAR", a))
        return out

    def _store_rejected(self, run_id: int) -> None:
        """Every problem into rejected_rows, with its English reason and the whole row as JSON."""
        con, P = self.con, self.problems_table
        for table, st in self.staged.items():
            labels = _unique_labels(st.headers)
            obj = "json_object(" + ", ".join(f"{_lit(lab)}, {_qi(c)}" for lab, c in zip(labels, st.cols)) + ")"
            join, reason = self._reason_sql(self._reason_templates(table))
            con.execute(
                f"INSERT INTO main.rejected_rows SELECT {run_id}, p.file, p.table_name, p.row_number, p.column_name, "
                f"p.value, {reason}, r.raw_json FROM {P} p{join} LEFT JOIN "
                f"(SELECT rowid + 1 AS _row, {obj} AS raw_json FROM {st.raw}) r ON r._row = p.row_number "
                f"WHERE p.table_name = {_lit(table)} AND p.file = {_lit(st.file)} "
                f"ORDER BY p.t_ord, p.row_number, p.c_ord")
        for child, cols in (("lead_events", canonical_columns("lead_events")),
                            ("opportunity_events", canonical_columns("opportunity_events"))):
            obj = "json_object(" + ", ".join(f"{_lit(c)}, e.{_qi(c)}" for c in cols + ["event_seq"]) + ")"
            join, reason = self._reason_sql(self._reason_templates(child))
            con.execute(
                f"INSERT INTO main.rejected_rows SELECT {run_id}, p.file, p.table_name, p.row_number, p.column_name, "
                f"p.value, {reason}, {obj} FROM {P} p{join} JOIN main.{child} e ON e.event_seq = p.row_number "
                f"WHERE p.table_name = {_lit(child)} AND p.file = {_lit(DATABASE)} ORDER BY p.row_number")


def _required(table: str) -> set[str]:
    return {c for c, _, req in TABLES[table] if req}


def _rows_of(table: str, n: int) -> i18n.Message:
    """``n`` rows of ``table`` in words: "3,000 leads", "1 lead event"."""
    count = fmt.Count(n)
    if table == "leads":
        return i18n.msg_n("{n} lead", "{n} leads", n, n=count)
    if table == "lead_events":
        return i18n.msg_n("{n} lead event", "{n} lead events", n, n=count)
    if table == "opportunities":
        return i18n.msg_n("{n} opportunity", "{n} opportunities", n, n=count)
    return i18n.msg_n("{n} opportunity event", "{n} opportunity events", n, n=count)


def rows_summary(rows: dict[str, dict[str, int]]) -> i18n.Message:
    """What a run loaded (``ImportResult.rows``): "3,000 leads, 12,000 lead events" (or "no rows")."""
    parts = [_rows_of(t, rows[t]["loaded"]) for t in TABLE_ORDER if t in rows and rows[t].get("read")]
    return i18n.list_of(parts) if parts else i18n.msg("no rows")


def _removed_stored(table: str, n: int) -> i18n.Message:
    """Events already stored that a skipping import removed with their lead or deal."""
    if table == "lead_events":
        return i18n.msg_n("{n} lead event already stored removed because their lead is gone",
                          "{n} lead events already stored removed because their lead is gone", n, n=fmt.Count(n))
    return i18n.msg_n("{n} opportunity event already stored removed because their opportunity is gone",
                      "{n} opportunity events already stored removed because their opportunity is gone", n,
                      n=fmt.Count(n))


def _committed_message(rows: dict[str, dict[str, int]], run_id: int, total: int,
                       currency_note: i18n.Message | None, warnings: list[Problem], n_warn: int) -> i18n.Message:
    """What a committed import did, for its log entry, its audit row and the person who ran it."""
    message = i18n.msg("Imported {rows}.", rows=rows_summary(rows))
    if total:
        nbad = sum(v["rejected"] - v.get("removed_stored", 0) for v in rows.values())
        parts = [i18n.msg("Imported {rows}", rows=rows_summary(rows))]
        if nbad:
            parts.append(i18n.msg_n("{n} bad row skipped", "{n} bad rows skipped", nbad, n=fmt.Count(nbad)))
        for t, v in rows.items():
            if v.get("removed_stored"):
                parts.append(_removed_stored(t, v["removed_stored"]))
        message = i18n.msg("{parts} (see rejected rows, run {run}).", parts=i18n.list_of(parts, "; "), run=str(run_id))
    if currency_note is not None:
        message = i18n.msg("{first} {then}", first=message, then=currency_note)
    if n_warn:
        message = i18n.msg("{first} {then}", first=message, then=_warning_msg(warnings, n_warn))
    return message


def problem_list(problems: list[Problem], total: int | None = None) -> Message | Joined:
    """The first MESSAGE_PROBLEMS problems as clauses of one sentence, where and what each
    (``a.csv, row 2 (line 3), column x: "…" is not a date; …``), and how many more there are."""
    total = len(problems) if total is None else total
    first = Joined(tuple(p.text_message() for p in problems[:MESSAGE_PROBLEMS]), "; ", clauses=True)
    if total <= MESSAGE_PROBLEMS:
        return first
    more = total - MESSAGE_PROBLEMS
    return msg_n("{problems} (and {n} more problem)", "{problems} (and {n} more problems)", more,
                 problems=first, n=fmt.Count(more))


def _failure_message(problems: list[Problem], total: int, skipping: bool = False) -> tuple[Message, Message]:
    fatal = any(p.code in FATAL_CODES for p in problems)
    lost = [p for p in problems if p.code == "stored_rows_would_be_lost"]
    if skipping and lost:
        # the problems that stop a skipping import come first: the bad rows themselves are expected
        problems = lost + [p for p in problems if p.code != "stored_rows_would_be_lost"]
    refusal = msg_n("Nothing was imported: {n} problem found. {problems}.",
                    "Nothing was imported: {n} problems found. {problems}.", total,
                    n=fmt.Count(total), problems=problem_list(problems, total))
    if lost:
        n = len({(p.table, p.value) for p in lost})
        hint = msg_n("Skipping bad rows would delete stored events of {n} rejected row: fix that row and import "
                     "again, or import the events together with their leads or deals; the database was not changed.",
                     "Skipping bad rows would delete stored events of {n} rejected rows: fix those rows and import "
                     "again, or import the events together with their leads or deals; the database was not changed.",
                     n, n=fmt.Count(n))
    elif fatal:
        hint = msg("Fix the file or the mapping and import again; the database was not changed.")
    else:
        hint = msg("Fix these rows and import again, or import with 'skip bad rows' to load the good rows and keep "
                   "the bad ones in the rejected rows list; the database was not changed.")
    return refusal, hint


def _warning_message(warnings: list[Problem], total: int) -> str:
    return _warning_msg(warnings, total).render("en")


def _warning_msg(warnings: list[Problem], total: int) -> i18n.Message:
    """The import message's sentence on the values loaded but worth a look (the first few named)."""
    first = i18n.list_of([str(p).rstrip(".") for p in warnings[:MESSAGE_PROBLEMS]], "; ")
    if total > MESSAGE_PROBLEMS:
        return i18n.msg_n("{n} warning (loaded, but worth a look): {first} (and {more} more).",
                          "{n} warnings (loaded, but worth a look): {first} (and {more} more).", total,
                          n=fmt.Count(total), first=first, more=fmt.Count(total - MESSAGE_PROBLEMS))
    return i18n.msg_n("{n} warning (loaded, but worth a look): {first}.",
                      "{n} warnings (loaded, but worth a look): {first}.", total, n=fmt.Count(total), first=first)


def _sheet_for(table: str, sheet: str | dict | None, mapping: dict) -> str | None:
    """The sheet to read for ``table``: the call's ``sheet``, else the mapping's [options] sheet."""
    for choice in (sheet, (mapping.get("options") or {}).get("sheet")):
        if isinstance(choice, dict):
            choice = choice.get(table)
        if choice is not None and str(choice).strip():
            return str(choice)
    return None


def _log_failed(con, started: dt.datetime, source: str, rows: dict, message: i18n.Message | str) -> int | None:
    try:
        run_id = con.execute("SELECT nextval('import_run_seq')").fetchall()[0][0]
        store.log_import_run(con, run_id, started, _utcnow(), source, "failed", rows, message)
        return run_id
    except duckdb.Error:  # logging must never hide the real error
        return None


def import_files(con, *, actor: access.Actor | None = None, **kwargs) -> ImportResult:
    """:func:`_import_files` as ``actor`` (admins only): the import run and its audit row name them."""
    who = access.require(actor, "import")
    with access.acting(who):
        return _import_files(con, **kwargs)


def _import_files(con, *, leads=None, lead_events=None, opportunities=None, opportunity_events=None,
                  mapping: dict | str | Path | None = None, skip_bad_rows: bool = False,
                  source: str = "files", sheet: str | dict[str, str] | None = None) -> ImportResult:
    """Validate the given files and REPLACE the tables they stand for, all or nothing.

    Any subset of the four canonical tables may be given; a table not given is kept. Each file
    is a path, a ``(name, bytes)`` tuple or a file-like object with ``.name``. ``mapping`` is a
    dict, a path to a .toml file, or TOML text (see funnel.mapping). See the module docstring
    for the full rules.

    Without ``skip_bad_rows`` any problem raises ImportValidationError (``.problems``: the first
    MAX_PROBLEMS problems, in file and row order) and the database is unchanged apart from a
    'failed' entry in import_runs. With it, bad rows go to rejected_rows and the rest loads;
    file-level problems (FATAL_CODES) still fail the import.

    ``sheet`` names the sheet to read from .xlsx files: one name for every workbook, or
    ``{table: name}``; it overrides ``sheet`` under ``[options]`` in the mapping. Without either
    the first sheet is read, and a workbook with more sheets adds a warning naming them.
    Suspicious values that still load (WARNING_CODES) are in ``.warnings`` and the message.
    """
    started = _utcnow()
    before_counts, version_before = store.table_counts(con), store.data_version(con)
    given = {t: f for t, f in (("leads", leads), ("lead_events", lead_events),
                               ("opportunities", opportunities), ("opportunity_events", opportunity_events))
             if f is not None}
    if not given:
        raise ImportValidationError(msg("No file was given to import."),
                                    hint=msg("Choose at least one of {tables}.", tables=Joined(TABLE_ORDER, ", ")))
    bad_mapping: list[Message]
    try:
        m = load_mapping(mapping)
        bad_mapping = mapping_problems(m)
    except Exception as e:  # unreadable TOML, missing mapping file
        error = msg("Mapping file {path} was not found.", path=str(mapping)) if isinstance(e, FileNotFoundError) else str(e)
        m, bad_mapping = load_mapping(None), [msg("The mapping could not be read: {error}", error=error)]
    run = _Run(con, m, skip_bad_rows)
    for col, fmts in (m.get("timestamp_formats") or {}).items():
        for f in fmts if isinstance(fmts, list) else []:
            try:
                con.execute("SELECT try_strptime('2020-01-01', ?)", [f]).fetchall()
            except duckdb.Error as e:
                bad_mapping.append(msg("[timestamp_formats] {column}: {format} is not a valid format ({error}).",
                                       column=col, format=repr(f), error=_duck_error(e)))
    tmp = tempfile.TemporaryDirectory(prefix="funnel-import-")
    try:
        fatal = [Problem(MAPPING_FILE, "", None, None, None, s, "invalid_mapping") for s in bad_mapping]
        for table in TABLE_ORDER:
            if table in given:
                try:
                    src = _as_source(given[table])
                except TypeError:
                    fatal.append(Problem(str(given[table])[:60], table, None, None, None, NOT_A_FILE,
                                         "unreadable_file"))
                    continue
                t0 = time.perf_counter()
                st, probs = _stage(con, src, table, run.temp(f"raw_{table}"), Path(tmp.name),
                                   _sheet_for(table, sheet, m))
                log.info("import: read %s (%s) in %.2fs", src.name, table, time.perf_counter() - t0)
                fatal += probs
                if st is not None:
                    run.staged[table] = st
        if not fatal:
            for table, st in run.staged.items():
                fatal += run.resolve_columns(st)
        if not fatal:
            for table, st in run.staged.items():
                t0 = time.perf_counter()
                run.build_typed(st)
                log.info("import: parsed %s (%d rows) in %.2fs", st.file, run.read[table], time.perf_counter() - t0)
                if run.read[table] == 0:
                    fatal.append(Problem(st.file, table, None, None, None,
                                         msg("the file has a header but no data rows. A {table} file needs at least "
                                             "one data row.", table=TableName(table)),
                                         "empty_file"))
        if fatal:
            refusal, hint = _failure_message(fatal, len(fatal))
            rows = {t: {"read": run.read.get(t, 0), "loaded": 0, "rejected": 0} for t in given}
            _log_failed(con, started, source, rows, f"{refusal.render('en')} {hint.render('en')}")
            raise ImportValidationError(refusal, problems=fatal, hint=hint)

        t0 = time.perf_counter()
        run.check_rows()
        total = run.problem_count()
        log.info("import: checked rows (%d problems) in %.2fs", total, time.perf_counter() - t0)
        if total and (not skip_bad_rows or run.fatal_count()):
            problems = run.fetch_problems()
            refusal, hint = _failure_message(problems, total, skipping=skip_bad_rows)
            _log_failed(con, started, source, run.row_counts(committed=False),
                        f"{refusal.render('en')} {hint.render('en')}")
            raise ImportValidationError(refusal, problems=problems, hint=hint)

        problems = run.fetch_problems() if total else []
        rows = run.row_counts(committed=True)
        t0 = time.perf_counter()
        run.check_warnings()
        log.info("import: looked for dates far from the rest in %.2fs", time.perf_counter() - t0)
        try:
            with store.transaction(con):
                run_id = con.execute("SELECT nextval('import_run_seq')").fetchall()[0][0]
                t0 = time.perf_counter()
                run.write(run_id, has_problems=bool(total))
                log.info("import: wrote tables in %.2fs", time.perf_counter() - t0)
                currency_note = run.set_currency()
                t0 = time.perf_counter()
                store.refresh_derived(con)
                log.info("import: refreshed derived tables in %.2fs", time.perf_counter() - t0)
                t0 = time.perf_counter()
                run.check_creation_warnings()
                warnings, n_warn = run.fetch_warnings()
                log.info("import: %d warnings in %.2fs", n_warn, time.perf_counter() - t0)
                store.bump_data_version(con)
                said = _committed_message(rows, run_id, total, currency_note, warnings, n_warn)
                run.check_written(rows)
                store.log_import_run(con, run_id, started, _utcnow(), source, "committed", rows, said)
                audit.record(con, access.resolve(), "import",   # the actor import_files bound
                             {"run_id": run_id, "source": source, "skip_bad_rows": skip_bad_rows,
                              "files": {t: st.file for t, st in run.staged.items()},
                              "rows": rows}, before_counts, store.table_counts(con), summary=said,
                             data_version_before=version_before)
        except ImportValidationError:
            raise
        except Exception as e:
            _log_failed(con, started, source, run.row_counts(committed=False),
                        i18n.msg("The import failed while writing and was rolled back: {error}", error=str(e)))
            raise
        return ImportResult(run_id=run_id, rows=rows, problems=problems, message=said.render("en"),
                            problem_count=total, warnings=warnings, warning_count=n_warn, message_obj=said)
    finally:
        run.drop_temps()
        tmp.cleanup()
