"""Brazilian taxpayer documents: CPF (11 digits) and CNPJ (14 digits) with their check digits."""

from __future__ import annotations

import re


def digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")


def _cpf_valid(d: str) -> bool:
    return len(d) == 11 and d != d[0] * 11 and make_cpf(d[:9]) == d


def _cnpj_valid(d: str) -> bool:
    return len(d) == 14 and d != d[0] * 14 and make_cnpj(d[:12]) == d


def is_valid_document(value: str) -> bool:
    d = digits(value)
    return _cpf_valid(d) if len(d) == 11 else _cnpj_valid(d) if len(d) == 14 else False


def format_document(d: str) -> str:
    if len(d) == 11:
        return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}"
    if len(d) == 14:
        return f"{d[:2]}.{d[2:5]}.{d[5:8]}/{d[8:12]}-{d[12:]}"
    return d


def make_cpf(base9: str) -> str:
    """Complete nine digits into a valid CPF (used by demo data and tests)."""
    d = base9
    for n in (9, 10):
        total = sum(int(d[i]) * (n + 1 - i) for i in range(n))
        d += str((total * 10) % 11 % 10)
    return d


def make_cnpj(base12: str) -> str:
    """Complete twelve digits into a valid CNPJ."""
    weights1 = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    d = base12
    for weights in (weights1, [6] + weights1):
        rest = sum(int(d[i]) * w for i, w in enumerate(weights)) % 11
        d += str(0 if rest < 2 else 11 - rest)
    return d
