"""The local engine: documents, passages and FTS5 keywords in SQLite, vectors in FAISS."""
