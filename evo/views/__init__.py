"""What people read: the live dashboard and plain log, the end-of-run tables, the report
and its pictures, one-line summaries of genes, transfer tables."""
