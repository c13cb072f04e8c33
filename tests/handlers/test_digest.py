"""/digest: a day's digest of this chat's topics, on demand."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.request import Context
from tests.helpers.chat import (
    ask,
    text,
)


def test_digest_of_a_day_for_this_chat(ctx: Context) -> None:
    reply = ask(ctx, "/digest")  # yesterday in Asia/Shanghai: 2022-04-03
    assert reply.digest is not None and reply.digest.day == date(2022, 4, 3)
    assert text(reply) == "2022-04-03 日报（全部主题）："
    # The day's one article matches every topic: it is shown once, under its strongest topic,
    # with the others named on it (it used to be repeated under each of them).
    (section,) = reply.digest.sections
    (entry,) = section.entries
    assert section.name == "普惠金融" and section.total == 1 and reply.digest.stories == 1
    assert set(entry.also) >= {"上市", "绿色金融", "融资担保"} and "普惠金融" not in entry.also
    for line, day in (("/digest 昨天", date(2022, 4, 3)), ("/digest 2021/12/29", date(2021, 12, 29))):
        digest = ask(ctx, line).digest
        assert digest is not None and digest.day == day
    ask(ctx, "/subscribe 上市")
    mine = ask(ctx, "/digest 2022-04-03")
    assert mine.digest is not None and [s.name for s in mine.digest.sections] == ["上市"]
    assert "普惠金融" in mine.digest.sections[0].entries[0].also  # a chat of 上市 still gets the story
    assert text(mine) == "2022-04-03 日报（上市）："


@pytest.mark.parametrize("value", ["2022-13-45", "明天见", "2022-04"])
def test_a_malformed_date_gets_the_expected_format(ctx: Context, value: str) -> None:
    reply = ask(ctx, f"/digest {value}")
    assert reply.digest is None
    assert text(reply).startswith(f"日期格式不对：“{value}”。") and "YYYY-MM-DD" in text(reply)
