"""A statement as CSV and as PDF, made only from its canonical content (and, for an issued
statement, its hash and issue time), so an issued statement's documents never change.

CSV: a header row and one row per entry; amounts as decimal numbers in the currency; UTF-8.
A text cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR) starts with a
quote: descriptions are written by other people (whoever paid you).

PDF (fpdf2): the bank, the holder's name and address, the account number masked but its last
4 digits, the period, the summary, every entry with its running balance across as many pages
as it takes, page numbers, and the content hash in every page's footer. The creation date is
the issue time (the period's end while open), so the same statement gives the same bytes.
"""

import csv
import io
from datetime import UTC, datetime
from typing import Any

from fpdf import FPDF

from core.currencies import format_money, to_major
from ledger.serializers import BANK_NAME
from statements.periods import Period

CSV_HEADER = [
    "date",
    "transaction_id",
    "kind",
    "description",
    "counterparty",
    "counterparty_account",
    "amount",
    "currency",
    "balance_after",
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def filename(content: dict[str, Any], extension: str) -> str:
    return f"statement-{content['account_number']}-{content['period']}.{extension}"


def statement_csv(content: dict[str, Any]) -> bytes:
    currency = content["currency"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for entry in content["entries"]:
        counterparty = entry["counterparty"] or {}
        writer.writerow(
            [
                entry["created_at"],
                entry["transaction_id"],
                entry["kind"],
                _cell(entry["description"]),
                _cell(counterparty.get("name") or ""),
                counterparty.get("account_number") or "",
                str(to_major(entry["amount"], currency)),
                currency,
                str(to_major(entry["balance_after"], currency)),
            ]
        )
    return out.getvalue().encode("utf-8")


def masked_number(number: str) -> str:
    return "*" * (len(number) - 4) + number[-4:]


def _latin1(text: str) -> str:
    """fpdf2's core fonts are Latin-1: anything else prints as '?' instead of failing."""
    return text.encode("latin-1", "replace").decode("latin-1")


class _StatementPDF(FPDF):
    def __init__(self, footer_text: str):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_text = footer_text

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("helvetica", size=7)
        self.set_text_color(90, 90, 90)
        self.cell(0, 4, self.footer_text, new_x="LMARGIN", new_y="NEXT")
        self.cell(0, 4, f"Page {self.page_no()} of {{nb}}", align="R")


# (heading, width in mm, alignment)
_COLUMNS = [("Date", 22, "L"), ("Details", 98, "L"), ("Amount", 30, "R"), ("Balance", 30, "R")]


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """Cut `text` to fit one line of `width` mm."""
    if pdf.get_string_width(text) <= width - 2:
        return text
    text = text[:90]
    while text and pdf.get_string_width(text + "...") > width - 2:
        text = text[:-1]
    return text + "..."


def statement_pdf(
    content: dict[str, Any], *, sha256: str | None, issued_at: datetime | None
) -> bytes:
    period = Period.parse(content["period"])
    currency = content["currency"]
    if sha256:
        footer = f"{BANK_NAME} statement {content['period']}. SHA-256 of its content: {sha256}"
    else:
        footer = f"{BANK_NAME}: open statement, the month is not over; figures may still change."
    pdf = _StatementPDF(footer)
    pdf.set_creation_date((issued_at or period.end).astimezone(UTC))
    pdf.set_title(f"Statement {content['period']}")
    pdf.set_author(BANK_NAME)
    pdf.set_producer(BANK_NAME)
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()

    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 8, BANK_NAME, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=10)
    pdf.cell(0, 6, "Account statement", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    holder = content.get("holder") or {}
    for line in [holder.get("name") or "", *(holder.get("address") or "").splitlines()]:
        if line.strip():
            pdf.cell(0, 5, _latin1(line.strip()), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    status = "issued" if sha256 else "open"
    facts = [
        ("Account", masked_number(content["account_number"])),
        ("Period", f"{content['period_start']} to {content['period_end']} ({status})"),
        ("Currency", currency),
        ("Opening balance", format_money(content["opening_balance"], currency)),
        ("Money in", format_money(content["total_credits"], currency)),
        ("Money out", format_money(content["total_debits"], currency)),
        ("Closing balance", format_money(content["closing_balance"], currency)),
        ("Entries", str(content["entry_count"])),
    ]
    for label, value in facts:
        pdf.set_font("helvetica", "B", 10)
        pdf.cell(40, 5.5, label)
        pdf.set_font("helvetica", size=10)
        pdf.cell(0, 5.5, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    def heading() -> None:
        pdf.set_font("helvetica", "B", 9)
        pdf.set_fill_color(235, 238, 242)
        for title, width, align in _COLUMNS:
            pdf.cell(width, 6, title, align=align, fill=True)
        pdf.ln(6)
        pdf.set_font("helvetica", size=8.5)

    heading()
    if not content["entries"]:
        pdf.cell(0, 6, "No money moved on this account in this month.")
    for entry in content["entries"]:
        if pdf.will_page_break(5):
            pdf.add_page()
            heading()
        counterparty = entry["counterparty"] or {}
        details = entry["description"] or entry["kind"].replace("_", " ").capitalize()
        if counterparty.get("name"):
            details += (" from " if entry["amount"] > 0 else " to ") + counterparty["name"]
        values = [
            entry["created_at"][:10],
            _fit(pdf, _latin1(details), _COLUMNS[1][1]),
            format_money(entry["amount"], currency),
            format_money(entry["balance_after"], currency),
        ]
        for value, (_title, width, align) in zip(values, _COLUMNS, strict=True):
            pdf.cell(width, 5, value, align=align)
        pdf.ln(5)
    return bytes(pdf.output())
