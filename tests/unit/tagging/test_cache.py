from paperlake.commit import committed_run


def test_a_rerun_with_unchanged_texts_and_tagger_tags_nothing_and_writes_the_same_partition(lake):
    from datetime import date

    import pyarrow as pa

    from paperlake.clean import clean_records
    from paperlake.commit import new_run_id
    from paperlake.records import PaperRecord
    from paperlake.schemas import CLEAN
    from paperlake.tagging.partition import loaded_tagger, tag_partition
    from tests.support.lake_runs import commit_tables

    day = date(2026, 11, 26)
    records = [
        PaperRecord(paper_id="2401.00001", title="A", abstract="We evaluate GPT-4 on MMLU with accuracy."),
        PaperRecord(paper_id="2401.00002", title="B", abstract="Nothing to see here at all."),
        PaperRecord(paper_id="2401.00003", title="C", abstract="LoRA and speculative decoding."),
    ]

    def tag_and_commit(records):
        run_id = new_run_id()
        clean = pa.Table.from_pylist(list(clean_records(records)), schema=CLEAN)
        lake.write_table("clean", "arxiv", day, clean, run_id)
        summary = tag_partition(lake, "arxiv", day, run_id)
        commit_tables(lake, "arxiv", day, clean=clean, run_id=run_id)
        return summary, lake.store.get(lake.run_key("entities", "arxiv", day, run_id))

    first, before = tag_and_commit(records)
    loaded_tagger.cache_clear()
    second, after = tag_and_commit(records)
    assert (first.counts["texts_tagged"], second.counts["texts_tagged"], second.counts["texts_from_cache"]) == (3, 0, 3)
    assert after == before
    assert loaded_tagger.cache_info().currsize == 0  # every text came from the cache: the pipeline was never built

    records[2] = PaperRecord(paper_id="2401.00003", title="C", abstract="LoRA and speculative decoding on GSM8K.")
    third, _ = tag_and_commit(records)
    assert third.counts["texts_tagged"] == 1
    assert (
        "GSM8K"
        in lake.read_table("entities", "arxiv", day, run_id=committed_run(lake, "arxiv", day))
        .column("entity_id")
        .to_pylist()
    )
