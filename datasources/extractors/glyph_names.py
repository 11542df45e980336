"""Letters PDFium leaves out, put back from the glyph names of the font's encoding.

A font's encoding may name a glyph by its parts, as the Adobe Glyph List's rules allow: "f_i" and
"f_f_i" for ligatures, "uni00660069". PDFium does not read such names: it gives the glyph's code as
its text, a control character, and the word loses letters ("E ciency" for "Efficiency", " nancial" for
"financial"), so neither a search nor a reader finds it. pdfminer reads those names. On a page whose text
holds such codes, each of those glyphs is looked up in its font as pdfminer reads the page's fonts; a glyph
pdfminer cannot read either (a font whose codes mean nothing) stays as it was.
"""

import ctypes
import re
from dataclasses import dataclass
from pathlib import Path

# What PDFium writes for a glyph it could not put into Unicode: the glyph's code, when it is under 32. Not the
# codes it writes itself: 2 for a hyphen that breaks a word at a line's end, tabs and line breaks.
_UNMAPPED = re.compile(r"[\x00\x01\x03-\x08\x0b\x0c\x0e-\x1f]")


class FontEncodings:
    """The fonts of a PDF's pages as pdfminer reads them, the file opened the first time a page needs them."""

    def __init__(self, path: Path):
        self.path = path
        self._file = None
        self._pages: list | None = None

    def fonts(self, page_index: int) -> dict[str, list]:
        """The page's fonts by their base name without the subset tag ("SohoGothicPro-Regular" for
        "BGIKZM+SohoGothicPro-Regular"), as PDFium names them; {} when pdfminer cannot read the page."""
        from pdfminer.pdfinterp import PDFResourceManager
        from pdfminer.pdftypes import resolve1

        try:
            pages = self._read_pages()
            if page_index >= len(pages):
                return {}
            manager = PDFResourceManager(caching=False)
            fonts: dict[str, list] = {}
            for spec in resolve1(pages[page_index].resources.get("Font", {})).values():
                font = manager.get_font(None, resolve1(spec))
                fonts.setdefault(str(font.basefont).split("+", 1)[-1], []).append(font)
            return fonts
        except Exception:  # a damaged file breaks pdfminer in ways it does not name; the page keeps PDFium's text
            return {}

    def _read_pages(self) -> list:
        if self._pages is None:
            from pdfminer.pdfdocument import PDFDocument
            from pdfminer.pdfpage import PDFPage
            from pdfminer.pdfparser import PDFParser

            self._pages = []
            self._file = open(self.path, "rb")  # pdfminer reads objects from it as pages ask for them
            self._pages = list(PDFPage.create_pages(PDFDocument(PDFParser(self._file))))
        return self._pages

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


@dataclass(frozen=True)
class _Unmapped:
    code: str  # what PDFium wrote for the glyph
    named: str | None  # the text its font's encoding names it by; None when pdfminer cannot name it either
    centre: tuple[float, float]


class TextLayer:
    """A page's text as PDFium reads it, with the glyphs it left out put back where the font names them.
    `raw` is PDFium's text page, for the calls that read places, not text."""

    def __init__(self, textpage, fonts: FontEncodings, page_index: int):
        import pypdfium2.raw as pdfium_c

        self.textpage = textpage
        self.raw = textpage.raw
        self._unicode = pdfium_c.FPDFText_GetUnicode
        self._fonts, self._page_index = fonts, page_index
        self._unmapped: dict[int, _Unmapped] | None = None  # looked up the first time a text holds a code

    def char(self, index: int) -> str:
        """The text of the glyph at `index` (a ligature's is several letters)."""
        char = chr(self._unicode(self.raw, index))
        if char >= " " or not _UNMAPPED.match(char):  # almost every glyph is text
            return char
        unmapped = self._glyphs().get(index)
        return unmapped.named if unmapped is not None and unmapped.named is not None else char

    def get_text_range(self, index: int = 0, count: int = -1) -> str:
        text = self.textpage.get_text_range(index, count)
        if not _UNMAPPED.search(text):
            return text
        end = self.textpage.count_chars() if count == -1 else index + count
        return self._put_back(text, [i for i in sorted(self._glyphs()) if index <= i < end])

    def get_text_bounded(self, left: float, bottom: float, right: float, top: float) -> str:
        text = self.textpage.get_text_bounded(left, bottom, right, top)
        if not _UNMAPPED.search(text):
            return text
        glyphs = self._glyphs()
        return self._put_back(text, [i for i in sorted(glyphs) if left <= glyphs[i].centre[0] <= right
                                     and bottom <= glyphs[i].centre[1] <= top])

    def close(self) -> None:
        self.textpage.close()

    def _glyphs(self) -> dict[int, "_Unmapped"]:
        if self._unmapped is None:
            self._unmapped = _unmapped_glyphs(self.textpage, self._fonts, self._page_index)
        return self._unmapped

    def _put_back(self, text: str, indexes: list[int]) -> str:
        """`text` with its codes of unmapped glyphs replaced, in order, by the glyphs of `indexes` that the
        font names; as it is when the two do not pair up one for one."""
        codes, glyphs = list(_UNMAPPED.finditer(text)), [self._glyphs()[index] for index in indexes]
        if len(codes) != len(glyphs) or any(match.group() != glyph.code for match, glyph in zip(
                codes, glyphs, strict=True)):
            return text
        pieces, start = [], 0
        for match, glyph in zip(codes, glyphs, strict=True):
            pieces += [text[start:match.start()], glyph.named or match.group()]
            start = match.end()
        return "".join(pieces) + text[start:]


def _unmapped_glyphs(textpage, fonts: FontEncodings, page_index: int) -> dict[int, _Unmapped]:
    """Each glyph PDFium wrote as a code under 32, by its index. Only a page whose text holds such a code
    asks: for the others pdfminer never opens the file."""
    import pypdfium2.raw as pdfium_c

    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    name, flags = ctypes.create_string_buffer(256), ctypes.c_int()
    page_fonts = None
    unmapped = {}
    for index in range(textpage.count_chars()):
        code = pdfium_c.FPDFText_GetUnicode(textpage.raw, index)
        if not _UNMAPPED.match(chr(code)) or pdfium_c.FPDFText_IsGenerated(textpage.raw, index) == 1:
            continue
        if page_fonts is None:
            page_fonts = fonts.fonts(page_index)
        pdfium_c.FPDFText_GetFontInfo(textpage.raw, index, name, len(name), ctypes.byref(flags))
        named = _named(page_fonts.get(name.value.decode("utf-8", "replace"), []), code)
        pdfium_c.FPDFText_GetCharBox(textpage.raw, index, left, right, bottom, top)
        unmapped[index] = _Unmapped(chr(code), named, ((left.value + right.value) / 2, (bottom.value + top.value) / 2))
    return unmapped


def _named(fonts: list, code: int) -> str | None:
    """The text the fonts' encoding names the code by, when they all name it alike and it is text."""
    from pdfminer.pdffont import PDFUnicodeNotDefined

    texts = set()
    for font in fonts:
        try:
            texts.add(font.to_unichr(code))
        except (PDFUnicodeNotDefined, KeyError, ValueError):
            return None
    if len(texts) != 1:
        return None
    text = texts.pop()
    return text if text and not _UNMAPPED.search(text) and text.isprintable() else None

