def test_tagging_in_chunks_gives_the_same_entities_table_as_one_chunk(lake):
    from datetime import date

    import pyarrow as pa

    from paperlake.clean import clean_records
    from paperlake.config import BUNDLED_SNAPSHOT
    from paperlake.schemas import CLEAN
    from paperlake.sources.snapshot import parse_snapshot_page
    from paperlake.tagging.partition import tag_partition

    day = date(2026, 11, 26)
    clean = pa.Table.from_pylist(
        list(clean_records(parse_snapshot_page(BUNDLED_SNAPSHOT.read_text(encoding="utf-8"))[:60])), schema=CLEAN
    )
    tables = {}
    for chunk_rows, run_id in ((1000, "20261126T000000Z-0000000a"), (7, "20261126T000000Z-0000000b")):
        lake.write_table("clean", "snapshot", day, clean, run_id)
        summary = tag_partition(lake, "snapshot", day, run_id, chunk_rows=chunk_rows)
        tables[chunk_rows] = lake.read_table("entities", "snapshot", day, run_id=run_id)
        assert summary.counts["chunks"] == -(-60 // chunk_rows) and summary.counts["papers"] == 60
        assert not [key for key in lake.store.list("entities") if "chunk" in key]  # merged, then removed
    assert tables[7].num_rows > 0 and tables[7].equals(tables[1000])


def test_the_tag_stage_gates_each_paper_by_its_categories_and_stores_the_verdict(lake):
    from datetime import date

    import pyarrow as pa

    from paperlake.clean import clean_records
    from paperlake.commit import new_run_id
    from paperlake.records import PaperRecord
    from paperlake.schemas import CLEAN
    from paperlake.tagging.partition import tag_partition

    day, run_id = date(2026, 11, 26), new_run_id()
    text = "We fine-tune GPT-4 with LoRA and report accuracy on MMLU."
    records = [
        PaperRecord(paper_id="2401.00001", title="A", abstract=text, categories=["cs.CL"], primary_category="cs.CL"),
        PaperRecord(
            paper_id="2401.00002",
            title="B",
            abstract=text + " More.",
            categories=["hep-ex", "hep-ph"],
            primary_category="hep-ph",
        ),
    ]
    lake.write_table("clean", "arxiv", day, pa.Table.from_pylist(list(clean_records(records)), schema=CLEAN), run_id)
    tag_partition(lake, "arxiv", day, run_id)
    rows = lake.read_table("entities", "arxiv", day, run_id=run_id).to_pylist()
    by_paper = {
        pid: [(r["entity_id"], r["is_ml"]) for r in rows if r["paper_id"] == pid]
        for pid in ("2401.00001", "2401.00002")
    }
    assert by_paper["2401.00001"] == [("GPT-4", True), ("LoRA", True), ("accuracy", True), ("MMLU", True)]
    assert by_paper["2401.00002"] == [("GPT-4", False)]  # outside ML only the unambiguous name stays
    assert all(isinstance(r["ml_score"], float) for r in rows)


def test_the_tagged_sidecar_holds_the_gates_verdict_on_every_paper_even_one_left_with_no_entity(lake):
    from datetime import date

    import pyarrow as pa

    from paperlake.clean import clean_records
    from paperlake.commit import new_run_id
    from paperlake.lake import TAGGED_MANIFEST
    from paperlake.records import PaperRecord
    from paperlake.schemas import CLEAN
    from paperlake.tagging.partition import tag_partition

    day, run_id = date(2026, 11, 26), new_run_id()
    records = [
        PaperRecord(
            paper_id="2401.00001", title="A", abstract="We fine-tune LoRA adapters.",
            categories=["cs.CL"], primary_category="cs.CL",
        ),
        PaperRecord(
            paper_id="2401.00002", title="B", abstract="We fine-tune LoRA adapters.",
            categories=["hep-ph"], primary_category="hep-ph",
        ),
    ]
    lake.write_table("clean", "arxiv", day, pa.Table.from_pylist(list(clean_records(records)), schema=CLEAN), run_id)
    tag_partition(lake, "arxiv", day, run_id)
    entity_papers = {r["paper_id"] for r in lake.read_table("entities", "arxiv", day, run_id=run_id).to_pylist()}
    verdicts = {v["paper_id"]: v for v in lake.read_json("entities", "arxiv", day, TAGGED_MANIFEST, run_id)["verdicts"]}
    assert entity_papers == {"2401.00001"}  # the rejected paper keeps no entity row ...
    # ... but its verdict is kept
    assert (verdicts["2401.00001"]["is_ml"], verdicts["2401.00002"]["is_ml"]) == (
        True,
        False,
    )
    assert verdicts["2401.00002"]["categories"] == ["hep-ph"] and isinstance(verdicts["2401.00002"]["ml_score"], float)


def test_a_rerun_regates_a_paper_whose_categories_changed_while_its_text_did_not(lake):
    from datetime import date

    import pyarrow as pa

    from paperlake.clean import clean_records
    from paperlake.commit import new_run_id
    from paperlake.records import PaperRecord
    from paperlake.schemas import CLEAN
    from paperlake.tagging.partition import tag_partition
    from tests.support.lake_runs import commit_tables

    day = date(2026, 11, 26)
    text = "We fine-tune GPT-4 with LoRA and report accuracy on MMLU."

    def tag_and_commit(categories):
        run_id = new_run_id()
        record = PaperRecord(
            paper_id="2401.00001", title="A", abstract=text, categories=categories, primary_category=categories[0]
        )
        clean = pa.Table.from_pylist(list(clean_records([record])), schema=CLEAN)
        lake.write_table("clean", "arxiv", day, clean, run_id)
        summary = tag_partition(lake, "arxiv", day, run_id)
        commit_tables(lake, "arxiv", day, clean=clean, run_id=run_id)
        rows = lake.read_table("entities", "arxiv", day, run_id=run_id).to_pylist()
        return summary, sorted((r["entity_id"], r["is_ml"]) for r in rows)

    _, rejected = tag_and_commit(["hep-ph"])
    recategorised, accepted = tag_and_commit(["cs.CL", "hep-ph"])
    _, again = tag_and_commit(["cs.CL", "hep-ph"])
    assert rejected == [("GPT-4", False)]
    assert recategorised.counts["texts_tagged"] == 1  # same text, new categories: tagged and gated again
    assert accepted == again == [("GPT-4", True), ("LoRA", True), ("MMLU", True), ("accuracy", True)]
