import pytest

from tests.unit.tagging.conftest import entities


@pytest.mark.parametrize(
    "text",
    [
        "Proton collisions at 13 TeV and 8 GeV recorded by ATLAS at the LHC; neutrinos above 100 keV seen by IceCube "
        "and LIGO.",
        "Thin films of FeSe on SrTiO3 and GaAs, with 56Ni decay lines, show a Phase III transition.",
        "Lattice QCD and AdS/CFT methods constrain the CFT data; published in PLoS ONE and at FOCS and RANDOM.",
        "DEEP SPECTRAL ANALYSIS OF STELLAR WINDS reveals variability.",
    ],
    ids=["units-facilities", "formulas-isotopes-roman", "theories-venues", "all-caps-words"],
)
def test_units_formulas_facilities_venues_and_all_caps_words_get_no_label(nlp, text):
    assert entities(nlp, text) == []
