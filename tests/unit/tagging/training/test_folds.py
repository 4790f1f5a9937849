from paperlake.tagging.training.folds import FOLDS, annotation_files, score_fold
from paperlake.tagging.training.gold import GoldDoc


def test_each_annotation_file_is_held_out_by_one_fold_and_the_test_split_by_none():
    files = annotation_files()
    held = [name for scored, _ in FOLDS.values() for name in scored]
    assert sorted(held) == sorted(files) and "test" not in files
    assert all(not set(scored) & set(rest) for scored, rest in FOLDS.values())
    assert all(doc.split != "test" for docs in files.values() for doc in docs)


def test_a_fold_knows_only_the_names_the_other_files_mark(tmp_path):
    text = "We tune Quaxorbic here."
    held = [GoldDoc(1, text, frozenset({(8, 17, "METHOD")}), "train")]
    marked = [GoldDoc(2, "Quaxorbic helps.", frozenset({(0, 9, "METHOD")}), "train")]
    unmarked = [GoldDoc(2, "Quaxorbic helps.", frozenset(), "train")]
    assert score_fold(held, marked, tmp_path)["scores"]["overall"]["recall"] == 1.0
    assert score_fold(held, unmarked, tmp_path)["scores"]["overall"]["recall"] == 0.0
