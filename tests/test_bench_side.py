"""bench/side.py and bench/floor.py: the floor really inserts, the table's ratios are right and a
run rewrites only its own section of docs/benchmarks.md (no wrk, no gunicorn here)."""

from __future__ import annotations

import importlib
import sqlite3


def test_floor_inserts_one_row_per_post(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_FLOOR_DB", str(tmp_path / "floor.db"))
    import bench.floor

    floor = importlib.reload(bench.floor)
    client = floor.app.test_client()
    for i in range(3):
        response = client.post("/tickets", data={"subject": f"s{i}", "description": "d"})
        assert response.status_code == 201
    with sqlite3.connect(tmp_path / "floor.db") as con:
        assert con.execute("SELECT count(*) FROM tickets").fetchone()[0] == 3
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _run(ok, p95):
    return {"ok_per_second": ok, "p90_ms": p95 - 5, "p95_ms": p95, "ok": 10}


def _report(peer=None):
    return {
        "when": "2026-12-05T03:00:00+00:00",
        "command": "python -m bench.side",
        "loadavg_start": [1, 1, 1],
        "loadavg_end": [1, 1, 1],
        "tickets": 1000,
        "workers": 2,
        "worker_class": "sync",
        "wrk": {"threads": 2, "connections": 8, "seconds": 15},
        "this": {
            "registration": _run(120.0, 90),
            "queue": _run(50.0, 40),
            "ticket": _run(60.0, 30),
            "registered_rows": 10,
        },
        "floor": _run(300.0, 10),
        **({"peer": peer} if peer else {}),
    }


def test_table_gives_the_ratios_and_dashes_without_the_peer():
    from bench.side import table

    text = table(_report())
    assert "| registration, ok/s | 120.0 | — | 300.0 | — | 0.40 |" in text
    peer = {"registration": _run(60.0, 200), "queue": _run(5.0, 400), "ticket": _run(5.0, 60)}
    text = table(_report(peer))
    assert "| registration, ok/s | 120.0 | 60.0 | 300.0 | 2.00 | 0.40 |" in text
    assert "| agent queue page, p95 ms | 40 | 400 | — | 0.10 | — |" in text


def test_a_run_rewrites_only_its_section_of_the_doc(tmp_path, monkeypatch):
    import bench.side as side

    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# B\n\nbefore\n\n{side.BEGIN}\nold table\n{side.END}\n\nafter\n")
    monkeypatch.setattr(side, "DOC", doc)
    report = _report()
    side.write_doc(report, "NEW TABLE")
    side.write_doc(report, "NEWER TABLE")
    text = doc.read_text()
    assert "old table" not in text and "NEW TABLE" not in text
    assert text.count("NEWER TABLE") == 1 and text.count(side.BEGIN) == 1
    assert text.startswith("# B\n\nbefore\n") and text.endswith("\n\nafter\n")
    assert "10 new tickets for 10 successful POSTs" in text
