"""What listings print: a plain table aligned in columns for people, JSON (`--json`) for programs."""

from __future__ import annotations

import datetime
import json
import re

# A full name set through the API could carry escape sequences meant for the operator's terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def table(out, header: list[str], rows: list[list[str]]) -> None:
    rows = [[_CONTROL.sub("?", cell) for cell in row] for row in rows]
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip(), file=out)


def as_json(out, value) -> None:
    json.dump(value, out, indent=2, ensure_ascii=False)
    out.write("\n")


def moment(value: datetime.datetime | None) -> str | None:
    """As the API writes times: ISO 8601 in UTC with a Z."""
    if value is None:
        return None
    return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def short_moment(value: datetime.datetime | None, missing: str = "never") -> str:
    if value is None:
        return missing
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%MZ")
