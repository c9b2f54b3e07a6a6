"""The Files adapter (key ``files``): CSV, JSON Lines and XLSX in a local folder or on an SFTP server.

A package rather than one module because formats, locations, settings and the
watermark are each a few hundred lines (habit 10); the registry imports it as
``integrations.adapters.files`` all the same.

- ``adapter.py``: FilesAdapter, the read / archive / write / test-connection flow.
- ``formats.py``: row-by-row readers and writers for each format.
- ``locations.py``: local folder and SFTP (paramiko), and how their failures map to errors.
- ``schema.py``: settings and credentials serializers.
- ``watermark.py``: what a page's watermark holds.

Reading conventions (the engine relies on them):

1. **Order.** Per entity, the files in the inbound folder that match the
   pattern (and are older than ``min_age_seconds``) are read in name order,
   one row at a time; a page never spans two files.
2. **Watermark.** Each page's watermark is JSON naming the file (with its
   size and mtime) and how many of its records were handed out, e.g.
   ``{"entity": "customer", "file": "c-0002.csv", "row": 500, "complete": false, …}``.
   Read again with a committed watermark, the adapter continues after that
   row; a file whose size or mtime changed since is read from the start.
3. **Archive.** After committing a page the engine calls
   ``adapter.archive(page.watermark)``: files that watermark says were read
   to the end are moved (an atomic rename; ``posix-rename`` on SFTP) to the
   archive folder. ``read()`` does the same with the watermark it resumes
   from, so a file is never read twice and never lost, even if the engine
   stopped between commit and archive.
4. **Errors are records.** A row that cannot be imported is not dropped: it
   is yielded as a ``SourceRecord`` whose payload is
   ``{"__error__": "<file> line 17: no value in id column 'customer_no'",
   "__raw__": "<the row's text>", "__source__": "<file> line 17"}`` and whose
   ``external_id`` is ``"<file>#<line>"``. The engine quarantines records
   with ``__error__`` instead of importing them, so the run counts them.
   Rows come out so for: no id, a malformed JSON line or one that is not an
   object, a line not in the encoding (JSON Lines), more values than columns.
5. **Unreadable files.** A file that cannot be read at all (not a workbook,
   not in the configured encoding, no usable header or id column) is moved to
   the error folder with ``<name>.reason.txt`` beside it, and yielded as one
   ``__error__`` record whose ``external_id`` is the file name. Rows of it
   already handed out stay handed out.

Writing: each ``write()`` call is one new file in the outbound folder, named
by the template, written under a hidden ``.name.part`` name and then renamed;
each record's ``target_id`` is ``"<file name>#<row>"`` (data rows from 1).

See docs/connectors/files.md for settings, setup and errors.
"""

from .adapter import ERROR_KEY, FilesAdapter

__all__ = ["ERROR_KEY", "FilesAdapter"]
