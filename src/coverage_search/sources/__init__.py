"""Corpus files → Documents: scan the corpus folder, decode, read Markdown, HTML and PDF."""
