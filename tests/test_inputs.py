"""Opening inputs: compression by content, damage surfaced, standard input spooled."""

from __future__ import annotations

import gzip
import io
import sys
from pathlib import Path

import pytest
import zstandard

from borderwatch.ingest.expansion import InputFile, expand_inputs
from borderwatch.sources.inputs import CorruptInputError, head_bytes, iter_lines, read_all

LINES = [f'{{"n": {i}}}'.encode() for i in range(5000)]
PAYLOAD = b"\n".join(LINES)


def test_gzip_and_zstd_are_recognised_by_content_not_name(tmp_path: Path) -> None:
    gz = tmp_path / "no-extension"
    gz.write_bytes(gzip.compress(PAYLOAD))
    zst = tmp_path / "also.json"
    zst.write_bytes(zstandard.ZstdCompressor().compress(PAYLOAD))
    for path in (gz, zst):
        data, damage = read_all(path)
        assert data == PAYLOAD and damage is None
        assert head_bytes(path, 10) == PAYLOAD[:10]
        assert [line for _, line in iter_lines(path)] == LINES


def test_concatenated_zstd_frames_are_all_read(tmp_path: Path) -> None:
    compressor = zstandard.ZstdCompressor()
    path = tmp_path / "frames.zst"
    path.write_bytes(compressor.compress(b"first\n") + compressor.compress(b"second\n"))
    assert read_all(path) == (b"first\nsecond\n", None)


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
def test_truncated_streams_report_damage_instead_of_ending_quietly(
    tmp_path: Path, codec: str
) -> None:
    blob = gzip.compress(PAYLOAD) if codec == "gzip" else zstandard.compress(PAYLOAD)
    path = tmp_path / f"cut.{codec}"
    path.write_bytes(blob[: len(blob) // 2])
    data, damage = read_all(path)
    assert isinstance(damage, CorruptInputError)
    assert "truncated" in damage.reason and damage.offset == len(data)
    assert PAYLOAD.startswith(data)
    with pytest.raises(CorruptInputError):
        list(iter_lines(path))


def test_standard_input_is_spooled_and_named(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeStdin:
        buffer = io.BytesIO(PAYLOAD)

    monkeypatch.setattr(sys, "stdin", FakeStdin())
    (item,) = expand_inputs(["-"])
    assert item.display == "<stdin>"
    assert item.path.read_bytes() == PAYLOAD


def test_the_remembered_head_follows_the_file(tmp_path: Path) -> None:
    """head_bytes keeps its last answer; a rewritten or another file is read afresh."""
    import os

    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_bytes(b'{"Records": []}')
    second.write_bytes(b"[1, 2, 3]")
    assert head_bytes(first) == b'{"Records": []}'
    assert head_bytes(second) == b"[1, 2, 3]"
    assert head_bytes(first) == b'{"Records": []}'
    first.write_bytes(b'{"Other": []}xx')  # same path, new size
    assert head_bytes(first) == b'{"Other": []}xx'
    first.write_bytes(b'{"Thing": []}yy')  # same size: the modification time tells
    os.utime(first, ns=(1, 1))
    assert head_bytes(first) == b'{"Thing": []}yy'
    assert head_bytes(first, 4) == b'{"Th'  # another size asked: read again


def test_a_file_named_twice_is_read_once(tmp_path: Path) -> None:
    """Overlapping specs, a symlink and a hard link to one file: one input, first name."""
    import os

    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.json").write_text("{}")
    (logs / "b.json").write_text("{}")
    os.symlink(logs / "a.json", tmp_path / "link.json")
    os.link(logs / "b.json", tmp_path / "hard.json")
    found = expand_inputs(
        [logs, str(logs / "*.json"), tmp_path / "link.json", tmp_path / "hard.json"]
    )
    assert [f.display for f in found] == [str(logs / "a.json"), str(logs / "b.json")]


def _written(folder: Path, contents: dict[str, bytes]) -> list[InputFile]:
    """Each name written into `folder` with its bytes, as inputs in that order."""
    for name, data in contents.items():
        (folder / name).write_bytes(data)
    return [InputFile(folder / name, name) for name in contents]


def _names_hashed_by(monkeypatch: pytest.MonkeyPatch, function: str) -> list[str]:
    """The names of the files borderwatch.ingest.copies.<function> hashes from now on."""
    from borderwatch.ingest import copies as inputs

    names: list[str] = []
    original = getattr(inputs, function)

    def counting(path: Path) -> str:
        names.append(path.name)
        return str(original(path))

    monkeypatch.setattr(inputs, function, counting)
    return names


def test_content_copies_hashes_only_files_of_equal_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from borderwatch.ingest import copies as inputs

    names = {
        "a.json": b'{"x": 1}',
        "b.json": b'{"x": 2}',  # same size as a, other bytes
        "c.json": b'{"x": 1}',  # a copy of a
        "d.json": b'{"x": 10}',  # a size of its own: never hashed
        "e.json": b"",
        "f.json": b"",  # empty files hold nothing: never copies
        "g.json": b'{"x": 1}',  # another copy of a
    }
    files = _written(tmp_path, names)
    original = inputs.sha256_of
    hashed = _names_hashed_by(monkeypatch, "sha256_of")
    copies = inputs.content_copies(files)
    assert sorted(hashed) == ["a.json", "b.json", "c.json", "g.json"]
    assert {files[i].display: files[c.first].display for i, c in copies.items()} == {
        "c.json": "a.json",
        "g.json": "a.json",
    }
    assert all(sha == original(tmp_path / "a.json") for _, sha, _ in copies.values())
    assert not any(copy.decompressed for copy in copies.values())


def test_a_gzip_file_and_a_plain_file_with_the_same_content_are_copies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Logs beside the same logs unpacked count once; gzip trailers pick the candidates."""
    from borderwatch.ingest import copies as inputs

    content = b'{"x": 1}\n' * 100
    other = b'{"x": 2}\n' * 100  # the same size unpacked, other content
    payloads = {
        "a.json.gz": gzip.compress(content),
        "a.json": content,  # a.json.gz unpacked: a copy
        "b.json": other,  # same unpacked size, other content: not a copy
        "c.json.gz": gzip.compress(content, compresslevel=1),  # other bytes, same content
        "d.json": b'{"x": 10}\n' * 100,  # a size of its own: never unpacked
        "e.json.gz": gzip.compress(content)[:-12] + gzip.compress(content)[-4:],  # damaged
    }
    files = _written(tmp_path, payloads)
    original = inputs.unpacked_sha256_of
    unpacked = _names_hashed_by(monkeypatch, "unpacked_sha256_of")
    copies = inputs.content_copies(files)
    assert sorted(unpacked) == ["a.json", "a.json.gz", "b.json", "c.json.gz", "e.json.gz"]
    assert {
        files[i].display: (files[c.first].display, c.decompressed) for i, c in copies.items()
    } == {
        "a.json": ("a.json.gz", True),
        "c.json.gz": ("a.json.gz", True),
    }
    assert {c.sha256 for c in copies.values()} == {original(tmp_path / "a.json")}
