"""The dispensing record: what was printed, for whom, by whom and when (above the pipeline).

`ledger` keeps the SQLite ledger (append-only, hash-chained); `location` says where it is;
`stage` publishes a fill and appends its row; `table` formats rows for `history` and `recall`."""
