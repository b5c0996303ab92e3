"""Damaged real mail never breaks parsing: the corpus with random bytes changed, inserted (NULs,
stray encoded-word markers, brackets, 8-bit bytes, broken boundaries) or cut out always parses
(or is refused only for having no headers at all), and every text it yields can be stored on
both databases (no NUL, no lone surrogate)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from helpdesk.core.text import storable_text
from helpdesk.mail.parsing import parse, read_authentication_results

CORPUS = sorted((Path(__file__).parent / "fixtures" / "email").glob("*.eml"))
SNIPPETS = [b"=?", b"?=", b"\x00", b"\xff", b"\xe9", b"=?utf-8?b?", b"=?x?q?=E9", b"<", b'"',
            b"(", b"\r\n", b"\r\n ", b"begin 644 x\r\n", b"boundary=a=b", b"filename*=utf-8''%",
            b"@", b",", b":"]  # fmt: skip


def _mutate(rng: random.Random, raw: bytes) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 8)):
        pos = rng.randrange(len(data))
        roll = rng.random()
        if roll < 0.4:
            data[pos] = rng.randrange(256)
        elif roll < 0.75:
            data[pos:pos] = rng.choice(SNIPPETS)
        else:
            del data[pos : pos + rng.randint(1, 20)]
    return bytes(data)


@pytest.mark.parametrize("seed", range(4))
def test_damaged_messages_always_parse_into_storable_text(seed):
    rng = random.Random(seed)
    for _ in range(150):
        raw = _mutate(rng, rng.choice(CORPUS).read_bytes())
        try:
            mail = parse(raw)
        except ValueError as exc:  # only a message without any header is refused
            assert "headers" in str(exc) or "empty" in str(exc), raw[:200]
            continue
        read_authentication_results(raw)
        texts = [mail.subject, mail.from_name, mail.from_addr, mail.text, mail.html]
        texts += [a.filename for a in mail.attachments]
        for value in texts:
            assert value == storable_text(value), value[:200]
