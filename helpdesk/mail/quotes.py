"""Strip quoted history and signatures from a reply (pt, es, en), keeping what the person wrote.

Our own implementation: `mail-parser-reply` knows en and es but not pt. Conservative: when in
doubt, keep the text; forwarded messages are kept (a customer forwards what they want us to read);
when stripping would leave nothing, the full text is kept. The full original is always stored.
"""

from __future__ import annotations

import re

# the line that introduces the quoted message, by language and client
_ATTRIBUTION = re.compile(
    r"^\s*(>\s*)?("
    r"on\b.{0,200}\bwrote:|"  # en (Gmail, Apple Mail, Thunderbird)
    r"em\b.{0,200}\bescreveu:|"  # pt
    r"el\b.{0,200}\bescribi[oó]:|"  # es
    r"le\b.{0,200}\ba [eé]crit\s*:|"  # fr, occasionally seen
    r".{0,120}<[^>]+@[^>]+>\s*(wrote|escreveu|escribi[oó]):"  # "Name <x@y> wrote:"
    r")\s*$",
    re.IGNORECASE,
)
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(original message|mensagem original|mensaje original)\s*-{2,}\s*$", re.I
)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(from|de)\s*:\*?\s+\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(
    r"^\s*\*?(sent|date|enviado|enviada|data|fecha|to|para|subject|assunto|asunto)\s*:",
    re.IGNORECASE,
)
_FORWARD = re.compile(
    r"^\s*(-{3,}\s*(forwarded message|mensagem encaminhada|mensaje reenviado|"
    r"original message follows)\s*-{3,}|begin forwarded message:|"
    r"in[ií]cio da mensagem encaminhada:|comienzo del mensaje reenviado:)\s*$",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_SIGNATURE = re.compile(
    r"^\s*("
    r"--\s*|"  # the standard delimiter "-- "
    r"sent from my \w+.*|sent from (mail|outlook) for .*|get outlook for .*|"
    r"enviado do meu \w+.*|enviado (do|pelo) (e-?mail|outlook) (para|do) .*|"
    r"obter o outlook para .*|baixe o outlook para .*|"
    r"enviado desde mi \w+.*|enviado desde (correo|outlook) para .*|obtener outlook para .*"
    r")$",
    re.IGNORECASE,
)


def _join_wrapped_attribution(lines: list[str], i: int) -> bool:
    """Gmail wraps long attributions: 'On Mon, 1 Jan 2026 at 10:00, SAC <x@y>' / 'wrote:'."""
    if i + 1 >= len(lines):
        return False
    joined = f"{lines[i].rstrip()} {lines[i + 1].strip()}"
    return bool(_ATTRIBUTION.match(joined)) and len(lines[i].strip()) > 2


def _quote_start(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        if _FORWARD.match(line):
            return None  # what follows was forwarded to us on purpose: keep it
        if _ATTRIBUTION.match(line) or _ORIGINAL_MESSAGE.match(line):
            return i
        if re.match(r"^\s*(on|em|el)\b", line, re.I) and _join_wrapped_attribution(lines, i):
            return i
        if _OUTLOOK_FROM.match(line) or _UNDERSCORES.match(line):
            window = lines[i + 1 : i + 5]
            start = i + 1 if _UNDERSCORES.match(line) else i
            if _UNDERSCORES.match(line) and window and _OUTLOOK_FROM.match(window[0]):
                return i
            if not _UNDERSCORES.match(line) and any(_OUTLOOK_NEXT.match(w) for w in window):
                return start
    return None


def strip_reply(text: str) -> str:
    """What the person wrote, without the quoted history and the signature."""
    lines = (text or "").replace("\r\n", "\n").split("\n")
    cut = _quote_start(lines)
    if cut is not None:
        lines = lines[:cut]
    # a trailing block of "> " lines (bottom quoting without an attribution line)
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith(">")):
        lines.pop()
    for i, line in enumerate(lines):
        if _SIGNATURE.match(line) and i > 0:
            lines = lines[:i]
            break
    result = "\n".join(lines).strip()
    return result or (text or "").strip()
