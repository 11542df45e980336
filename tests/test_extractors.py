"""What a person finds in the extracted text of each kind of file, and where it says it came from."""

import datetime
import itertools
import zipfile
from pathlib import Path

import openpyxl
import pytest

from datasources.extractors import extract_file
from datasources.extractors.pdf import extract_pdf
from datasources.extractors.tables import render_headed_cells
from datasources.filetypes import FileKind, RejectedFile
from tests.pdf_documents import (
    Page,
    quarterly_report,
    results_with_a_heading_over_three_columns,
    sales_by_product,
    write_pdf,
)

pytestmark = pytest.mark.backend_free

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PDFS = SHARED / "corpus" / "pdf"
WORKBOOKS = SHARED / "corpus" / "xlsx"
MIXED_DOCS = SHARED / "bench" / "mixed-docs" / "docs"
FILINGS = SHARED / "bench" / "sec-10-q" / "docs"


def texts(extraction) -> list[str]:
    return [section.text for section in extraction.sections]


def sales_workbook(tmp_path: Path, rows: int = 2) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Sales"
    sheet.append(["Quarterly sales"])
    sheet.append(["Region", "Revenue", "Closed"])
    for number in range(rows):
        sheet.append(["West" if number == 0 else f"Region {number}", 1204 + number, datetime.date(2024, 3, 31)])
        sheet.cell(row=sheet.max_row, column=2).number_format = "#,##0"
    path = tmp_path / "sales.xlsx"
    workbook.save(path)
    return path


def test_a_spreadsheet_row_names_each_value_by_its_column(tmp_path):
    extraction = extract_file(sales_workbook(tmp_path), FileKind.XLSX, file_name="sales.xlsx")
    west = extraction.sections[0]
    assert west.text == "Region: West; Revenue: 1,204; Closed: 2024-03-31"
    assert (west.sheet, west.row_number) == ("Sales", 3)
    assert west.caption == "Quarterly sales"  # the title line above the header
    assert extraction.row_count == 4


def test_a_workbook_gives_formula_results_and_dates_and_skips_chart_sheets():
    formulae = texts(extract_file(WORKBOOKS / "formulae.xlsx", FileKind.XLSX))
    assert "24690; Simple Equation" in formulae  # =A2*2, read from the value Excel saved
    assert "2011-10-31" in texts(extract_file(WORKBOOKS / "date_1904.xlsx", FileKind.XLSX))
    sheets = {section.sheet for section in extract_file(WORKBOOKS / "contains_chartsheets.xlsx", "xlsx").sections}
    assert sheets == {"data", "moredata"}


def test_a_workbook_over_the_row_limit_is_refused_naming_the_limit(tmp_path):
    with pytest.raises(RejectedFile) as caught:
        extract_file(sales_workbook(tmp_path, rows=30), FileKind.XLSX, max_rows=10)
    assert caught.value.reason == "The file has more than 10 rows with data, over the 10-row limit."


def test_a_csv_in_windows_encoding_with_semicolons(tmp_path):
    path = tmp_path / "kunden.csv"
    path.write_bytes("Name;Stadt;Umsatz\nJosé;Zürich;1.204\nRenée;Genève;980\n".encode("cp1252"))
    extraction = extract_file(path, FileKind.CSV, file_name="kunden.csv")
    assert texts(extraction) == ["Name: José; Stadt: Zürich; Umsatz: 1.204", "Name: Renée; Stadt: Genève; Umsatz: 980"]
    assert [(section.sheet, section.row_number) for section in extraction.sections] == [("kunden", 2), ("kunden", 3)]


def test_a_csv_with_a_byte_order_mark_keeps_its_first_header_clean(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes("\ufeffRegion,Revenue\nWest,1204\n".encode())
    assert texts(extract_file(path, FileKind.CSV)) == ["Region: West; Revenue: 1204"]


def test_pdf_text_comes_with_page_numbers():
    extraction = extract_pdf(PDFS / "federal-register-2020-17221.pdf", "federal-register-2020-17221.pdf")
    assert extraction.page_count == 15
    # Page 8 is a figure: its only text is the header and footer every page repeats.
    assert {section.page_number for section in extraction.sections} == set(range(1, 16)) - {8}
    first_page = " ".join(section.text for section in extraction.sections if section.page_number == 1)
    assert "Airworthiness Directives" in first_page


def test_each_pdf_page_read_is_told_with_the_page_count():
    heard = []
    extract_file(PDFS / "federal-register-2020-17221.pdf", FileKind.PDF,
                 on_page=lambda done, total, scanned: heard.append((done, total)))
    assert heard == [(page, 15) for page in range(1, 16)]


def test_a_header_and_footer_repeated_on_every_page_are_left_out():
    text = "\n".join(texts(extract_pdf(PDFS / "federal-register-2020-17221.pdf", "fr.pdf")))
    assert "Federal Register / Vol. 85, No. 152" not in text  # atop every page, with its page number
    assert "jbell on DSKJLSW7X2PROD with PROPOSALS" not in text  # at the foot of every page
    assert "Airworthiness Directives" in text and "Lion Air Flight 610" in text
    filing = texts(extract_pdf(SHARED / "bench" / "sec-10-q" / "docs" / "2022 Q3 AAPL.pdf", "2022 Q3 AAPL.pdf"))
    assert not any("Q3 2022 Form 10-Q |" in text for text in filing)  # "Apple Inc. | Q3 2022 Form 10-Q | 8"


def test_a_pdf_table_row_stands_alone_under_its_header():
    rows = texts(extract_pdf(PDFS / "issue-336-example.pdf", "issue-336-example.pdf"))
    assert "公路技术 等级: 高速公路; 车道数: 六; 用地指标基准值: 2.1333; 编制条件 路段交通量 Q（peu/d）: " \
           "45000≤Q＜60000; 编制条件 大型车比例 u（%）: 20＜μ≤30" in rows


def test_a_rotated_page_reads_like_the_upright_one():
    upright = texts(extract_pdf(PDFS / "nics-background-checks-2015-11.pdf", "nics.pdf"))
    rotated = texts(extract_pdf(PDFS / "nics-background-checks-2015-11-rotated.pdf", "nics.pdf"))
    states = [text for text in rotated if text.startswith("State / Territory: ") and "Totals: " in text]
    assert len(states) > 50  # the states and territories, each a row of its own
    assert states == [text for text in upright if text.startswith("State / Territory: ") and "Totals: " in text]
    assert states[0].startswith("State / Territory: Alabama; Permit Handgun Long Gun *Other **Multiple Admin: "
                                "18,870 23,022 22,650 859 1,178 0; ")


def test_table_text_is_not_repeated_in_the_page_text():
    extraction = extract_pdf(PDFS / "WARN-Report-for-7-1-2015-to-03-25-2016.pdf", "warn.pdf")
    mentions = [section for section in extraction.sections if "Maxim Integrated Product" in section.text]
    assert mentions and all(section.table is not None for section in mentions)
    assert mentions[0].text.startswith("Notice Date: 06/22/2015; Effective: 03/25/2016;")


def test_a_financial_statement_row_carries_its_full_column_headings_and_its_table_its_unit():
    extraction = extract_pdf(SHARED / "bench" / "sec-10-q" / "docs" / "2022 Q3 AAPL.pdf", "2022 Q3 AAPL.pdf")
    row = next(section for section in extraction.sections if section.text.startswith("Total net sales"))
    assert row.text == ("Total net sales; Three Months Ended June 25, 2022: 82,959; Three Months Ended June 26, 2021: "
                        "81,434; Nine Months Ended June 25, 2022: 304,182; Nine Months Ended June 26, 2021: 282,457")
    assert row.page_number == 4
    assert row.heading == "CONDENSED CONSOLIDATED STATEMENTS OF OPERATIONS (Unaudited)"
    assert row.unit.startswith("In millions, except number of shares")


STATEMENT = [("1 February", "Card payment - Petrol Station", "24.50", "39,975.50"),
             ("3 February", "Cash withdrawal", "30.00", "39,945.50"),
             ("11 February", "Direct deposit", "300.00", "40,245.50"),
             ("17 February", "Home insurance", "78.34", "40,167.16"),
             ("24 February", "Anytown's Jewelers", "150.00", "40,017.16"),
             ("28 February", "Monthly apartment rent", "987.33", "39,029.83")]


def column_by_column(path: Path) -> Path:
    """A statement page without rules whose text layer writes every date, then every description, then every amount,
    then every balance, as some statements and datasheets are written."""
    page = Page()
    for column, left in enumerate([50, 130]):  # dates and descriptions, from their left
        for row, cells in enumerate(STATEMENT):
            page.text(left, 700 - 14 * row, cells[column])
    for column, right in enumerate([400, 480], start=2):  # amounts and balances, up to their right
        for row, cells in enumerate(STATEMENT):
            page.right_aligned(right, 700 - 14 * row, cells[column])
    return write_pdf(path, [page])


def test_a_page_written_column_by_column_is_read_row_by_row(tmp_path):
    text = "\n".join(texts(extract_pdf(column_by_column(tmp_path / "statement.pdf"), "statement.pdf")))
    assert text.split("\n") == ["; ".join(cells) for cells in STATEMENT]


def test_a_real_statement_and_a_datasheet_keep_each_label_beside_its_figures():
    statement = "\n".join(texts(extract_pdf(MIXED_DOCS / "bank_statement.pdf", "bank_statement.pdf")))
    assert "28 February; Monthly Apartment Rent; 987.33; 44.079.83" in statement.split("\n")
    assert "24 February Anytown's Jewelers; 150.00; 45,042.16" in statement.split("\n")
    datasheet = "\n".join(texts(extract_pdf(MIXED_DOCS / "datasheet.pdf", "datasheet.pdf")))
    assert "1040; Weight; 20.0 kg" in datasheet.split("\n")
    assert "Short Circuit Current-ISC (A); 11.24; 11.30; 11.37; 11.45; 11.52; 11.58" in datasheet.split("\n")
    assert "Maximum System Voltage; 1500V DC (IEC)" in datasheet.split("\n")  # beside another table's row


def test_two_tables_side_by_side_on_a_page_written_column_by_column_give_rows_of_their_own():
    report = "\n".join(texts(extract_pdf(MIXED_DOCS / "brokerage_statement.pdf", "brokerage_statement.pdf")))
    lines = report.split("\n")
    assert "Taxes Withheld; -963.01; -4,520.22" in lines  # "Realized Gains and Losses from Sales" to its right
    assert "Realized Gains and Losses from Sales" in lines


def test_prose_with_highlighted_figures_reads_as_prose_not_as_a_table_that_cuts_its_words():
    """Boxes drawn behind a few of a paragraph's words make a grid for the table finder: its cells cut the sentences
    ("to; day reported net revenues of $1; 15.4 billion"). A press release and a filing, from different producers."""
    release = "\n".join(texts(extract_pdf(MIXED_DOCS / "income-statement-morgan-stanley.pdf", "release.pdf")))
    assert "\nNEW YORK, October 16, 2024 – Morgan Stanley (NYSE: MS) today reported net revenues of $15.4 billion " \
           "for the\nthird quarter ended September 30, 2024 compared with $13.3 billion a year ago." in release
    assert "to; day" not in release
    filing = "\n".join(texts(extract_pdf(FILINGS / "2022 Q3 MSFT.pdf", "2022 Q3 MSFT.pdf")))
    assert "we completed our acquisition of ZeniMax Media Inc. for $8.1 billion, and in March 2022 we completed our " \
           "acquisition of Nuance\nCommunications, Inc. for $18.8 billion." in filing


def test_two_columns_of_prose_are_read_one_column_after_the_other(tmp_path):
    left = ["The first column tells how the account works,", "which fees apply to it and when they are",
            "charged, and how a customer closes it.", "Statements are sent every month by post",
            "or made available online to the holder.", "Interest is paid on the last business day."]
    right = ["The second column tells how to complain:", "write to the bank within sixty days of the",
             "statement, saying what is wrong and why,", "and the bank answers within thirty days.",
             "A complaint it does not settle may go to", "the ombudsman, who decides it for free."]
    page = Page()
    for x, column in ((50, left), (320, right)):
        for row, line in enumerate(column):
            page.text(x, 700 - 12 * row, line)
    text = "\n".join(texts(extract_pdf(write_pdf(tmp_path / "terms.pdf", [page]), "terms.pdf")))
    assert " ".join(text.split()) == " ".join(left + right)


def test_letters_a_font_names_by_their_parts_are_read(tmp_path):
    """A font's encoding may name a ligature by its letters ("f_i", "f_f_i"); PDFium gives such a glyph's code, a
    control character, and the word lost its letters ("E ciency"), in the text and in a table's cells."""
    page = Page().text(50, 700, "The module e\x1fciency was certi\x1eed \x1erst in 2019.")
    for row, (label, figure) in enumerate([("E\x1fciency", "21.0%"), ("Fill factor", "0.79")]):
        page.ruled_row(680 - 14 * row, [(50, 200), (200, 280)], label, {275: figure})
    ligatures = b"<< /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [30 /f_i 31 /f_f_i] >>"
    text = "\n".join(texts(extract_pdf(write_pdf(tmp_path / "panel.pdf", [page], ligatures), "panel.pdf")))
    assert "The module efficiency was certified first in 2019." in text
    assert "Efficiency; 21.0%" in text.split("\n")


def test_a_real_datasheet_keeps_the_letters_of_its_ligatures():
    """Its two weights of one typeface name different ligatures by the same code: "fi" in one, "ffi" in the other."""
    datasheet = " ".join(texts(extract_pdf(MIXED_DOCS / "datasheet.pdf", "datasheet.pdf")))
    words = set(datasheet.split())
    assert {"Efficiency", "Certified", "certification", "first"} <= {word.strip(".,;:()") for word in words}
    assert not {"Eciency", "Certied", "certication", "rst"} & words


def test_no_doubled_glyphs():
    text = "\n".join(texts(extract_pdf(PDFS / "issue-71-duplicate-chars.pdf", "cv.pdf")))
    assert "项目描述" in text
    assert "项项目目" not in text


def test_a_transcript_loses_its_line_numbers():
    text = "\n".join(texts(extract_pdf(PDFS / "scotus-transcript-p1.pdf", "transcript.pdf")))
    assert "MICHAEL A. KNOWLES" in text
    lines = text.split("\n")
    assert not any(line.isdigit() and following.isdigit() for line, following in itertools.pairwise(lines))


def test_a_pdf_over_the_page_limit_is_refused_naming_the_limit():
    with pytest.raises(RejectedFile) as caught:
        extract_pdf(PDFS / "federal-register-2020-17221.pdf", "fr.pdf", max_pages=10)
    assert caught.value.reason == "The PDF has 15 pages, over the 10-page limit."


def test_a_pdf_title_comes_from_its_metadata_only_when_it_reads_like_a_title():
    assert extract_pdf(PDFS / "cupertino_usd_4-6-16.pdf", "agenda.pdf").title == "SPECIAL BOARD AGENDA 040616"
    assert extract_pdf(PDFS / "scotus-transcript-p1.pdf", "knowles_v_mirzayance.pdf").title == "knowles v mirzayance"


def test_a_pdf_without_a_title_in_its_metadata_is_named_by_its_cover_and_its_file():
    filing = SHARED / "bench" / "sec-10-q" / "docs" / "2022 Q3 AAPL.pdf"  # metadata: an archive number
    assert extract_pdf(filing, "2022 Q3 AAPL.pdf").title == "Apple Inc. (2022 Q3 AAPL)"


def word_document(tmp_path: Path) -> Path:
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    body = (
        f'<w:document {w}><w:body>'
        '<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>Pricing</w:t></w:r></w:p>'
        '<w:p><w:r><w:t>Prices hold until June.</w:t></w:r></w:p>'
        '<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Region</w:t></w:r></w:p></w:tc>'
        '<w:tc><w:p><w:r><w:t>Revenue</w:t></w:r></w:p></w:tc></w:tr>'
        '<w:tr><w:tc><w:p><w:r><w:t>West</w:t></w:r></w:p></w:tc>'
        '<w:tc><w:p><w:r><w:t>1,204</w:t></w:r></w:p></w:tc></w:tr></w:tbl>'
        '</w:body></w:document>'
    )
    core = ('<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Price list 2024</dc:title></cp:coreProperties>')
    path = tmp_path / "prices.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", body)
        archive.writestr("docProps/core.xml", core)
    return path


def test_a_word_document_gives_headings_paragraphs_and_table_rows(tmp_path):
    extraction = extract_file(word_document(tmp_path), FileKind.DOCX)
    assert extraction.title == "Price list 2024"
    assert [(section.heading, section.text) for section in extraction.sections] == [
        ("Pricing", "Prices hold until June."),
        ("Pricing", "Region: West; Revenue: 1,204"),
    ]


def test_html_keeps_visible_text_under_its_headings(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("<html><head><title>Support</title><style>p {color: red}</style></head><body>"
                    "<script>track()</script><h2>Returns</h2><p>Within 30 days.</p>"
                    "<table><tr><th>Plan</th><th>Price</th></tr><tr><td>Pro</td><td>$20</td></tr></table>"
                    "</body></html>")
    extraction = extract_file(path, FileKind.HTML)
    assert extraction.title == "Support"
    assert [(section.heading, section.text) for section in extraction.sections] == [
        ("Returns", "Within 30 days."),
        ("Returns", "Plan: Pro; Price: $20"),
    ]


def test_markdown_headings_and_tables(tmp_path):
    path = tmp_path / "guide.md"
    path.write_text("# Guide\n\nIntro.\n\n## Limits\n\n| Plan | Files |\n|---|---|\n| Free | 50 |\n\nMore text.\n")
    extraction = extract_file(path, FileKind.MD)
    assert extraction.title == "Guide"
    assert [(section.heading, section.text) for section in extraction.sections] == [
        ("Guide", "Intro."), ("Limits", "Plan: Free; Files: 50"), ("Limits", "More text.")]


def test_plain_text_headings_in_capitals(tmp_path):
    path = tmp_path / "policy.txt"
    path.write_text("REFUND POLICY\nRefunds are paid within 30 days.\nAsk support for help.\n\n"
                    "SHIPPING\nWe ship worldwide.\n")
    sections = extract_file(path, FileKind.TXT).sections
    assert [(section.heading, section.text) for section in sections] == [
        ("REFUND POLICY", "Refunds are paid within 30 days.\nAsk support for help."),
        ("SHIPPING", "We ship worldwide."),
    ]


def test_a_pdf_table_row_carries_its_two_row_headings_and_its_table_the_unit_stated_above_it(tmp_path):
    extraction = extract_pdf(quarterly_report(tmp_path / "report.pdf"), "report.pdf")
    rows = [section for section in extraction.sections if section.table is not None]
    assert [row.text for row in rows] == [
        "Data Center; Three Months Ended July 1, 2023: 14,514; Three Months Ended June 25, 2022: 3,833",
        "Gaming; Three Months Ended July 1, 2023: 2,856; Three Months Ended June 25, 2022: 1,574",
        "Gross margin; Three Months Ended July 1, 2023: 74.0%; Three Months Ended June 25, 2022: 70.1%",
    ]
    assert {row.unit for row in rows} == {"In millions"}
    prose = "\n".join(section.text for section in extraction.sections if section.table is None)
    assert "Three Months Ended" not in prose  # the headings are the table's, not a line of text


def test_a_heading_underlined_across_several_columns_heads_each_of_them(tmp_path):
    extraction = extract_pdf(results_with_a_heading_over_three_columns(tmp_path / "summary.pdf"), "summary.pdf")
    rows = [section.text for section in extraction.sections if section.table is not None]
    assert rows == [
        "Revenue; Three Months Ended July 1, 2023: 13,507; Three Months Ended April 1, 2023: 7,192; "
        "Three Months Ended July 2, 2022: 6,704; Change: 88%",
        "Operating income; Three Months Ended July 1, 2023: 6,800; Three Months Ended April 1, 2023: 2,140; "
        "Three Months Ended July 2, 2022: 499; Change: 218%",
    ]


def test_a_percent_sign_read_again_as_a_cell_of_its_own_after_a_percentage_is_dropped():
    # Amazon's segment table: the cell "10 %" read whole, and its sign read once more as a cell of its own.
    row = render_headed_cells([("", "North America"), ("Three Months Ended September 30, 2021", "10 %"),
                               ("Three Months Ended September 30,", "%"),
                               ("Three Months Ended September 30, 2022", "20"), ("", "%")])
    assert row == ("North America; Three Months Ended September 30, 2021: 10 %; "
                   "Three Months Ended September 30, 2022: 20%")


def test_a_currency_sign_set_close_after_a_figure_opens_the_next_columns_figure(tmp_path):
    extraction = extract_pdf(sales_by_product(tmp_path / "sales.pdf"), "sales.pdf")
    rows = [section.text for section in extraction.sections if section.table is not None]
    assert rows[0] == "Phones; Three Months Ended July 1, 2023: $ 40,665; Three Months Ended June 25, 2022: $ 39,570"
    assert rows[1] == "Tablets; Three Months Ended July 1, 2023: 7,224; Three Months Ended June 25, 2022: 7,368"


def test_table_of_contents_lines_running_headers_and_page_numbers_are_left_out(tmp_path):
    extraction = extract_pdf(quarterly_report(tmp_path / "report.pdf"), "report.pdf")
    text = "\n".join(texts(extraction))
    assert ".........." not in text and "3.2 Installation" not in text
    assert "Acme Corp | Quarterly Report" not in text and "Page 2" not in text
    assert "Installation takes about an hour" in text
    assert "This report covers the quarter ended July 1, 2023" in text


def test_a_table_of_contents_drawn_as_a_table_is_left_out():
    filing = texts(extract_pdf(SHARED / "bench" / "sec-10-q" / "docs" / "2022 Q3 AAPL.pdf", "2022 Q3 AAPL.pdf"))
    assert not any(text.startswith("Item 1A.;") for text in filing)


def test_lines_of_titles_each_followed_by_a_page_number_are_a_table_of_contents(tmp_path):
    path = tmp_path / "manual.txt"
    path.write_text("User manual\n\nSafety 3\nInstallation 12\nWarranty 40\n\n"
                    "Installation takes about an hour.\nThe warranty lasts 2\nyears.\n")
    text = "\n".join(texts(extract_file(path, FileKind.TXT)))
    assert "Installation 12" not in text and "Warranty 40" not in text
    assert "The warranty lasts 2\nyears." in text  # one line ending in a figure is prose


def test_a_spreadsheet_heading_over_two_columns_heads_each_and_the_title_states_the_unit(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Results"
    sheet.append(["Results by segment (in millions)"])
    sheet.append(["", "Three Months Ended", "", "Nine Months Ended"])
    sheet.append(["Segment", "July 1, 2023", "June 25, 2022", "July 1, 2023"])
    sheet.append(["Data Center", 14514, 3833, 29121])
    path = tmp_path / "results.xlsx"
    workbook.save(path)
    row = extract_file(path, FileKind.XLSX).sections[0]
    assert row.text == ("Segment: Data Center; Three Months Ended July 1, 2023: 14514; "
                        "Three Months Ended June 25, 2022: 3833; Nine Months Ended July 1, 2023: 29121")
    assert row.unit == "in millions"


def test_a_table_of_contents_with_wrapped_titles_and_part_headings_is_left_out_but_rows_of_figures_stay(tmp_path):
    path = tmp_path / "filing.txt"
    path.write_text("INDEX\nPage\nPART I. FINANCIAL INFORMATION\nItem 1. Financial Statements\n"
                    "a) Income Statements for the Three Months Ended September 30, 2023 and\n2022 3\n"
                    "b) Balance Sheets as of September 30, 2023 5\nPART II. OTHER INFORMATION\n"
                    "Item 1A. Risk Factors 44\nItem 6. Exhibits 60\n\n"
                    "Results\nGaming 73 73\nData Center 14 515\nAutomotive 261 251\n")
    text = "\n".join(texts(extract_file(path, FileKind.TXT)))
    assert "Risk Factors 44" not in text and "Balance Sheets as of" not in text and "2022 3" not in text
    assert "Gaming 73 73\nData Center 14 515\nAutomotive 261 251" in text
