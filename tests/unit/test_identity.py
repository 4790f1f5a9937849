from paperlake.identity import normalise_title, title_key


def test_normalised_title_ignores_case_accents_punctuation_and_spacing():
    assert normalise_title("Schrödinger's  CAT: a Study!") == normalise_title("schrodingers cat - A study")
    assert title_key("Schrödinger's  CAT: a Study!") == title_key("schrödinger's cat a study")
    assert title_key("Paper A") != title_key("Paper B")
