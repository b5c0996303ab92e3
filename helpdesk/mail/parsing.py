"""Turn raw RFC 822 bytes into what the help desk needs: sender, subject, threading headers, a
text body (plain text preferred; sanitised HTML converted when it is all there is), attachments
and inline images, and whether the message is an automatic one (auto-reply, bounce, list mail).

Every charset and transfer encoding is decoded here: quoted-printable and base64 bodies, RFC 2047
subjects and names, RFC 2231 file names, mislabelled ISO-8859-1 / Windows-1252 text.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import getaddresses
from html.parser import HTMLParser

import nh3

from ..core.text import storable_text

MAX_BODY_CHARS = 200_000

# Subjects of automatic messages. Only unambiguous phrases: a customer's "Ausência de resposta"
# or "Não entregaram meu pedido" is a demand, not an auto-reply.
_OOO_SUBJECT = re.compile(
    r"^\s*(out of (the )?office\b|automatic reply\s*:|auto[- ]?reply\s*:|autoreply\s*:|"
    r"resposta autom[aá]tica\s*:|fora do escrit[oó]rio\s*:|aus[eê]ncia tempor[aá]ria\s*:|"
    r"respuesta autom[aá]tica\s*:|fuera de (la )?oficina\s*:|"
    r"undeliverable\s*:|undelivered mail returned to sender|delivery status notification|"
    r"mail delivery (failed|subsystem)|returned mail\s*:|"
    r"n[aã]o [eé] poss[ií]vel entregar\s*:|mensagem n[aã]o entregue\s*:|"
    r"no se puede entregar\s*:|mensaje no entregado\s*:)",
    re.IGNORECASE,
)
_BOUNCE_SENDERS = re.compile(r"^(mailer-daemon|postmaster)@", re.IGNORECASE)
_MSGID = re.compile(r"<[!-;=?-~]{1,450}>")  # printable ASCII only


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes
    content_id: str = ""
    inline: bool = False


@dataclass
class AuthResults:
    """SPF, DKIM and DMARC verdicts from the Authentication-Results header (RFC 8601) that our
    own receiving server added; "" when it did not report a method."""

    spf: str = ""
    dkim: str = ""
    dmarc: str = ""
    header: str = ""  # the header the verdicts were read from, as received

    @property
    def authenticated(self) -> bool:
        """DMARC passed, or (no DMARC verdict) DKIM or SPF passed."""
        if self.dmarc:
            return self.dmarc == "pass"
        return "pass" in (self.dkim, self.spf)


_AUTH_METHOD = re.compile(r"(?:^|;)\s*(spf|dkim|dmarc)\s*=\s*([a-z]+)", re.I)


def authentication_results(msg: EmailMessage, authserv_id: str = "") -> AuthResults:
    """The verdicts of our receiving server. A sender can write any Authentication-Results
    header, so only one is trusted: the one whose authserv-id is ours (`authserv_id`, see
    MAIL_AUTHSERV_ID), or, when none is configured, the top-most one (servers prepend theirs,
    so the first is the one our server added last)."""
    headers = [
        " ".join(fix_8bit(str(value)).split())
        for key, value in msg.raw_items()
        if key.lower() == "authentication-results"
    ]
    chosen = ""
    for value in headers:
        server = _COMMENT.sub("", value).split(";", 1)[0].split()
        if not authserv_id or (server and server[0].lower() == authserv_id.strip().lower()):
            chosen = value
            break
    if not chosen:
        return AuthResults()
    results = AuthResults(header=storable_text(chosen)[:2000])
    for method, verdict in _AUTH_METHOD.findall(_COMMENT.sub("", chosen)):
        method, verdict = method.lower(), verdict.lower()[:20]
        current = getattr(results, method)
        if not current or (method == "dkim" and verdict == "pass"):  # any good signature
            setattr(results, method, verdict)
    return results


def read_authentication_results(raw: bytes, authserv_id: str | None = None) -> AuthResults:
    """authentication_results() from the raw message's headers."""
    from email.parser import BytesHeaderParser

    try:
        headers = BytesHeaderParser(policy=email_policy.default).parsebytes(repair(raw))
    except Exception:  # unreadable headers: nothing reported
        return AuthResults()
    return authentication_results(headers, authserv_id or "")


@dataclass
class ParsedMail:
    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    from_addr: str = ""
    from_name: str = ""
    subject: str = ""
    text: str = ""  # the body as text (from text/plain, or converted from sanitised HTML)
    html: str = ""  # sanitised HTML, when the message had an HTML part
    attachments: list[ParsedAttachment] = field(default_factory=list)
    auto_reason: str = ""  # why it is an automatic message ("" = a person wrote it)
    language: str | None = None  # pt_BR, es or en when the client said so (Content-Language)
    list_unsubscribe_only: bool = False  # auto_reason "list" from List-Unsubscribe alone
    auth: AuthResults = field(default_factory=lambda: AuthResults())  # read_authentication_results


def _raw_value(msg: EmailMessage, name: str) -> str:
    """The first `name` header exactly as received (folding removed, nothing decoded)."""
    for key, raw in msg.raw_items():
        if key.lower() == name.lower():
            return " ".join(str(raw).split())
    return ""


def _header(msg: EmailMessage, name: str) -> str:
    """A header as text, decoded leniently (see decode_header_value); never raises."""
    return storable_text(decode_header_value(_raw_value(msg, name)))


def message_ids(value: str) -> list[str]:
    return _MSGID.findall(value or "")


# Labels that real mail carries for a codec Python knows under another name, or a superset that
# the sending client really used (GBK text labelled gb2312, cp949 labelled euc-kr).
_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "chinese": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-8-e": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "iso-8859-6-e": "iso-8859-6",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "windows-874": "cp874",
    "tis-620": "cp874",
    "big5": "big5hkscs",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
}
# ISO-2022-JP as mail clients send it: JIS X 0201 katakana (_ext), JIS X 0213 and NEC
# symbols such as ① (_2004, _3), or other ISO-2022 sets (_2).
_CHARSET_FAMILIES = {
    "iso-2022-jp": (
        "iso2022_jp",
        "iso2022_jp_ext",
        "iso2022_jp_2004",
        "iso2022_jp_3",
        "iso2022_jp_2",
    ),
    "csiso2022jp": (
        "iso2022_jp",
        "iso2022_jp_ext",
        "iso2022_jp_2004",
        "iso2022_jp_3",
        "iso2022_jp_2",
    ),
    "iso-2022-jp-2": ("iso2022_jp_2", "iso2022_jp_2004", "iso2022_jp_ext"),
    "iso-2022-jp-3": ("iso2022_jp_3", "iso2022_jp_2004"),
}
_LATIN_LABELS = ("iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii", "")


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 with a few stray bytes: each bad byte becomes U+FFFD and the rest is kept; None when
    the bytes are not UTF-8 at all (more bad bytes than good non-ASCII characters)."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd")
    return text if good > bad else None


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode leniently, never failing: the declared charset (or the superset clients really
    use: gb2312 → GB18030, ISO-2022-JP with its extensions, iso-8859-8-i), then UTF-8 (a stray
    byte in UTF-8 text becomes U+FFFD, the rest is kept), then Windows-1252. ISO-8859-1 and
    US-ASCII labels are tried as UTF-8 first and read as Windows-1252, their superset."""
    label = (charset or "").strip().strip('"').strip("'").lower().split("*")[0]
    if label in _LATIN_LABELS:
        candidates: tuple[str, ...] = ("utf-8",)
    else:
        candidates = _CHARSET_FAMILIES.get(label) or (_CHARSET_ALIASES.get(label, label),)
    for candidate in (*candidates, "utf-8"):
        try:
            return data.decode(candidate)
        except (LookupError, ValueError):  # unknown label, bad bytes, a NUL in the label
            continue
    text = _mostly_utf8(data)
    if text is not None:
        return text
    if label not in _LATIN_LABELS and candidates[0] not in ("utf-8",):
        try:  # the declared (non-Latin) charset with a damaged byte or two
            text = data.decode(candidates[0], errors="replace")
            if text.count("\ufffd") * 50 <= max(len(text), 1):
                return text
        except (LookupError, ValueError):
            pass
    return data.decode("cp1252", errors="replace")


def unescape_bytes(value: str) -> bytes:
    """The original bytes of a header or parameter the parser read with surrogateescape."""
    return value.encode("utf-8", errors="surrogateescape")


def fix_8bit(value: str) -> str:
    """Raw 8-bit bytes in a header (UTF-8 or Latin-1 without encoded-words) as real text."""
    if not _SURROGATES.search(value):
        return value
    return decode_bytes(unescape_bytes(value), None)


_SURROGATES = re.compile("[\udc80-\udcff]")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*?)\?=")


def _word_bytes(encoding: str, text: str) -> bytes:
    import base64
    import binascii

    if encoding.lower() == "q":
        return binascii.a2b_qp(text.replace(" ", ""), header=True)
    text = re.sub(r"[^A-Za-z0-9+/]", "", text)
    text = text[: len(text) - len(text) % 4] if len(text) % 4 == 1 else text
    return base64.b64decode(text + "=" * (-len(text) % 4))


def decode_header_value(value: str) -> str:
    """A header as readable text, leniently: raw 8-bit text (UTF-8, else Windows-1252), RFC 2047
    encoded-words in any charset (bad bytes, unknown or mislabelled charsets included; adjacent
    words are joined before decoding, so a character split across two words survives)."""
    value = " ".join(fix_8bit(value or "").split())
    out: list[str] = []
    pending: list[tuple[str, bytes]] = []  # consecutive encoded words: (charset, bytes)
    pos = 0

    def flush() -> None:
        while pending:
            charset = pending[0][0]
            chunk = b""
            while pending and pending[0][0] == charset:
                chunk += pending.pop(0)[1]
            out.append(decode_bytes(chunk, charset))

    for match in _ENCODED_WORD.finditer(value):
        between = value[pos : match.start()]
        if between.strip() or not pending:
            flush()
            out.append(between)
        try:
            data = _word_bytes(match.group(2), match.group(3))
        except Exception:  # not decodable at all: keep the word's text, not its markup
            data = match.group(3).encode("utf-8", "replace")
        pending.append((match.group(1).split("*")[0], data))
        pos = match.end()
    flush()
    out.append(value[pos:])
    return " ".join("".join(out).split())


def _part_text(part) -> str:
    data = part.get_payload(decode=True) or b""
    return decode_bytes(data, part.get_content_charset())


class _HtmlToText(HTMLParser):
    """Sanitised HTML to text: blocks become lines, blockquotes become "> " quotes (so the quote
    stripper sees them), scripts and styles disappear."""

    BLOCKS = {"p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.quote = 0
        self.skip = 0

    def _newline(self):
        if self.lines[-1].strip() or (len(self.lines) > 1 and self.lines[-2].strip()):
            self.lines.append("")

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head", "title"):
            self.skip += 1
        elif tag == "br":
            self.lines.append("")
        elif tag == "blockquote":
            self.quote += 1
            self._newline()
        elif tag in self.BLOCKS:
            self._newline()
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.handle_data(f"[{alt}]")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head", "title"):
            self.skip = max(0, self.skip - 1)
        elif tag == "blockquote":
            self.quote = max(0, self.quote - 1)
            self._newline()
        elif tag in self.BLOCKS:
            self._newline()

    def handle_data(self, data):
        if self.skip:
            return
        text = " ".join(data.split())
        if not text:
            return
        if not self.lines[-1]:
            self.lines[-1] = "> " * self.quote
        elif not self.lines[-1].endswith(" "):
            self.lines[-1] += " "
        self.lines[-1] += text

    def text(self) -> str:
        out = "\n".join(line.rstrip() for line in self.lines)
        return re.sub(r"\n{3,}", "\n\n", out).strip()


def sanitize_html(value: str) -> str:
    """nh3 (ammonia) with its safe defaults: no scripts, handlers, styles or javascript: URLs;
    cid: images are kept (shown from the message's own attachments)."""
    return nh3.clean(
        value,
        url_schemes={"http", "https", "mailto", "cid"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        attribute_filter=_only_inline_images,
    )


def _only_inline_images(tag: str, attribute: str, value: str) -> str | None:
    """Images only from the message itself (cid:): no remote tracking pixels, no relative URLs
    that would call our own pages."""
    if tag == "img" and attribute in ("src", "srcset"):
        return value if value.strip().lower().startswith("cid:") else None
    return value


def html_to_text(value: str) -> str:
    parser = _HtmlToText()
    parser.feed(value)
    parser.close()
    return parser.text()


def _auto_reason(msg: EmailMessage, from_addr: str, subject: str) -> str:
    auto = _header(msg, "Auto-Submitted").lower()
    if auto and auto != "no":
        return "auto-submitted"
    if _header(msg, "Precedence").lower() in ("bulk", "junk", "auto_reply", "list"):
        return "precedence"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply"):
        if msg.get(name) is not None:
            return "autoreply-header"
    if _header(msg, "X-Auto-Response-Suppress") and _OOO_SUBJECT.match(subject):
        return "out-of-office"
    if msg.get_content_type() == "multipart/report" or any(
        part.get_content_type() in ("message/delivery-status", "message/disposition-notification")
        for part in msg.walk()
    ):
        return "bounce"
    if _BOUNCE_SENDERS.match(from_addr) or _header(msg, "Return-Path") == "<>":
        return "bounce"
    if _OOO_SUBJECT.match(subject):
        return "out-of-office"
    if _header(msg, "List-Id") or _header(msg, "List-Unsubscribe"):  # newsletters, lists
        return "list"
    return ""


def _language(msg: EmailMessage) -> str | None:
    """The sender's language from Content-Language / Accept-Language, when it is one of ours."""
    for name in ("Content-Language", "Accept-Language"):
        value = _header(msg, name).lower()
        for tag in re.split(r"[,;\s]+", value):
            if tag.startswith("pt"):
                return "pt_BR"
            if tag.startswith("es"):
                return "es"
            if tag.startswith("en"):
                return "en"
    return None


def _extension_for(content_type: str) -> str:
    return {
        "image/png": "png",
        "image/jpeg": "jpg",
        "image/jpg": "jpg",
        "image/gif": "gif",
        "image/webp": "webp",
        "application/pdf": "pdf",
        "text/plain": "txt",
        "text/csv": "csv",
        "message/rfc822": "eml",
    }.get(content_type, "bin")


_BARE_ADDRESS = re.compile(r"""[^\s<>()\[\],;:"@]+@[^\s<>()\[\],;:"@]+""")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_COMMENT = re.compile(r"\(([^()]*)\)")
SENDER_HEADERS = ("From", "Reply-To", "Sender", "Return-Path")


def _usable(addr: str) -> str:
    """An address as a mailbox would take it (trailing dots, angle brackets and a mailto:
    removed), or "" when it is not one."""
    addr = addr.strip().strip("<>").strip()
    if addr.lower().startswith("mailto:"):
        addr = addr[7:]
    addr = addr.rstrip(".")
    match = _BARE_ADDRESS.fullmatch(addr)
    if not match or addr.startswith("@") or addr.endswith("@") or "=?" in addr:
        return ""
    local, _, domain = addr.rpartition("@")
    if not addr.isprintable() or len(addr) > 254 or len(local) > 64:  # not one we can store
        return ""
    return addr


def _first_address(value: str) -> tuple[str, str]:
    """(display name, address) of the first usable address in an address list as received:
    `Name <a@b>`, `a@b (Name)`, `Name a@b` without brackets, a list with broken entries first.
    Encoded-words are opaque while the address is looked for (`=?utf-8?q?x:_a@evil?=` is a
    name, never a group or an address) and decoded only in the name afterwards."""
    words: list[str] = []

    def hide(match: re.Match) -> str:
        words.append(match.group(0))
        return f"qzw{len(words) - 1}wzq"

    def restore(text: str) -> str:
        return re.sub(r"qzw(\d+)wzq", lambda m: words[int(m.group(1))], text)

    hidden = _ENCODED_WORD.sub(hide, value)
    for name, addr in getaddresses([hidden]):
        usable = _usable(addr)
        if usable and "qzw" not in usable:
            if not name:
                comment = _COMMENT.search(hidden)
                name = comment.group(1) if comment else ""
            return _display_name(restore(name)), usable
    # no address the parser could read: look for a bare one outside quotes and comments
    plain = _COMMENT.sub(" ", _QUOTED.sub(" ", hidden))
    for match in _BARE_ADDRESS.finditer(plain):
        usable = _usable(match.group(0))
        if usable and "qzw" not in usable:
            before = plain[: match.start()].split(",")[-1]
            return _display_name(restore(before.strip(" <"))), usable
    return "", ""


def _display_name(value: str) -> str:
    name = decode_header_value(value.strip().strip('"').strip())
    return " ".join(name.strip('"').split())


def sender_of(msg: EmailMessage) -> tuple[str, str]:
    """Who wrote: the first usable address of From, else Reply-To, Sender, Return-Path. An
    address that exists only inside encoded-words (`=?utf-8?b?...?=` hiding `Name <a@b>`) is
    read once they are decoded."""
    for header in SENDER_HEADERS:
        raw = fix_8bit(_raw_value(msg, header))
        if not raw:
            continue
        name, addr = _first_address(raw)
        if not addr and "=?" in raw:
            name, addr = _first_address(decode_header_value(raw))
        if addr:
            return storable_text(name)[:200], storable_text(addr)
    return "", ""


_HEADER_LINE = re.compile(rb"^[!-9;-~]+[ \t]*:")
_UNQUOTED_BOUNDARY = re.compile(rb'(?im)(\bboundary[ \t]*=[ \t]*)([^"\s;]*=[^"\s;]*)')


def repair(raw: bytes) -> bytes:
    """What senders get wrong before the parser sees it (the stored raw stays untouched):
    header lines folded without leading whitespace (joined to the header above when more
    headers follow), and unquoted MIME boundaries that contain `=` (quoted)."""
    end = len(raw)
    for sep in (b"\r\n\r\n", b"\n\n"):
        found = raw.find(sep)
        if found != -1:
            end = min(end, found)
    if b"\x00" in raw[:end]:  # never valid in a header; the parser trips on it
        head = raw[:end].replace(b"\x00", b"")
        raw, end = head + raw[end:], len(head)
    lines = raw[:end].splitlines(keepends=True)
    last_header = max((i for i, line in enumerate(lines) if _HEADER_LINE.match(line)), default=-1)
    fixed = False
    for i in range(1, last_header):
        line = lines[i]
        if line[:1] not in (b" ", b"\t") and not _HEADER_LINE.match(line) and line.strip():
            lines[i] = b" " + line
            fixed = True
    if fixed:
        raw = b"".join(lines) + raw[end:]
    if b"=" in raw and _UNQUOTED_BOUNDARY.search(raw):
        raw = _UNQUOTED_BOUNDARY.sub(rb'\1"\2"', raw)
    return raw


def parse(raw: bytes) -> ParsedMail:
    """Parse one message; raises ValueError when there is nothing usable (no headers at all)."""
    if not raw or not raw.strip():
        raise ValueError("empty message")
    try:
        msg = message_from_bytes(repair(raw), policy=email_policy.default)
    except ValueError:  # the parser choked (a NUL inside a MIME parameter): without the NULs
        msg = message_from_bytes(repair(raw.replace(b"\x00", b"")), policy=email_policy.default)
    if not msg.keys():
        raise ValueError("no headers: not an email message")
    mail = ParsedMail()
    ids = message_ids(_header(msg, "Message-ID"))
    mail.message_id = ids[0] if ids else ""
    mail.in_reply_to = message_ids(_header(msg, "In-Reply-To"))
    mail.references = message_ids(_header(msg, "References"))
    mail.from_name, mail.from_addr = sender_of(msg)
    mail.subject = _header(msg, "Subject")[:500]
    mail.auto_reason = _auto_reason(msg, mail.from_addr, mail.subject)
    mail.language = _language(msg)
    mail.list_unsubscribe_only = mail.auto_reason == "list" and not _header(msg, "List-Id")

    text_parts, html_part = [], None
    for part in _leaves(msg):
        ctype = part.get_content_type()
        disposition = part.get_content_disposition()
        filename = part.get_filename()
        if ctype == "message/rfc822" or (
            disposition == "attachment" or (filename and ctype not in ("text/plain", "text/html"))
        ):
            mail.attachments.append(_attachment(part, len(mail.attachments)))
        elif ctype == "text/plain":
            text_parts.append(part)
        elif ctype == "text/html":
            html_part = html_part or part
        else:  # any other part (an unnamed PDF, an image, a calendar): kept or listed as refused
            mail.attachments.append(_attachment(part, len(mail.attachments)))
    if html_part is not None:
        mail.html = storable_text(sanitize_html(_part_text(html_part))[:MAX_BODY_CHARS])
    for part in text_parts:  # the first text/plain with text; an empty one beside HTML is skipped
        mail.text = _part_text(part)
        if mail.text.strip():
            break
    if not mail.text.strip() and mail.html:
        mail.text = html_to_text(mail.html)
    mail.text = mail.text.replace("\r\n", "\n").replace("\r", "\n")
    mail.text, uuencoded = extract_uuencoded(mail.text)
    for name, data in uuencoded:
        mail.attachments.append(_uu_attachment(name, data, len(mail.attachments)))
    mail.text = storable_text(mail.text[:MAX_BODY_CHARS].strip())
    return mail


_UU_BLOCK = re.compile(r"^begin(?:-base64)? [0-7]{3,4} ([^\n]+)\n(.*?)^end[ \t]*$\n?", re.M | re.S)


def extract_uuencoded(text: str) -> tuple[str, list[tuple[str, bytes]]]:
    """uuencoded files inside a text body (old clients, scripts): (the text without them,
    [(file name, bytes)])."""
    import binascii

    files = []

    def take(match: re.Match) -> str:
        data = bytearray()
        for line in match.group(2).split("\n"):
            line = line.rstrip("\r")
            if not line or line in ("`", " "):
                continue
            raw = line.encode("latin-1", "replace")
            try:
                data += binascii.a2b_uu(raw)
            except (
                binascii.Error
            ):  # trailing garbage some encoders add: decode what the length says
                size = (((raw[0] - 32) & 63) * 4 + 5) // 3
                try:
                    data += binascii.a2b_uu(raw[:size])
                except binascii.Error:
                    return match.group(0)  # not uuencoded after all: leave the text alone
        files.append((match.group(1).strip(), bytes(data)))
        return ""

    if "begin " not in text:
        return text, []
    return _UU_BLOCK.sub(take, text), files


def _leaves(part):
    """The leaf parts, in order; an attached message (message/rfc822) is one leaf, not opened."""
    if part.get_content_type() == "message/rfc822":
        yield part
    elif part.is_multipart():
        for sub in part.iter_parts():
            yield from _leaves(sub)
    else:
        yield part


_TYPE_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "application/x-pdf": "application/pdf",
    "application/acrobat": "application/pdf",
}


def content_type_of(part) -> str:
    ctype = part.get_content_type()
    return _TYPE_ALIASES.get(ctype, ctype)


def _filename(part) -> str:
    """The part's file name, decoded leniently: RFC 2231 (`filename*=utf-8''...`, continuations,
    a wrong charset), RFC 2047 words inside the quotes, raw 8-bit UTF-8 or Latin-1."""
    try:
        name = part.get_filename() or ""
    except Exception:  # a parameter the parser cannot read: the raw one
        name = ""
    if not name or "\ufffd" in name:
        for header, param in (("Content-Disposition", "filename"), ("Content-Type", "name")):
            raw = _raw_value(part, header)
            match = re.search(param + r"\*?(?:0\*?)?\s*=\s*(\"[^\"]*\"|[^;\s]+)", raw, re.I)
            if match:
                candidate = match.group(1).strip('"')
                if "''" in candidate:  # RFC 2231 charset'lang'percent-encoded
                    from urllib.parse import unquote_to_bytes

                    charset, _, encoded = candidate.partition("'")
                    encoded = encoded.partition("'")[2]
                    candidate = decode_bytes(unquote_to_bytes(unescape_bytes(encoded)), charset)
                name = candidate
                break
    name = fix_8bit(name)
    if "=?" in name:
        name = decode_header_value(name)
    return storable_text(" ".join(name.split()))


def _name_for(filename: str, ctype: str, index: int) -> str:
    """A name for a part that has none, from its type; a known type's extension added to a name
    that has none (`scan` sent as application/pdf becomes `scan.pdf`)."""
    import mimetypes

    ext = _extension_for(ctype)
    if ext == "bin":
        guessed = mimetypes.guess_extension(ctype) or ".bin"
        ext = guessed.lstrip(".")
    if not filename:
        kind = "image" if ctype.startswith("image/") else "attachment"
        return f"{kind}-{index + 1}.{ext}"
    if "." not in filename.strip(".") and ext != "bin":
        return f"{filename}.{ext}"
    return filename


def _attachment(part, index: int) -> ParsedAttachment:
    ctype = content_type_of(part)
    if ctype == "message/rfc822":  # a forwarded message attached: keep it whole as .eml
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else payload
        data = inner.as_bytes() if hasattr(inner, "as_bytes") else b""
    else:
        data = part.get_payload(decode=True) or b""
    filename = _name_for(_filename(part), ctype, index)
    content_id = storable_text(fix_8bit(_raw_value(part, "Content-ID")).strip().strip("<>"))
    return ParsedAttachment(
        filename=filename,
        content_type=ctype,
        data=data,
        content_id=content_id,
        inline=part.get_content_disposition() == "inline" or bool(content_id),
    )


def _uu_attachment(name: str, data: bytes, index: int) -> ParsedAttachment:
    import mimetypes

    name = storable_text(fix_8bit(name))
    ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return ParsedAttachment(filename=_name_for(name, ctype, index), content_type=ctype, data=data)


def clean_subject(subject: str) -> str:
    """The ticket's subject: reply/forward prefixes (en, pt, es, Outlook's) and our own
    `[#protocol]` tag removed."""
    value = re.sub(r"\[#\d{8,20}\]", " ", subject or "")
    prefix = re.compile(
        r"^\s*((re|res|fw|fwd|enc|rv|tr|aw|wg|sv|ref|resp)\s*(\[\d+\])?\s*:\s*)+", re.I
    )
    value = prefix.sub("", value)
    return " ".join(html_lib.unescape(value).split())
