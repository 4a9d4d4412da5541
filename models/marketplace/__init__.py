"""Orders from marketplaces (Amazon, eBay, Etsy…), imported by CSV upload or through the JSON API.

checking.py checks every value of an incoming order (with models/values.py), importing.py
saves each order all or nothing, once per channel and reference; csv_upload.py and
json_api.py read the two formats; results.py is what an import reports.

Called from outside: csv_upload.py (`import_csv`, `example_csv`), json_api.py (`import_json`),
api_token.py (`create_token`, `revoke_token`, `check_token`), results.py (`recent_imports`),
channels.py (`channel_label`, `first_channel`).
"""
