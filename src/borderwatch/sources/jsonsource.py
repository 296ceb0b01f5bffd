"""The reader of one JSON log format, less what every such reader does alike.

A JSON format's reader names only what is specific to it: `recognises` (does a file's
head, already known to start like JSON, look like this format), `container_keys` (the
keys under which an envelope object holds the records in a list, as `{"records": [...]}`)
and `normaliser` (the function from one decoded record to the canonical columns). The
rest is shared: layouts (JSON lines, arrays, single objects, envelopes), the record and
document limits, quarantine of bad records with their positions, and the accounting
(records read = accepted + quarantined), all in `jsondoc.read_json_records`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path

from borderwatch.sources.base import SourceBatch
from borderwatch.sources.fields import is_json_start
from borderwatch.sources.jsondoc import Normaliser, read_json_records


class JsonRecordSource(ABC):
    """A Source of JSON records; a subclass says what is specific to its format."""

    name: str
    description: str
    # Envelope keys holding the records in a list; () when the format has no envelope.
    container_keys: tuple[str, ...] = ()

    @abstractmethod
    def recognises(self, head: bytes) -> bool:
        """True if `head`, which starts like JSON, looks like this format."""

    @abstractmethod
    def normaliser(self, path: Path) -> Normaliser:
        """The function from one record of `path` to its canonical columns.

        It raises RecordError for a record it cannot read (wrap it in
        `record.per_record`); `path` is there for formats whose records lean on
        something the file says once (an envelope's cluster name, say).
        """

    def sniff(self, path: Path, head: bytes) -> bool:
        """True if `head` (the first decompressed bytes of `path`) looks like this format."""
        return is_json_start(head) and self.recognises(head)

    def read(self, path: Path, batch_size: int = 50_000) -> Iterator[SourceBatch]:
        """Yield batches of canonical events; unreadable records go to quarantine."""
        yield from read_json_records(
            path,
            self.name,
            self.normaliser(path),
            container_keys=self.container_keys,
            batch_size=batch_size,
        )
