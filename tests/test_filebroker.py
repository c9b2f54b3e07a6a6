"""The embedded broker (``filesystem://``, config/filebroker.py) has messages that appear whole:
a worker polling while one is written never takes it half written (kombu's own filesystem transport
let it read an empty file and stop)."""

import contextlib
from queue import Empty

import pytest
from kombu import Connection
from kombu.transport import filesystem

from config import filebroker


@pytest.fixture
def channel(tmp_path):
    folders = {name: tmp_path / name for name in ("in", "processed", "control")}
    for folder in folders.values():
        folder.mkdir()
    options = {
        "data_folder_in": str(folders["in"]),
        "data_folder_out": str(folders["in"]),
        "processed_folder": str(folders["processed"]),
        "control_folder": str(folders["control"]),
        "store_processed": False,
    }
    with Connection("filesystem://", transport_options=options) as conn:  # the alias config/celery.py set
        yield conn.default_channel


def test_a_message_is_invisible_until_it_is_whole_then_read_once(channel, monkeypatch):
    seen_while_writing, dumps = [], filebroker.dumps

    def dumps_while_a_worker_polls(payload):
        with contextlib.suppress(Empty):
            seen_while_writing.append(channel._get("sync"))  # a worker's poll in the middle of the write
        return dumps(payload)

    monkeypatch.setattr(filebroker, "dumps", dumps_while_a_worker_polls)
    monkeypatch.setattr(filesystem, "dumps", dumps_while_a_worker_polls)  # kombu's own, for comparison
    channel._put("sync", {"body": "one"})

    assert seen_while_writing == []
    assert channel._get("sync") == {"body": "one"}
    with pytest.raises(Empty):
        channel._get("sync")


def test_no_partial_file_is_left_behind(channel, tmp_path):
    channel._put("default", {"body": "two"})
    assert [p.suffix for p in (tmp_path / "in").iterdir()] == [".msg"]
