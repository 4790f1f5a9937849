import email
import zlib
from email import policy

import duckdb

from paperlake.digest import compose_digest, digest_message, publish_digest, render_html
from paperlake.marts.builder import build_marts
from paperlake.marts.published import local_marts_path
from paperlake.sparkline import sparkline_png
from tests.unit.marts.test_builder import R, trend_lake  # noqa: F401  (fixture)


def test_sparkline_is_a_valid_png_with_one_bar_per_value():
    png = sparkline_png([0, 1, 2, 4], bar_width=3, gap=1, height=10)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (4 * 4 - 1, 10)
    idat = png[png.index(b"IDAT") + 4 : png.index(b"IEND") - 8]
    rows = zlib.decompress(idat)
    assert len(rows) == height * (1 + width * 3)


def test_digest_lists_trending_papers_and_entities_with_inline_charts(trend_lake, settings):  # noqa: F811
    build_marts(trend_lake, settings)
    with duckdb.connect(str(local_marts_path(trend_lake, settings)), read_only=True) as con:
        digest = compose_digest(con)
    assert digest.day == R
    assert [p["paper_id"] for p in digest.papers] == ["p2", "p4", "p1", "p6", "p5"]
    assert [(e.entity_id, e.lift) for e in digest.entities] == [("LoRA", 8.0), ("MMLU", 4.0), ("BLEU", 2.0)]
    # BLEU: two papers on R-6 within 14 days
    assert digest.entities[2].daily[-7] == 2 and sum(digest.entities[2].daily) == 2

    message = email.message_from_bytes(
        bytes(digest_message(digest, "from@example.org", ["a@example.org", "b@example.org"])), policy=policy.default
    )
    assert (
        message["Subject"] == "paperlake: trending papers for 2026-11-30"
        and message["To"] == "a@example.org, b@example.org"
    )
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
    html = next(p for p in message.walk() if p.get_content_type() == "text/html").get_content()
    images = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert "1. Title p2. More." in text and "- LoRA (METHOD): 8.0x, 2 papers" in text
    assert len(images) == 3 and all(f"cid:{img['Content-ID'].strip('<>')}" in html for img in images)

    uri = publish_digest(trend_lake, digest)
    assert uri.endswith("digests/date=2026-11-30/digest.html")
    page = trend_lake.store.get("digests/date=2026-11-30/digest.html").decode()
    assert (
        page == render_html(digest, inline_cid=False)
        and page.count("data:image/png;base64,") == 3
        and "cid:" not in page
    )


def test_marts_of_an_empty_lake_give_no_digest_and_no_error(settings):
    from paperlake.pipeline import digest_stage, marts_stage

    marts_stage(settings)
    digest, uri = digest_stage(settings)
    assert (digest.day, digest.papers, uri) == (None, [], None)
