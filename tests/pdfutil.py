"""Write small real PDFs with a text layer, for tests (no PDF library can write text here)."""

from __future__ import annotations

from pathlib import Path


def write_minimal_pdf(path: Path, pages: list[str], *, info: dict[str, str] | None = None) -> Path:
    """Write a PDF with one page per string (lines split on "\\n"), Helvetica, WinAnsi text.

    An empty string makes a page with no text (like a scanned page). `info` fills the PDF
    document information, e.g. {"Title": "...", "Author": "...", "CreationDate": "D:20260102"}.
    Characters outside Windows-1252 become "?".
    """
    objects: list[bytes] = []  # object n is objects[n - 1]
    page_ids = [4 + 2 * i for i in range(len(pages))]
    kids = " ".join(f"{n} 0 R" for n in page_ids)
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    for n, text in zip(page_ids, pages, strict=True):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {n + 1} 0 R >>".encode()
        )
        stream = _content_stream(text)
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    trailer_extra = b""
    if info:
        entries = " ".join(f"/{k} {_pdf_string(v).decode('latin-1')}" for k, v in info.items())
        objects.append(f"<< {entries} >>".encode("latin-1"))
        trailer_extra = b" /Info %d 0 R" % len(objects)

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R" % (len(objects) + 1) + trailer_extra + b" >>\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    path = Path(path)
    path.write_bytes(bytes(out))
    return path


def _content_stream(text: str) -> bytes:
    if not text:
        return b""
    ops = [b"BT /F1 12 Tf 14 TL 72 720 Td"]
    for i, line in enumerate(text.split("\n")):
        ops.append((b"T* " if i else b"") + _pdf_string(line) + b" Tj")
    ops.append(b"ET")
    return b"\n".join(ops)


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"
