"""CSV files to download, written one way: the csv module's quoting, UTF-8, an attachment."""

import csv
import io

from flask import make_response

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text):
    """Free text as a spreadsheet shows it and never runs it: a cell starting with = + - @ (or a
    tab or carriage return) would be a formula, so it gets a leading quote mark."""
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_download(filename, header, rows):
    """A header and rows as a CSV file; free text in the rows goes through spreadsheet_text first."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return csv_file(filename, out.getvalue())


def csv_file(filename, text):
    """CSV text, already written, as a file to download."""
    response = make_response(text)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
