"""Where the embedded default lives: the bundled ``config.example.toml`` and ``seeds/``.

A wheel carries them inside the package (``bot/_bundled/``); a checkout or an editable install
finds them at the repository root, one level above this package.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]  # bot/


def bundled_path(name: str) -> Path:
    """The path of a bundled file or folder (``config.example.toml`` or ``seeds``)."""
    inside = _PACKAGE / "_bundled" / name
    if inside.exists():
        return inside
    return _PACKAGE.parent / name
