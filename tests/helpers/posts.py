"""Posts written to a folder, as a finews checkout holds them, for tests of folder sources."""

from __future__ import annotations

from pathlib import Path

POST = (
    '---\ntitle: "{title}"\ndate: 2021-12-08 10:{minute:02d}:00 +0800\ncategories: zhuzhouribao\n'
    "tags: 株洲日报新闻\n---\n<p>{body}</p>\n\n<http://finews.zning.xyz/html_News/NewsShare.html?infoCode={id}>\n"
)


def write_post(
    folder: Path, post_id: str, body: str = "株洲金融新闻", minute: int = 0, name: str = ""
) -> Path:
    path = folder / (name or f"2021-12-08-{post_id}.md")
    path.write_text(
        POST.format(title=f"标题{post_id}", minute=minute, body=body, id=post_id), encoding="utf-8"
    )
    return path
