"""Storage behind one interface: the local engine (SQLite + FAISS) and Milvus."""
