"""Where files live: a local folder below JUNCTION_FILES_ROOT, or an SFTP server.

Both locations offer the same few operations (list, open, atomic move,
remove) on paths built with :meth:`Location.path`, and raise only
:class:`TransientError` or :class:`PermanentError` (see :func:`translate`).
"""

from __future__ import annotations

import errno
import io
import os
import posixpath
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, BinaryIO

import paramiko

from integrations import outbound

from ..errors import AdapterError, PermanentError, TransientError
from .schema import LocationType, fingerprints, resolve_local

KEY_CLASSES = (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey)
READ_CHUNK = 32768  # the largest read an SFTP server must answer in one go


@dataclass(frozen=True)
class FileInfo:
    """A file in a folder. Name, size and modification time together identify one upload of it."""

    name: str
    size: int
    mtime: int  # seconds
    # Where the location has it (local folders; SFTP reports whole seconds, then 0): a second
    # upload of the same name and size within the same second is still told apart.
    mtime_ns: int = 0


def translate(exc: BaseException, what: str) -> AdapterError:
    """The adapter error for an OS, socket or SSH failure while doing ``what``."""
    if isinstance(exc, AdapterError):
        return exc
    if isinstance(exc, paramiko.AuthenticationException):
        return PermanentError(f"{what}: the server refused the login; check the user name, password or key.")
    code = getattr(exc, "errno", None)
    if isinstance(exc, FileNotFoundError) or code == errno.ENOENT:
        return PermanentError(f"{what}: no such file or folder.", detail=str(exc))
    if isinstance(exc, PermissionError) or code in (errno.EACCES, errno.EPERM):
        return PermanentError(f"{what}: permission denied.", detail=str(exc))
    if code == errno.EXDEV:
        return PermanentError(
            f"{what}: the folders are on different file systems, so files cannot be moved atomically."
        )
    if isinstance(exc, socket.gaierror):
        return TransientError(f"{what}: host name not found ({exc.strerror}).")
    if isinstance(exc, TimeoutError):
        return TransientError(f"{what}: timed out.")
    if isinstance(exc, ConnectionRefusedError):
        return TransientError(f"{what}: connection refused (is the server running?).")
    return TransientError(f"{what}: {exc or type(exc).__name__}", detail=repr(exc))


@contextmanager
def guard(what: str) -> Iterator[None]:
    """Turn OS, socket and SSH failures inside the block into adapter errors."""
    try:
        yield
    except (OSError, EOFError, paramiko.SSHException) as exc:
        raise translate(exc, what) from exc


def load_private_key(text: str, passphrase: str | None = None) -> paramiko.PKey:
    """A private key from its file's text; ValueError with a readable reason otherwise."""
    for key_class in KEY_CLASSES:
        try:
            return key_class.from_private_key(io.StringIO(text), password=passphrase)
        except paramiko.PasswordRequiredException:
            raise ValueError("The key is encrypted: enter its passphrase.") from None
        except (paramiko.SSHException, ValueError, TypeError):
            continue
    raise ValueError("Not a private key Junction can read (ed25519, ECDSA or RSA, PEM or OpenSSH format).")


class Location:
    """The operations the adapter needs from a place holding files."""

    check_name: str = "Connect"

    def connect(self) -> str:
        """Open the connection (if any); a one-line description of where we are."""
        raise NotImplementedError

    def path(self, folder: str, name: str = "") -> str:
        raise NotImplementedError

    def list_files(self, folder: str) -> list[FileInfo]:
        """Regular files in ``folder`` (not recursive), hidden ones (``.name``) left out."""
        raise NotImplementedError

    def open_read(self, path: str) -> BinaryIO:
        raise NotImplementedError

    def open_seekable(self, path: str) -> BinaryIO:
        """For formats that jump around (XLSX is a zip file)."""
        return self.open_read(path)

    def open_write(self, path: str) -> BinaryIO:
        """A new file; fails if ``path`` exists."""
        raise NotImplementedError

    def exists(self, path: str) -> bool:
        raise NotImplementedError

    def move(self, source: str, target: str) -> None:
        """Atomic rename: the file is under exactly one of the two names at any moment."""
        raise NotImplementedError

    def remove(self, path: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class LocalLocation(Location):
    """Folders on the Junction server, confined below JUNCTION_FILES_ROOT."""

    check_name = "Connect (local folder)"

    def connect(self) -> str:
        root = resolve_local(".")
        if not root.is_dir():
            raise PermanentError(f"The local files root {root} does not exist (JUNCTION_FILES_ROOT).")
        return f"Local folders below {root}"

    def path(self, folder: str, name: str = "") -> str:
        try:
            folder_path = resolve_local(folder)
        except ValueError as exc:
            raise PermanentError(str(exc)) from None
        return str(folder_path / name) if name else str(folder_path)

    def list_files(self, folder: str) -> list[FileInfo]:
        files = []
        with os.scandir(self.path(folder)) as entries:
            for entry in entries:
                # Symbolic links are left out: they could point outside the files root.
                if not entry.name.startswith(".") and entry.is_file(follow_symlinks=False):
                    info = entry.stat(follow_symlinks=False)
                    files.append(FileInfo(entry.name, info.st_size, int(info.st_mtime), info.st_mtime_ns))
        return files

    def open_read(self, path: str) -> BinaryIO:
        return open(path, "rb")

    def open_write(self, path: str) -> BinaryIO:
        return open(path, "xb")

    def exists(self, path: str) -> bool:
        return os.path.lexists(path)

    def move(self, source: str, target: str) -> None:
        os.rename(source, target)

    def remove(self, path: str) -> None:
        os.remove(path)


class SftpLocation(Location):
    """Folders on an SFTP server. The host key is checked before any credential is sent."""

    check_name = "Connect (SFTP host key matches)"

    def __init__(self, settings: dict[str, Any], credentials: dict[str, Any]):
        self.host, self.port, self.username = settings["host"], settings["port"], settings["username"]
        self.fingerprints = fingerprints(settings["host_key_fingerprint"])
        self.timeout = settings["timeout"]
        self.credentials = credentials
        self._transport: paramiko.Transport | None = None
        self._sftp: paramiko.SFTPClient | None = None

    @property
    def sftp(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            self.connect()
        return self._sftp

    def connect(self) -> str:
        if self._sftp is not None:
            return self.where
        what = f"Connecting to {self.host}:{self.port}"
        with guard(what):
            sock = outbound.connect_tcp(self.host, self.port, timeout=self.timeout)
        transport = paramiko.Transport(sock)
        transport.banner_timeout = transport.auth_timeout = self.timeout
        try:
            with guard(what):
                transport.start_client(timeout=self.timeout)
                presented = transport.get_remote_server_key()
                self.check_host_key(presented)
                self.authenticate(transport)
                sftp = paramiko.SFTPClient.from_transport(transport)
                sftp.get_channel().settimeout(self.timeout)
        except BaseException:
            transport.close()
            raise
        self._transport, self._sftp = transport, sftp
        return self.where

    @property
    def where(self) -> str:
        return f"Logged in to {self.host}:{self.port} as {self.username}; host key {self.fingerprints[0]}"

    def check_host_key(self, key: paramiko.PKey) -> None:
        if key.fingerprint not in self.fingerprints:
            raise PermanentError(
                f"{self.host}:{self.port} presented the {key.get_name()} host key {key.fingerprint}, which is not "
                "the fingerprint in the settings. Nothing was sent. If the server's key really changed, confirm "
                "the new fingerprint with its administrator (ssh-keyscan … | ssh-keygen -lf -) and update it."
            )

    def authenticate(self, transport: paramiko.Transport) -> None:
        key_text, password = self.credentials.get("private_key"), self.credentials.get("password")
        if not key_text and not password:
            raise PermanentError("SFTP needs a password or a private key in the connector's credentials.")
        if key_text:
            try:
                key = load_private_key(key_text, self.credentials.get("private_key_passphrase") or None)
            except ValueError as exc:
                raise PermanentError(f"The private key cannot be used: {exc}") from None
            try:
                transport.auth_publickey(self.username, key)
                return
            except paramiko.AuthenticationException:
                if not password:
                    raise
        transport.auth_password(self.username, password)

    def path(self, folder: str, name: str = "") -> str:
        return posixpath.join(folder, name) if name else folder

    def list_files(self, folder: str) -> list[FileInfo]:
        return [
            FileInfo(attr.filename, attr.st_size or 0, int(attr.st_mtime or 0))
            for attr in self.sftp.listdir_attr(folder)
            if not attr.filename.startswith(".") and stat.S_ISREG(attr.st_mode or 0)
        ]

    def open_read(self, path: str) -> BinaryIO:
        # No prefetch(): it would buffer the whole file in memory ahead of the reader.
        return self.sftp.open(path, "rb", bufsize=READ_CHUNK)

    def open_seekable(self, path: str) -> BinaryIO:
        # Zip readers seek back and forth; a local temporary copy (on disk) beats SFTP round trips.
        spool = tempfile.TemporaryFile()  # noqa: SIM115 (the caller closes it)
        try:
            with self.open_read(path) as remote:
                shutil.copyfileobj(remote, spool, READ_CHUNK)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return spool

    def open_write(self, path: str) -> BinaryIO:
        handle = self.sftp.open(path, "wbx")
        handle.set_pipelined(True)
        return handle

    def exists(self, path: str) -> bool:
        try:
            self.sftp.lstat(path)
        except FileNotFoundError:
            return False
        return True

    def move(self, source: str, target: str) -> None:
        self.sftp.posix_rename(source, target)

    def remove(self, path: str) -> None:
        self.sftp.remove(path)

    def close(self) -> None:
        with suppress(Exception):
            if self._sftp is not None:
                self._sftp.close()
        with suppress(Exception):
            if self._transport is not None:
                self._transport.close()
        self._sftp = self._transport = None


def open_location(settings: dict[str, Any], credentials: dict[str, Any]) -> Location:
    """The location a connector's settings describe (not yet connected)."""
    factories = {
        LocationType.LOCAL: lambda: LocalLocation(),
        LocationType.SFTP: lambda: SftpLocation(settings, credentials),
    }
    return factories[settings["location"]]()
