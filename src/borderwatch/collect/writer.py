"""Write a collected inventory as the YAML the scan reads (`stores:`), with its provenance.

The header comment and the `collected:` mapping say when, from which account and regions
the inventory was collected and what could not be collected (gaps). The scan reads only
`stores:`; `note` keys on stores are for people and ignored by the scan.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from borderwatch.collect.aws.base import CollectedStore
from borderwatch.collect.aws.runner import Collection


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _flow(items: Any) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def store_row(store: CollectedStore, provider: str = "aws") -> CommentedMap:
    row = CommentedMap()
    row["store_id"] = store.store_id
    row["provider"] = provider
    row["region"] = store.region
    row["service"] = store.service
    row["data_classes"] = _flow(list(store.data_classes))
    row["records"] = store.records
    row["copy_of"] = store.copy_of
    row["copy_kind"] = store.copy_kind
    row["aliases"] = CommentedSeq(list(store.aliases))
    if store.notes:
        row["note"] = "; ".join(store.notes)
    return row


def inventory_document(collection: Collection) -> CommentedMap:
    doc = CommentedMap()
    meta = CommentedMap()
    meta["provider"] = "aws"
    meta["account"] = collection.account
    meta["at"] = _timestamp(collection.collected_at)
    meta["regions"] = _flow(list(collection.regions))
    meta["services"] = _flow(list(collection.services))
    meta["gaps"] = CommentedSeq([str(gap) for gap in collection.gaps])
    doc["collected"] = meta
    doc["stores"] = CommentedSeq([store_row(s) for s in collection.stores])
    header = [
        "borderwatch inventory, collected by `borderwatch inventory collect aws`",
        f"at {_timestamp(collection.collected_at)} from AWS account {collection.account}",
        f"regions: {', '.join(collection.regions) or '(none)'}",
        f"services: {', '.join(collection.services)}",
    ]
    if collection.gaps:
        header.append(f"COLLECTION GAPS ({len(collection.gaps)}): not everything could be read:")
        header.extend(f"  - {gap}" for gap in collection.gaps)
    else:
        header.append("collection gaps: none")
    header.append("The scan reads `stores:`; see docs/collect-aws.md.")
    doc.yaml_set_start_comment("\n".join(header))
    return doc


def render(collection: Collection) -> str:
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(
        type(None), lambda rep, _: rep.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    buffer = io.StringIO()
    yaml.dump(inventory_document(collection), buffer)
    return buffer.getvalue()


def write_inventory(collection: Collection, out: Path, history: Path | None = None) -> list[Path]:
    """Write `out` atomically; also a timestamped copy under `history` when given."""
    text = render(collection)
    written = [_atomic_write(Path(out), text)]
    if history is not None:
        stamp = collection.collected_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        name = f"inventory-aws-{collection.account}-{stamp}.yaml"
        written.append(_atomic_write(Path(history) / name, text))
    return written


def _atomic_write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
