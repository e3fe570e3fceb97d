"""The UI string table, one file per area; `ui.i18n` merges them into one table."""
