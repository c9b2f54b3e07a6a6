"""Celery's filesystem broker (the embedded default), with messages that appear whole.

kombu's ``filesystem`` transport creates a message's ``.msg`` file and then
writes into it, while workers poll the folder and take any ``.msg`` file they
find without waiting for the writer: a worker that polls in between reads an
empty file and stops with ``JSONDecodeError`` (an unrecoverable error: the
worker exits). Here a message is written under a name no worker takes and
renamed into place, which is atomic within one folder. Importing this module
(config/celery.py does) makes ``filesystem://`` mean this transport.
"""

import os
import uuid
from time import monotonic

from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Put ``payload`` onto ``queue``: visible to workers only once complete."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = f"{final}.part"  # workers take "<name>.<queue>.msg" only
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT_ALIASES["filesystem"] = f"{__name__}:Transport"
