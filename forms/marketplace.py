"""The marketplace import forms (admin): the CSV upload and the API token buttons."""

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from flask_wtf.file import FileRequired


class ImportUploadForm(FlaskForm):
    # No check of the name's extension: marketplaces export .csv and .txt (tab-separated) files.
    # What the file holds is checked by models.marketplace.read_csv.
    file = FileField(
        lazy_gettext("CSV file"),
        validators=[FileRequired(lazy_gettext("Choose the CSV file with the orders to import."))],
        render_kw={"accept": ".csv,.txt,.tsv,text/csv,text/plain,text/tab-separated-values"},
    )


class ApiTokenForm(FlaskForm):
    """Create, replace or revoke the API token: one button each, nothing to fill in."""
