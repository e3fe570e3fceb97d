"""The UI string table, one file per area; `i18n` merges them into one table."""
