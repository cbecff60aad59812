"""Uploaded documents are checked as a whole, not by their first bytes (issue 12, hostile files)."""

import io
import os
import zipfile

import pytest
from PIL import Image

from campaign.files import document_problem, minimal_pdf, tiny_png


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 60)).save(buffer, format="JPEG")
    return buffer.getvalue()


DOCX = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document xmlns:w='w'/>"})
XLSX = _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})


@pytest.mark.parametrize(
    ("data", "kind"), [(minimal_pdf("x"), "pdf"), (tiny_png(), "png"), (_jpeg(), "jpg"), (DOCX, "docx"), (XLSX, "xlsx")]
)
def test_sound_files_pass(data, kind):
    assert document_problem(data, kind) is None


@pytest.mark.parametrize(
    ("data", "kind", "reason"),
    [
        (b"%PDF-1.7\n" + os.urandom(3 * 1024 * 1024), "pdf", "缺少文件结尾"),
        (b"%PDF-1.4\n%%EOF\n", "pdf", "缺少文件结尾"),
        (minimal_pdf().replace(b"startxref\n", b"startxref\n9"), "pdf", "交叉引用表位置不正确"),
        (tiny_png()[:-20], "png", "已损坏或不完整"),
        (_jpeg()[:200], "jpg", "已损坏或不完整"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "png", "已损坏或不完整"),
        (_zip({"[Content_Types].xml": b"<Types/>", "word/other.xml": b"<x/>"}), "docx", "缺少主体内容"),
        (_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<not-closed"}), "docx", "已损坏"),
        (_zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"\0" * (60 * 1024 * 1024)}), "xlsx", "过大"),
        (_zip({"[Content_Types].xml": b"<T/>", "word/document.xml": b"\0" * (5 * 1024 * 1024)}), "docx", "压缩比过高"),
    ],
)
def test_broken_or_hostile_files_are_refused_with_a_reason(data, kind, reason):
    assert reason in (document_problem(data, kind) or "")


def test_a_corrupted_zip_part_fails_its_crc():
    data = bytearray(_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<doc>" + b"a" * 500 + b"</doc>"}))
    # Flip a byte inside the stored (deflated) data of the document part.
    start = data.index(b"word/document.xml") + len(b"word/document.xml") + 5
    data[start] ^= 0xFF
    assert document_problem(bytes(data), "docx") is not None
