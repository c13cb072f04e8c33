"""Listing a folder in name order with bounded memory: the external sort and the walk built on it."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bot.ingest.importer import count_files, discover
from bot.sources.name_order import in_name_order

# File names as the file system gives them back: any character but "/" and NUL, including names
# that were not valid UTF-8 on disk (os.fsdecode turns their bytes into lone surrogates).
NAMES = st.lists(
    st.text(
        alphabet=st.one_of(
            st.characters(blacklist_characters="/\0", blacklist_categories=["Cs"]),
            st.sampled_from(["\udc80", "\udcff", "株", "洲", "\n", "😀"]),
        ),
        min_size=1,
        max_size=12,
    ),
    max_size=60,
)


@given(NAMES, st.integers(min_value=1, max_value=7))
def test_equals_sorted_whatever_the_run_length(names: list[str], run_length: int) -> None:
    assert list(in_name_order(iter(names), run_length=run_length)) == sorted(names)


def test_temporary_files_are_closed_when_a_listing_is_abandoned() -> None:
    def open_files() -> int:
        return len(os.listdir("/proc/self/fd"))

    before = open_files()
    listing = in_name_order((f"{n:05}.md" for n in range(1000, 0, -1)), run_length=100)
    assert next(listing) == "00001.md"
    assert open_files() == before + 10  # ten sorted runs, each in a temporary file
    listing.close()
    assert open_files() == before


def test_a_large_folder_is_walked_in_name_order(tmp_path: Path) -> None:
    # More names than one in-memory run (50,000) would be slow to create here; the run length is
    # covered above, and this checks the walk hands the sort every name of a big folder.
    names = [f"2022-01-{n % 28 + 1:02}-{n:06}.md" for n in range(3000)]
    for name in reversed(names):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in discover([tmp_path])] == sorted(names)
    assert count_files([tmp_path]) == 3000


def test_links_to_folders_are_neither_walked_nor_counted(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.md").write_bytes(b"x")
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "link.md").symlink_to(tmp_path / "real" / "a.md")
    walked = [p.relative_to(tmp_path).as_posix() for p in discover([tmp_path])]
    assert walked == ["link.md", "real/a.md"]
    assert count_files([tmp_path]) == 2
