"""SPEC.md, "Bad records": nothing outside the source root is read (a symlink out of it is refused): a day file,
a song file or a folder on the way that is a symbolic link resolving outside SPARKIFY_SOURCE fails the read,
naming the link and where it points. Links inside the root are fine."""

from __future__ import annotations

import json
import os
import re
from datetime import date
from pathlib import Path

import pytest

from sparkify_assets.sources.errors import OutsideSourceRoot, SourceError
from sparkify_assets.sources.layout import event_key
from sparkify_assets_tests.conftest import local_source

DAY_KEY = "log_data/2018/11/2018-11-05-events.json"
SONG_KEY = "song_data/A/B/C/TRABC12.json"


def write(path: Path, value: object) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))
    return path.read_bytes()


@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path]:
    """A source root holding one day file and one song file, and a folder outside it holding the same."""
    root, outside = tmp_path / "source", tmp_path / "elsewhere"
    for base in (root, outside):
        write(base / DAY_KEY, {"ts": 1541376000000, "where": base.name})
        write(base / SONG_KEY, {"song_id": "SOABC12", "where": base.name})
    return root, outside


def refused(link: Path, target: Path, root: Path) -> str:
    """The message a refused link must give: the link, where it points, the setting."""
    return re.escape(f"{link} is a symbolic link to {target.resolve()} outside SPARKIFY_SOURCE={root}; not read")


def relink(path: Path, target: Path) -> None:
    """Replace ``path`` (a file or a folder) by a symbolic link to ``target``."""
    if path.is_dir():
        for child in sorted(path.rglob("*"), reverse=True):
            child.unlink() if child.is_file() else child.rmdir()
        path.rmdir()
    else:
        path.unlink()
    path.symlink_to(target, target_is_directory=target.is_dir())


def test_a_day_file_linked_outside_the_root_is_refused(roots: tuple[Path, Path]) -> None:
    root, outside = roots
    relink(root / DAY_KEY, outside / DAY_KEY)
    with pytest.raises(OutsideSourceRoot, match=refused(root / DAY_KEY, outside / DAY_KEY, root)) as error:
        local_source(root).read(DAY_KEY)
    assert isinstance(error.value, SourceError)  # permanent: the step fails at once, it is not skipped


@pytest.mark.parametrize("folder", ["log_data", "log_data/2018", "log_data/2018/11"])
def test_a_folder_on_the_way_linked_outside_the_root_is_refused(roots: tuple[Path, Path], folder: str) -> None:
    root, outside = roots
    relink(root / folder, outside / folder)
    with pytest.raises(OutsideSourceRoot, match=refused(root / folder, outside / folder, root)):
        local_source(root).read(DAY_KEY)
    with pytest.raises(OutsideSourceRoot):  # the same through the day reader of the staging load
        list(local_source(root).read_each([DAY_KEY]))


def test_a_song_file_linked_outside_the_root_is_listed_but_its_read_is_refused(roots: tuple[Path, Path]) -> None:
    root, outside = roots
    relink(root / SONG_KEY, outside / SONG_KEY)
    source = local_source(root)
    assert source.song_keys() == [SONG_KEY]
    with pytest.raises(OutsideSourceRoot, match=refused(root / SONG_KEY, outside / SONG_KEY, root)):
        list(source.read_many(source.song_keys()))


@pytest.mark.parametrize("folder", ["song_data", "song_data/A/B"])
def test_a_song_folder_linked_outside_the_root_is_refused_when_listing(roots: tuple[Path, Path], folder: str) -> None:
    """Not passed over: the songs behind the link were meant to be loaded, and would be silently missing."""
    root, outside = roots
    relink(root / folder, outside / folder)
    source = local_source(root)
    with pytest.raises(OutsideSourceRoot, match=refused(root / folder, outside / folder, root)):
        source.song_keys()
    with pytest.raises(OutsideSourceRoot, match=refused(root / folder, outside / folder, root)):
        list(source.read_many([SONG_KEY]))


def test_links_inside_the_root_are_read(roots: tuple[Path, Path]) -> None:
    root, _ = roots
    expected_day, expected_song = (root / DAY_KEY).read_bytes(), (root / SONG_KEY).read_bytes()
    (root / "store").mkdir()
    (root / DAY_KEY).rename(root / "store" / "day.json")
    (root / DAY_KEY).symlink_to(Path("../../../store/day.json"))  # relative, inside the root
    (root / "song_data").rename(root / "store" / "songs")
    (root / "song_data").symlink_to(root / "store" / "songs", target_is_directory=True)
    source = local_source(root)
    assert source.read(DAY_KEY) == expected_day
    assert source.song_keys() == [SONG_KEY]
    assert list(source.read_many(source.song_keys())) == [(SONG_KEY, expected_song)]


def test_a_root_that_is_itself_a_link_reads_what_is_under_it(roots: tuple[Path, Path], tmp_path: Path) -> None:
    root, _ = roots
    (tmp_path / "alias").symlink_to(root, target_is_directory=True)
    source = local_source(tmp_path / "alias")
    assert source.read(DAY_KEY) == (root / DAY_KEY).read_bytes()
    assert [key for key, _ in source.read_many(source.song_keys())] == [SONG_KEY]


@pytest.mark.parametrize(
    "key",
    ["log_data/../../elsewhere/" + DAY_KEY, "../elsewhere/" + DAY_KEY, "/etc/hostname", "song_data/A/../../../x.json"],
)
def test_a_key_that_climbs_out_of_the_root_is_refused(roots: tuple[Path, Path], key: str) -> None:
    root, _ = roots
    source = local_source(root)
    with pytest.raises(OutsideSourceRoot, match=re.escape(f"source key {key!r} leads out of SPARKIFY_SOURCE={root}")):
        source.read(key)
    with pytest.raises(OutsideSourceRoot):
        list(source.read_many([key]))


def test_reading_many_song_files_looks_at_each_folder_once(roots: tuple[Path, Path]) -> None:
    """The song reads stay cheap: each folder is looked at once, and a plain file not at all (it is opened
    without following a link: only a link is looked at, `_open_inside`)."""
    root, _ = roots
    keys = [f"song_data/A/B/C/TR{n:05}.json" for n in range(50)]
    for key in keys:
        write(root / key, {"song_id": key})
    source = local_source(root)
    looked: list[str] = []
    real_islink = os.path.islink

    def counting(path: str) -> bool:
        looked.append(path)
        return real_islink(path)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os.path, "islink", counting)
        assert [key for key, _ in source.read_many(keys)] == keys
    folders = len(Path(keys[0]).parts) - 1
    assert len(looked) == folders


def test_a_missing_day_file_is_still_missing_not_refused(roots: tuple[Path, Path]) -> None:
    """SPEC.md: a missing partition file is an error that names the key (a dangling link inside the root too)."""
    root, _ = roots
    missing = event_key(date(2018, 11, 6))
    (root / missing).symlink_to(root / "no-such-file.json")
    with pytest.raises(SourceError, match=re.escape(f"missing source file: {root / missing}")):
        local_source(root).read(missing)


def test_a_key_that_is_a_folder_or_a_link_to_one_fails_naming_the_file_and_why(roots: tuple[Path, Path]) -> None:
    """A song file is read with os.open and os.read, a link opened only once checked: a folder where a file
    should be, or a link inside the root to one, fails as a permanent SourceError naming the path and the
    system's reason, as a missing file names the path."""
    root, _ = roots
    (root / "song_data" / "A" / "folder.json").mkdir()
    (root / "song_data" / "A" / "link.json").symlink_to(root / "song_data" / "A" / "B", target_is_directory=True)
    (root / "song_data" / "A" / "gone.json").symlink_to(root / "song_data" / "A" / "no-such-file.json")
    source = local_source(root)
    for name in ("folder.json", "link.json"):
        with pytest.raises(SourceError, match=re.escape(f"cannot read {root / 'song_data/A' / name}: Is a directory")):
            list(source.read_many([SONG_KEY, f"song_data/A/{name}"]))
    with pytest.raises(SourceError, match=re.escape(f"missing source file: {root / 'song_data/A/gone.json'}")):
        list(source.read_many(["song_data/A/gone.json"]))


@pytest.mark.parametrize("size", [0, 1, 64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 3 * 1024 * 1024 + 7])
def test_a_file_is_read_whole_whatever_its_size(roots: tuple[Path, Path], size: int) -> None:
    """A song file is one os.read (and one that finds its end); a larger file is read whole all the same."""
    root, _ = roots
    data = os.urandom(size)
    (root / SONG_KEY).write_bytes(data)
    source = local_source(root)
    assert source.read(SONG_KEY) == data
    assert list(source.read_many([SONG_KEY])) == [(SONG_KEY, data)]
