"""The quality board: a Dash app (pages, thin callbacks, pure component builders) behind a
Flask login, reading the published copy of the marts and the issue store."""
