"""Build small PDFs byte by byte for tests: text pages, blank pages, image-only pages, broken files.

reportlab is not available and pypdf cannot lay out text, so the text PDFs are written by hand:
one shared Helvetica font (WinAnsiEncoding, so Dutch accents survive) and one content stream
per page. Generation is linear and fast enough for a 1,000-page file in a test.
"""
from __future__ import annotations

import io
import zlib

from pypdf import PdfReader, PdfWriter

_PAGE_BOX = b"[0 0 595 842]"  # A4 in points
_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"


def _pdf_string(line: str) -> bytes:
    """A literal PDF string; the font is WinAnsi-encoded, which is cp1252."""
    raw = line.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _text_stream(text: str) -> bytes:
    """Draw each line of `text` below the previous one (T* moves down by the leading TL)."""
    shown = b" Tj T* ".join(_pdf_string(line) for line in text.split("\n"))
    return b"BT /F1 11 Tf 14 TL 56 790 Td " + shown + b" Tj ET"


def _stream_object(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n%s\nendstream" % (len(data), extra, data)


def _assemble(objects: list[bytes]) -> bytes:
    """Number `objects` from 1 (object 1 must be the catalog) and write a correct xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    return bytes(out)


def _document(page_streams: list[bytes | None], resources: bytes, shared: tuple[bytes, ...] = ()) -> bytes:
    """Catalog (1), page tree (2), `shared` objects (3...), then per page a page object and its stream.

    A `None` stream gives a page without any content at all.
    """
    first_page = 3 + len(shared)
    kids, pages = [], []
    for stream in page_streams:
        page_number = first_page + len(pages)
        kids.append(b"%d 0 R" % page_number)
        contents = b"" if stream is None else b" /Contents %d 0 R" % (page_number + 1)
        pages.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Resources %s%s >>" % (_PAGE_BOX, resources, contents)
        )
        if stream is not None:
            pages.append(stream)
    tree = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(page_streams))
    return _assemble([b"<< /Type /Catalog /Pages 2 0 R >>", tree, *shared, *pages])


def text_pdf(pages: list[str]) -> bytes:
    """One page per string, each line of the string on its own line; pypdf extracts it back."""
    streams = [_stream_object(_text_stream(text)) for text in pages]
    return _document(streams, b"<< /Font << /F1 3 0 R >> >>", shared=(_FONT,))


def blank_pdf(n: int = 1) -> bytes:
    """`n` pages without content: what a scan without OCR looks like to a text extractor."""
    return _document([None] * n, b"<< >>")


def image_pdf(n: int = 1) -> bytes:
    """`n` pages that each paint one small grey image XObject and carry no text at all."""
    pixels = bytes(range(0, 256, 4))  # 8x8 grey gradient
    image = _stream_object(
        zlib.compress(pixels),
        b"/Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Filter /FlateDecode ",
    )
    paint = _stream_object(b"q 400 0 0 400 100 300 cm /Im1 Do Q")
    return _document([paint] * n, b"<< /XObject << /Im1 3 0 R >> >>", shared=(image,))


def encrypted_pdf(password: str, pages: list[str] | None = None, owner_password: str = "owner-secret") -> bytes:
    """A text PDF encrypted with RC4-128, which pypdf handles without the `cryptography` package.

    With `password=""` anyone can open it (only the owner password restricts it), as with many
    "protected" government PDFs.
    """
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf(pages or ["Vertrouwelijk verslag"]))))
    writer.encrypt(user_password=password, owner_password=owner_password, algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def truncated(pdf_bytes: bytes, keep: float = 0.5) -> bytes:
    """The first `keep` share of the file, as left behind by an interrupted download."""
    return pdf_bytes[: int(len(pdf_bytes) * keep)]


def inflating_pdf(pages: int = 10, megabytes: int = 40) -> bytes:
    """A small file whose pages all share one content stream that inflates to `megabytes` of text
    operators: a reader parses it once per page (a PDF built to stall a reader)."""
    import zlib

    op = b"(x) Tj "
    content = b"BT /F1 12 Tf 72 720 Td " + op * (megabytes * 1024 * 1024 // len(op)) + b"ET"
    packed = zlib.compress(content, 9)
    shared_stream = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream"
    first_page = 5
    kids = [b"%d 0 R" % (first_page + i) for i in range(pages)]
    page_objects = [b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Resources << /Font << /F1 3 0 R >> >> "
                    b"/Contents 4 0 R >>" % _PAGE_BOX for _ in range(pages)]
    tree = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), pages)
    return _assemble([b"<< /Type /Catalog /Pages 2 0 R >>", tree, _FONT, shared_stream, *page_objects])


_HIDDEN_TEXT = b"BT /F1 12 Tf 72 720 Td (Verborgen tekst van Dienst Alfa) Tj ET"


def nested_forms_pdf(depth: int) -> bytes:
    """One page whose text sits in a form XObject nested `depth` forms deep."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>", _FONT,
            b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Resources << /XObject << /X0 6 0 R >> >> /Contents 5 0 R >>"
            % _PAGE_BOX, _stream_object(b"/X0 Do")]
    for i in range(depth):
        last = i == depth - 1
        body = _HIDDEN_TEXT if last else b"/X%d Do" % (i + 1)
        res = b"<< /Font << /F1 3 0 R >> >>" if last else b"<< /XObject << /X%d %d 0 R >> >>" % (i + 1, 7 + i)
        objs.append(b"<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources %s /Length %d >>\n"
                    b"stream\n%s\nendstream" % (res, len(body), body))
    return _assemble(objs)


def reference_chain_pdf(links: int) -> bytes:
    """One page whose /Contents reaches its stream through a chain of `links` indirect references."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>", _FONT,
            b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>"
            % _PAGE_BOX]
    objs += [b"%d 0 R" % (6 + i) for i in range(links)]
    objs.append(_stream_object(_HIDDEN_TEXT))
    return _assemble(objs)
