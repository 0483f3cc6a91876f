"""SPEC.md, "Bad records": a file that is not UTF-8 JSON text (gzip, UTF-16, a JSON array) fails its partition
with an error naming the file; an empty file is an empty partition, and a bad line is only a bad record."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import zipfile
from collections.abc import Callable

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sparkify_assets.sources.errors import NotJsonText, SourceError
from sparkify_assets.sources.records import RecordColumns, require_json_text, split_into, split_records

KEY = "log_data/2018/11/2018-11-05-events.json"
EVENTS = [{"ts": 1541376000000 + n, "page": "NextSong", "artist": f"Artist {n}", "length": 200.5} for n in range(40)]
TEXT = "".join(json.dumps(event) + "\n" for event in EVENTS)


def zipped(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("events.json", data)
    return buffer.getvalue()


def parquet(data: bytes) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"line": data.decode().splitlines()}), buffer)
    return buffer.getvalue()


#: The file's bytes made into each format, and the words the error must use for it.
PACKED: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "gzip": (gzip.compress, "gzip-compressed"),
    "bzip2": (bz2.compress, "bzip2-compressed"),
    "xz": (lzma.compress, "xz-compressed"),
    "zstd": (lambda data: pa.compress(data, codec="zstd", asbytes=True), "zstd-compressed"),
    "lz4": (lambda data: pa.compress(data, codec="lz4", asbytes=True), "lz4-compressed"),
    "zip": (zipped, "a zip archive"),
    "parquet": (parquet, "a Parquet file"),
}


def refusal(data: bytes) -> str:
    """The message `split_records` refuses ``data`` with (it must name the file)."""
    with pytest.raises(NotJsonText) as refused:
        split_records(KEY, data)
    message = str(refused.value)
    assert isinstance(refused.value, SourceError)  # permanent: the step fails at once, without retries
    assert message.startswith(f"{KEY} is not UTF-8 JSON text")
    return message


@pytest.mark.parametrize("packing", PACKED, ids=PACKED)
def test_a_compressed_or_binary_file_fails_naming_the_file_and_its_format(packing: str) -> None:
    pack, words = PACKED[packing]
    data = pack(TEXT.encode())
    message = refusal(data)
    assert f"it is {words}" in message
    magic = " ".join(f"{byte:02x}" for byte in data[:2])
    assert magic in message  # the bytes it starts with


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"])
def test_a_utf16_or_utf32_file_fails_naming_its_encoding(encoding: str) -> None:
    """With a byte-order mark ("utf-16", "utf-32" write one) or without (NUL bytes between the characters)."""
    message = refusal(TEXT.encode(encoding))
    width = "UTF-16" if "16" in encoding else "UTF-32"
    order = "big-endian" if encoding.endswith("be") else "little-endian"  # Python writes its machine's order
    assert f"{width} ({order})" in message
    assert ("byte-order mark" in message) == (encoding in ("utf-16", "utf-32"))


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data + b"\0" * 4096,  # a zero-filled tail (a crash after the file was extended)
        lambda data: data[:100] + b"\0" * 8 + data[100:],
        lambda data: data.replace(b"\n", b"\0\n"),  # every line ended by a NUL byte
    ],
    ids=["zero-filled tail", "zero-filled block", "NUL-terminated lines"],
)
def test_a_file_ridden_with_nul_bytes_fails_naming_where_they_start(damage: Callable[[bytes], bytes]) -> None:
    data = damage(TEXT.encode())
    message = refusal(data)
    nuls, line = data.count(b"\0"), data.count(b"\n", 0, data.index(b"\0")) + 1
    assert f"it holds {nuls} NUL bytes (the first on line {line})" in message


def test_a_stray_nul_byte_only_makes_its_line_a_bad_record() -> None:
    """SPEC.md, "Bad records": a line that is not valid JSON is rejected; the rest of the file loads."""
    lines = TEXT.splitlines()
    bad = 7
    lines[bad - 1] = lines[bad - 1].replace("Artist", "Art\0ist")
    data = "\n".join(lines).encode()
    require_json_text(KEY, data)
    split = split_records(KEY, data)
    assert len(split) == len(lines) and split.rejected_here == 0  # the warehouse's parser rejects that line
    assert split.texts[bad - 1] == lines[bad - 1]


@pytest.mark.parametrize(
    "write",
    [
        lambda events: json.dumps(events),
        lambda events: json.dumps(events, indent=2),
        lambda events: "[\n" + ",\n".join(json.dumps(event) for event in events) + "\n]\n",
        lambda events: "\ufeff  \n" + json.dumps(events) + "\n\n",
        lambda events: "[\n" + ",\n".join(json.dumps(event) for event in events[:3]),  # cut short
    ],
    ids=["one line", "pretty-printed", "one object a line", "after a BOM and blank lines", "cut short"],
)
def test_a_file_that_is_one_json_array_fails(write: Callable[[list[dict]], str]) -> None:
    assert "it is one JSON array" in refusal(write(EVENTS).encode())


def test_a_first_line_that_is_an_array_is_only_a_bad_record() -> None:
    """A file of one object a line whose first line happens to be an array: that line is a bad record."""
    data = ("[1, 2]\n" + TEXT).encode()
    split = split_records(KEY, data)
    assert split.line_numbers == list(range(1, len(EVENTS) + 2))
    assert split.errors[0] == "not a JSON object (a JSON list)" and split.rejected_here == 1


def test_a_file_with_carriage_returns_alone_for_line_ends_fails() -> None:
    """Classic Mac OS line ends: without a line feed the whole file would be one line, one bad record."""
    assert "carriage return (CR) alone" in refusal(TEXT.replace("\n", "\r").encode())


def test_one_object_pretty_printed_with_carriage_returns_is_one_valid_record() -> None:
    """A CR is JSON whitespace: one object over CR-ended lines is one line holding one valid record."""
    song = {"song_id": "SOABC12", "title": "Title", "duration": 201.5, "year": 0}
    data = json.dumps(song, indent=4).replace("\n", "\r").encode()
    split = split_records("song_data/A/B/C/TRABC12.json", data)
    assert split.errors == [None] and json.loads(split.texts[0]) == song


def test_an_empty_file_is_an_empty_partition_not_an_error() -> None:
    assert len(split_records(KEY, b"")) == 0
    assert len(split_records(KEY, b"\n \n")) == 0


def test_song_files_split_into_a_batch_are_checked_when_named() -> None:
    """The song loader batches files through `split_into`: given the key, a song file is refused the same way
    (and the batch is left as it was); without it, nothing is checked (the caller's choice)."""
    song_key = "song_data/A/B/C/TRABC12.json"
    batch = RecordColumns()
    split_into(batch, json.dumps({"song_id": "S1"}).encode(), song_key)
    with pytest.raises(NotJsonText, match=f"^{song_key} is not UTF-8 JSON text.*gzip-compressed"):
        split_into(batch, gzip.compress(b'{"song_id": "S2"}'), song_key)
    assert len(batch) == 1
    split_into(batch, json.dumps({"song_id": "S3"}).encode("utf-16"))  # not named: split as it is
    assert len(batch) == 2 and batch.errors[1] is not None
