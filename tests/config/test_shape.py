"""A table's shape: what fits is converted without msgspec, what does not is msgspec's error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from bot.config.base import REQUIRED, Shape, ShapeError

SHAPE = Shape(
    "example",
    name=(str, REQUIRED),
    every=(str, "10m"),
    enabled=(bool, True),
    timeout=(float | None, None),
    retries=(int, 3),
    ratio=(float, 1.0),
    chat=(str | int, ""),
    admins=(list[str | int], []),
    headers=(dict[str, str], {}),
    near=(dict[str, Any], {}),
)


def struct_of(shape: Shape) -> type[msgspec.Struct]:
    fields = [(k, t) if d is REQUIRED else (k, t, d) for k, (t, d) in shape.fields.items()]
    return msgspec.defstruct(shape.name, fields, forbid_unknown_fields=True, kw_only=True)


@pytest.mark.parametrize(
    "raw",
    [
        {"name": "seeds"},
        {"name": "a", "every": "1h", "enabled": False, "timeout": 5, "retries": 0, "ratio": 2},
        {"name": "a", "timeout": 2.5, "chat": -100123, "admins": ["u1", 42], "headers": {"X-A": "b"}},
        {"name": "a", "chat": "console", "near": {"上市": ["企业"], "x": 1}},
    ],
)
def test_a_table_that_fits_converts_as_msgspec_would(raw: dict[str, Any]) -> None:
    ours = vars(SHAPE.convert(raw))
    theirs = msgspec.structs.asdict(msgspec.convert(raw, struct_of(SHAPE)))
    assert ours == theirs
    assert [type(v) for v in ours.values()] == [type(v) for v in theirs.values()]  # 5 → 5.0 for a float


@pytest.mark.parametrize(
    "raw",
    [
        {},  # a required key missing
        {"name": "a", "colour": "red"},  # an unknown key
        {"name": 3},
        {"name": "a", "retries": True},  # a boolean is not a number
        {"name": "a", "ratio": "2"},
        {"name": "a", "chat": False},
        {"name": "a", "admins": ["u1", 2.5]},
        {"name": "a", "headers": {"X-A": 1}},
        ["name"],  # not a table
    ],
)
def test_a_table_that_does_not_fit_gets_msgspec_s_message(raw: Any) -> None:
    with pytest.raises(msgspec.ValidationError) as expected:
        msgspec.convert(raw, struct_of(SHAPE))
    with pytest.raises(ShapeError) as error:
        SHAPE.convert(raw)
    assert str(error.value) == str(expected.value)


def test_defaults_are_fresh_for_each_table() -> None:
    first = SHAPE.convert({"name": "a"})
    first.admins.append("x")
    assert SHAPE.convert({"name": "b"}).admins == []


def test_loading_a_valid_configuration_does_not_load_msgspec(tmp_path: Path) -> None:
    # The embedded default (no config.toml in an empty folder): every table fits.
    code = (
        "import sys\nfrom bot.config import load_config\nload_config(None)\nprint('msgspec' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != "FINEWS_CONFIG"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path, env=env
    )
    assert done.stdout.strip() == "False"
