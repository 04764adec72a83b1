"""Reading and writing text: policy import, lint, redaction."""
