"""The floor: the least a Flask app can do per registration, one SQLite insert per POST.

BENCH_FLOOR_DB=/tmp/floor.db gunicorn -w 2 bench.floor:app    (bench/side.py starts it)
"""

import os
import sqlite3

from flask import Flask, request

app = Flask(__name__)
DB = os.environ["BENCH_FLOOR_DB"]  # bench/side.py sets it
with sqlite3.connect(DB) as setup:
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute(
        "CREATE TABLE IF NOT EXISTS tickets (id INTEGER PRIMARY KEY, subject TEXT, body TEXT)"
    )


@app.post("/tickets")
def create():
    con = sqlite3.connect(DB, timeout=30)
    con.execute("PRAGMA synchronous=NORMAL")  # as the help desk sets it
    try:
        with con:  # one transaction, committed
            cur = con.execute(
                "INSERT INTO tickets (subject, body) VALUES (?, ?)",
                (request.form["subject"], request.form["description"]),
            )
    finally:
        con.close()
    return {"id": cur.lastrowid}, 201
