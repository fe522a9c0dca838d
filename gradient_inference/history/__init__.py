"""The local history of calls: one SQLite file (store), what commands record (record), what gradient-logs reads (query)."""
