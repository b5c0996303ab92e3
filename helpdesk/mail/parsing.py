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
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

import nh3

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
_MSGID = re.compile(r"<[^<>\s]{1,450}>")


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes
    content_id: str = ""
    inline: bool = False


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


def _header(msg: EmailMessage, name: str) -> str:
    """A header as text; a malformed one is read raw instead of raising."""
    try:
        value = msg.get(name)
    except Exception:  # a header the parser chokes on (e.g. an encoded CR/LF in a name)
        value = _raw_header(msg, name)
    return " ".join(str(value or "").split())


def _decode_words(value: str) -> str:
    from email.header import decode_header, make_header

    try:
        return str(make_header(decode_header(value)))
    except Exception:  # undecodable: the raw text
        return value


def _raw_header(msg: EmailMessage, name: str) -> str:
    """Decode a header by hand (RFC 2047 words), without the structured header classes."""
    from email.header import decode_header, make_header

    for key, raw in msg.raw_items():
        if key.lower() == name.lower():
            try:
                return str(make_header(decode_header(str(raw))))
            except Exception:  # undecodable: the raw text
                return str(raw)
    return ""


def message_ids(value: str) -> list[str]:
    return _MSGID.findall(value or "")


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset; ISO-8859-1 is read as Windows-1252 (its superset, what
    mail clients really send); unknown or wrong labels fall back to UTF-8, then Windows-1252."""
    charset = (charset or "").strip().strip('"').lower()
    if charset in ("iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii", ""):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("cp1252", errors="replace")
    for candidate in (charset, "utf-8"):
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp1252", errors="replace")


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
        "image/gif": "gif",
        "image/webp": "webp",
        "application/pdf": "pdf",
        "text/plain": "txt",
        "text/csv": "csv",
        "message/rfc822": "eml",
    }.get(content_type, "bin")


def parse(raw: bytes) -> ParsedMail:
    """Parse one message; raises ValueError when there is nothing usable (no headers at all)."""
    if not raw or not raw.strip():
        raise ValueError("empty message")
    msg = message_from_bytes(raw, policy=email_policy.default)
    if not msg.keys():
        raise ValueError("no headers: not an email message")
    mail = ParsedMail()
    ids = message_ids(_header(msg, "Message-ID"))
    mail.message_id = ids[0] if ids else ""
    mail.in_reply_to = message_ids(_header(msg, "In-Reply-To"))
    mail.references = message_ids(_header(msg, "References"))
    try:
        addresses = msg["From"].addresses if msg["From"] is not None else ()
        first: Address | None = addresses[0] if addresses else None
        mail.from_name = first.display_name if first else ""
        mail.from_addr = first.addr_spec if first else ""
    except Exception:  # an unparseable From: the address from the raw (still encoded) header,
        # so an encoded word in the name can never smuggle in another address
        raw_from = next((str(v) for k, v in msg.raw_items() if k.lower() == "from"), "")
        raw_from = " ".join(raw_from.split())
        angle = re.search(r"<([^<>\s]+@[^<>\s]+)>\s*$", raw_from)
        if angle:
            encoded_name, mail.from_addr = raw_from[: angle.start()], angle.group(1)
        else:
            encoded_name, mail.from_addr = (getaddresses([raw_from]) or [parseaddr(raw_from)])[0]
        mail.from_name = _decode_words(encoded_name.strip().strip('"'))
    mail.from_name = " ".join(mail.from_name.split())[:200]
    mail.from_addr = mail.from_addr.strip()
    mail.subject = _header(msg, "Subject")[:500]
    mail.auto_reason = _auto_reason(msg, mail.from_addr, mail.subject)
    mail.language = _language(msg)

    text_part = html_part = None
    for part in _leaves(msg):
        ctype = part.get_content_type()
        disposition = part.get_content_disposition()
        filename = part.get_filename()
        if ctype == "message/rfc822" or (
            disposition == "attachment" or (filename and ctype not in ("text/plain", "text/html"))
        ):
            mail.attachments.append(_attachment(part, len(mail.attachments)))
            continue
        if ctype == "text/plain" and text_part is None and disposition != "attachment":
            text_part = part
        elif ctype == "text/html" and html_part is None and disposition != "attachment":
            html_part = part
        elif ctype.startswith("image/") or part.get("Content-ID"):
            mail.attachments.append(_attachment(part, len(mail.attachments)))
    if html_part is not None:
        mail.html = sanitize_html(_part_text(html_part))[:MAX_BODY_CHARS]
    if text_part is not None:
        mail.text = _part_text(text_part)
    elif mail.html:
        mail.text = html_to_text(mail.html)
    mail.text = mail.text.replace("\r\n", "\n").replace("\r", "\n")[:MAX_BODY_CHARS].strip()
    return mail


def _leaves(part):
    """The leaf parts, in order; an attached message (message/rfc822) is one leaf, not opened."""
    if part.get_content_type() == "message/rfc822":
        yield part
    elif part.is_multipart():
        for sub in part.iter_parts():
            yield from _leaves(sub)
    else:
        yield part


def _attachment(part, index: int) -> ParsedAttachment:
    ctype = part.get_content_type()
    if ctype == "message/rfc822":  # a forwarded message attached: keep it whole as .eml
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else payload
        data = inner.as_bytes() if hasattr(inner, "as_bytes") else b""
    else:
        data = part.get_payload(decode=True) or b""
    filename = part.get_filename() or ""
    filename = " ".join(filename.split())
    if not filename:
        filename = f"{'image' if ctype.startswith('image/') else 'attachment'}-{index + 1}.{_extension_for(ctype)}"
    content_id = (part.get("Content-ID") or "").strip().strip("<>")
    return ParsedAttachment(
        filename=filename,
        content_type=ctype,
        data=data,
        content_id=content_id,
        inline=part.get_content_disposition() == "inline" or bool(content_id),
    )


def clean_subject(subject: str) -> str:
    """The ticket's subject: reply/forward prefixes (en, pt, es, Outlook's) and our own
    `[#protocol]` tag removed."""
    value = re.sub(r"\[#\d{8,20}\]", " ", subject or "")
    prefix = re.compile(
        r"^\s*((re|res|fw|fwd|enc|rv|tr|aw|wg|sv|ref|resp)\s*(\[\d+\])?\s*:\s*)+", re.I
    )
    value = prefix.sub("", value)
    return " ".join(html_lib.unescape(value).split())
