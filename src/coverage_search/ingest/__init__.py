"""Bring coverage into corpus/: URLs, files, feed entries and uploads in; documents out."""
