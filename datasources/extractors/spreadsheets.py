"""Spreadsheets: XLSX (openpyxl, values as the program shows them) and CSV, one table per sheet."""

import csv
import datetime
import io
import re
import warnings
from pathlib import Path

from datasources.chunk_format import CURRENCY
from datasources.extractors.model import (
    DEFAULT_MAX_ROWS,
    Extraction,
    Sections,
    exception_words,
    title_from_name,
)
from datasources.extractors.tables import is_figure, render_row, stated_scale
from datasources.filetypes import RejectedFile, decode_text, sniff_csv_dialect

# Rows before the first row of two or more cells are a title, not the header.
HEADER_SEARCH_ROWS = 10
# A heading may stand over others ("Three Months Ended" over two dates), a few rows deep at most.
MAX_HEADER_ROWS = 3


class _RowBudget:
    """Counts rows with data across a file's sheets and refuses the one past the limit."""

    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0

    def take(self) -> None:
        if self.used >= self.limit:
            raise RejectedFile(f"The file has more than {self.limit:,} rows with data, over the "
                               f"{self.limit:,}-row limit.")
        self.used += 1


def extract_xlsx(path: Path, file_name: str, *, max_rows: int = DEFAULT_MAX_ROWS) -> Extraction:
    import openpyxl

    try:
        # read_only streams rows; data_only gives each formula's cached result; macros are never
        # loaded (keep_vba is off), so nothing in the file runs.
        with warnings.catch_warnings():  # openpyxl warns of parts it drops, which text never needs
            warnings.simplefilter("ignore", UserWarning)
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise RejectedFile(f"The workbook is damaged and could not be read ({exception_words(exc)}).") from None
    try:
        sections = Sections()
        budget = _RowBudget(max_rows)
        for worksheet in workbook.worksheets:  # chart sheets are not worksheets
            worksheet.reset_dimensions()  # trust the rows present, not the size the file declares
            rows = ((number, [_cell_text(cell) for cell in row])
                    for number, row in enumerate(worksheet.iter_rows(), start=1))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                _sheet_sections(rows, worksheet.title, sections, budget)
        title = (workbook.properties.title or "").strip()
        if title.lower() in ("", "untitled"):  # openpyxl's default, not the author's
            title = title_from_name(file_name)
        return Extraction(title=title, sections=sections.items, row_count=budget.used)
    except RejectedFile:
        raise
    except Exception as exc:
        raise RejectedFile(f"The workbook is damaged and could not be read ({exception_words(exc)}).") from None
    finally:
        workbook.close()


def extract_csv(path: Path, file_name: str, *, max_rows: int = DEFAULT_MAX_ROWS) -> Extraction:
    text = decode_text(path.read_bytes())
    if text is None:
        raise RejectedFile("The CSV file is not text in an encoding Docent knows (UTF-8, UTF-16, Windows-1252).")
    dialect = sniff_csv_dialect(text) or csv.excel
    sections = Sections()
    budget = _RowBudget(max_rows)
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        # A spreadsheet program opens a CSV file as one sheet named after the file.
        _sheet_sections(enumerate(reader, start=1), Path(file_name).stem, sections, budget)
    except csv.Error as exc:
        raise RejectedFile(f"The CSV file could not be read: {exc}.") from None
    return Extraction(title=title_from_name(file_name), sections=sections.items, row_count=budget.used)


def _sheet_sections(rows, sheet: str, sections: Sections, budget: _RowBudget) -> None:
    """Add one sheet's rows, numbered, as a table under the sheet's name."""
    sections.heading = sheet
    title_lines: list[tuple[str, int]] = []
    header_rows: list[list[str]] = []
    data: list[tuple[list[str], int]] = []
    for row_number, cells in rows:
        cells = [cell.strip() for cell in cells]
        if not any(cells):
            continue
        budget.take()
        filled = sum(1 for cell in cells if cell)
        if not header_rows and not data and len(title_lines) < HEADER_SEARCH_ROWS and filled < 2:
            title_lines.append((" ".join(cell for cell in cells if cell), row_number))
        elif not data and _continues_header(header_rows, cells):
            header_rows.append(cells)
        else:
            data.append((cells, row_number))
    header = _merged_header(header_rows)
    titles = " ".join(text for text, _ in title_lines)
    unit = next(filter(None, map(stated_scale, [titles, *header])), "")
    rendered = [(render_row(header, cells), row_number) for cells, row_number in data]
    if not header_rows:  # no row names the columns: each row stands as it is
        sections.table(title_lines + rendered, unit=unit, sheet=sheet)
    else:
        sections.table(rendered, caption=titles, unit=unit, sheet=sheet)


def _continues_header(header_rows: list[list[str]], cells: list[str]) -> bool:
    """The row (without figures) names columns: the first such row, or one under a heading that
    spans columns (left blank to its right), up to MAX_HEADER_ROWS."""
    if any(is_figure(cell) for cell in cells) or len(header_rows) == MAX_HEADER_ROWS:
        return False
    return not header_rows or "" in header_rows[-1][1:]


def _merged_header(header_rows: list[list[str]]) -> list[str]:
    """One heading per column, its rows merged top to bottom; a heading above others labels the
    blank cells to its right, which it spans."""
    width = max((len(row) for row in header_rows), default=0)
    spanned = []
    for row in header_rows[:-1]:
        label, filled = "", []
        for cell in row + [""] * (width - len(row)):
            label = cell or label
            filled.append(label)
        spanned.append(filled)
    rows = [*spanned, *header_rows[-1:]]
    header = []
    for index in range(width):
        parts = [row[index] for row in rows if index < len(row) and row[index]]
        heading = " ".join(dict.fromkeys(parts))
        header.append(heading or f"Column {_column_letter(index)}")
    return header


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _cell_text(cell) -> str:
    """A cell's value as the spreadsheet shows it: dates as dates, figures with their format."""
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes" if value.second == 0 else "seconds")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return format_number(value, getattr(cell, "number_format", None) or "General")
    return str(value)


def format_number(value: int | float, number_format: str) -> str:
    """A figure as Excel's common number formats show it: '#,##0' → 1,204, '0.0%' → 15.0%."""
    section = number_format.split(";")[0]
    decimals = len(re.search(r"\.(0*)", section).group(1)) if "." in section else 0
    symbol = next((char for char in section if char in CURRENCY), "")
    if "%" in section:
        return f"{value * 100:.{decimals}f}%"
    if section.lower() == "general" or not re.search(r"[0#]", section):
        return str(int(value)) if float(value).is_integer() else f"{value:.10g}"
    grouped = f"{abs(value):,.{decimals}f}" if "," in section else f"{abs(value):.{decimals}f}"
    return ("-" if value < 0 else "") + symbol + grouped
