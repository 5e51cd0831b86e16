"""Several processes opening a new SQLite file at once (``lynkr start --workers N``) migrate it
once: each reads the version under the write lock."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

OPEN = """
import sys, time
from pathlib import Path
from lynkr.storage.sqlite import open_db
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
db = open_db(sys.argv[1], ("CREATE TABLE a (x); CREATE TABLE b (y);",
                           "ALTER TABLE a ADD COLUMN z;", "CREATE INDEX ai ON a (x);"))
print(db.execute("PRAGMA user_version").fetchone()[0])
"""


def test_processes_racing_to_open_a_new_file_migrate_it_once(tmp_path: Path) -> None:
    for attempt in range(3):  # three races, each on a new file
        path, go = tmp_path / f"race{attempt}.db", tmp_path / f"go{attempt}"
        racers = [subprocess.Popen([sys.executable, "-c", OPEN, str(path), str(go)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                  for _ in range(5)]
        time.sleep(0.5)  # all started and waiting
        go.touch()
        results = [racer.communicate(timeout=60) for racer in racers]
        assert [(out.strip(), err) for out, err in results] == [("3", "")] * 5
