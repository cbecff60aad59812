"""Uploaded documents checked as a whole, not by their first bytes (issue 12, hostile files).

A 30 MB random body behind a `%PDF-` header used to pass as a PDF. Each kind is now checked for
what a reader needs to open it, cheaply and without new dependencies:

- PDF: the header, and at the end the `startxref` offset and `%%EOF` marker every PDF writer puts
  there, the offset pointing at a cross-reference table (`xref`) or stream (`N 0 obj`) inside the
  file. Random data behind a header has none of them.
- JPEG / PNG: Pillow verifies the structure (PNG chunk CRCs) and then decodes every pixel (a
  truncated or corrupt image fails); Pillow's own decompression-bomb limit applies.
- DOCX / XLSX: the zip's declared sizes (total and ratio per part, as for imported sheets), every
  part's CRC, and the main part (`word/document.xml`, `xl/workbook.xml`) present and well-formed XML.

`document_problem(data, kind)` answers None for a sound file, else the Chinese reason.
"""

from __future__ import annotations

import io
import re
import zipfile

from django.conf import settings

_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_XREF_AT = re.compile(rb"\s*(xref|\d+\s+\d+\s+obj)")

MAIN_PART = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}


def _pdf_problem(data: bytes) -> str | None:
    if not re.match(rb"%PDF-[12]\.\d", data[:16]):
        return "不是有效的 PDF 文件（文件头不正确）。"
    tail = data[-2048:]
    found = _STARTXREF.search(tail)
    if found is None:
        return "不是完整的 PDF 文件：缺少文件结尾（startxref/%%EOF），可能已损坏或只是改了扩展名。"
    offset = int(found.group(1))
    if offset >= len(data) or not _XREF_AT.match(data, offset):
        return "不是完整的 PDF 文件：交叉引用表位置不正确，可能已损坏。"
    return None


def _image_problem(data: bytes) -> str | None:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except Image.DecompressionBombError:
        return "图片像素过多，已拒绝读取。"
    except Exception:
        return "图片文件已损坏或不完整，无法打开。"
    return None


def _office_problem(data: bytes, kind: str) -> str | None:
    from xml.etree import ElementTree

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return "文件已损坏，无法打开。"
    limit = settings.IMPORT_MAX_UNCOMPRESSED_BYTES
    ratio = settings.IMPORT_MAX_RATIO
    if sum(part.file_size for part in parts) > limit:
        return "文件解压后过大，已拒绝读取。"
    if any(p.file_size > 1024 * 1024 and p.file_size > ratio * max(p.compress_size, 1) for p in parts):
        return "文件内容异常（压缩比过高，疑似压缩炸弹），已拒绝读取。"
    try:
        if archive.testzip() is not None:
            return "文件已损坏（部分内容校验失败），无法打开。"
        main = archive.read(MAIN_PART[kind])
        ElementTree.fromstring(main)
    except KeyError:
        return "文件缺少主体内容，不是有效的 Word/Excel 文件。"
    except (zipfile.BadZipFile, OSError, ValueError, ElementTree.ParseError):
        return "文件已损坏，无法打开。"
    return None


def document_problem(data: bytes, kind: str) -> str | None:
    """Why the file cannot be opened as `kind` (pdf, jpg, png, docx, xlsx), or None."""
    if kind == "pdf":
        return _pdf_problem(data)
    if kind in ("jpg", "png"):
        return _image_problem(data)
    if kind in MAIN_PART:
        return _office_problem(data, kind)
    return None


def minimal_pdf(text: str = "") -> bytes:
    """A small, complete one-page PDF (cross-reference table and all): demo data and tests."""
    body = f"BT /F1 12 Tf 72 720 Td ({text.encode('ascii', 'replace').decode()}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>",
        b"<< /Length " + str(len(body)).encode() + b" >>\nstream\n" + body + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def tiny_png() -> bytes:
    """A sound 2×2 PNG: demo data and tests."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()
