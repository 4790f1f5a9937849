"""Each cleaning rule on a dirty record, with the expected cleaned text written out; properties of the whole."""

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from paperlake.clean import clean_text, collapse_whitespace, extract_urls

# (rule, dirty input, expected cleaned text) — the README's rules table is this list.
CASES = [
    ("page header lines",
     "Get trending papers in your email inbox once a day!Get trending papers in your email inbox!A title", "A title"),
    ("Subscribe glued to a title", "SubscribeFlashFormer: Whole-Model Kernels", "FlashFormer: Whole-Model Kernels"),
    ("escaped percent", "reaching 40\\% accuracy", "reaching 40% accuracy"),
    ("accent escapes", 'na\\"ively, H\\"older, Mat\\\'ern, Schr\\"odinger', "naïvely, Hölder, Matérn, Schrödinger"),
    ("grave and tilde accents", "Monge-Amp\\`ere, \\`A-la-carte and \\`a la carte, Pe\\~na, Ca\\~{n}ada",
     "Monge-Ampère, À-la-carte and à la carte, Peña, Cañada"),
    ("an escaped backtick is no Markdown code mark", "Colin de Verdi\\`ere and `code`", "Colin de Verdière and code"),
    ("text macros", "we propose \\textbf{Bold} and \\textit{Italic} \\emph{ideas}", "we propose Bold and Italic ideas"),
    ("unknown macros keep their name", "Preference Optimization (\\model) on \\datasetname{}",
     "Preference Optimization (model) on datasetname"),
    ("~ as a TeX space", "large language models~(LLMs)", "large language models (LLMs)"),
    ("TeX quotes", "a ``leader'' agent", "a “leader” agent"),
    ("inline math", "Pass@$k$ rises with $N$ samples", "Pass@k rises with N samples"),
    ("stray braces", "standardizes {process reward model} training }", "standardizes process reward model training"),
    ("lost \\times", "a 1.6times speedup", "a 1.6× speedup"),
    ("lost \\sim", "with 8K cache budget (sim 23% reduction)", "with 8K cache budget (~23% reduction)"),
    ("HTML entities and tags", "<p>Models &amp; data&nbsp;<i>at scale</i></p>", "Models & data at scale"),
    ("Markdown emphasis", "**Strong** and *weak* and `code`, not snake_case",
     "Strong and weak and code, not snake_case"),
    ("mojibake", "SchrÃ¶dinger bridges", "Schrödinger bridges"),
    ("control characters", "a\x00b\x07c", "abc"),
    ("non-breaking and zero-width spaces", "zero\u200bwidth\u00a0space", "zerowidth space"),
    ("whitespace runs and line breaks", "  multi-line\n   summary\t text ", "multi-line summary text"),
    ("Unicode NFC", "Cafe\u0301", "Café"),
    ("URL with sentence punctuation", "Code is at https://github.com/MccRee177/MPCFormer.",
     "Code is at <https://github.com/MccRee177/MPCFormer>."),
    ("URL at the very end", "Code is available at https://github.com/efeslab/fiddler",
     "Code is available at <https://github.com/efeslab/fiddler>"),
    ("URL glued to a word", "seecode:https://x.io/a_b~c", "seecode: <https://x.io/a_b~c>"),
    ("money and plain % stay literal", "costs $5 for 40% & more", "costs $5 for 40% & more"),
    ("math paired by TeX's rules, not read as money", "a set of only $50$ tests, E $\\geq$100 GeV",
     "a set of only 50 tests, E ≥100 GeV"),
    ("escaped and unpaired dollars stay dollars", "up to \\$32,000; costs $5 for 40%",
     "up to $32,000; costs $5 for 40%"),
    ("math symbols as Unicode", "$0\\le p\\le 1$, $x \\to \\infty$, $a \\times b$, $\\pm 1$",
     "0≤p≤1, x → ∞, a × b, ±1"),
    ("sub- and superscripts as Unicode", "H$_2$O, $x^2$, 3 fb$^{-1}$, $90^\\circ$", "H₂O, x², 3 fb⁻¹, 90°"),
    ("other scripts as ^x or ^(...)", "$m^{\\rm PDG}$, $e^{-i\\omega t}$", "m^PDG, e^(-iωt)"),
    ("font commands as their text", "$\\mathcal{O}(n)$, $\\text{acc}$, $\\mathrm{d}x$, $\\mathbf{x}$",
     "O(n), acc, dx, x"),
    ("fractions, roots, sets", "$\\frac{a+b}{2}$, $\\sqrt{2}$, $\\{0,1\\}^n$", "(a+b)/2, √2, ﹛0,1﹜ⁿ"),
    ("display math set apart", "display \\[x_{ij}\\]math", "display xᵢⱼ math"),
]


@pytest.mark.parametrize("rule, dirty, expected", CASES, ids=[c[0] for c in CASES])
def test_each_rule(rule, dirty, expected):
    assert clean_text(dirty) == expected


@pytest.mark.parametrize("rule, dirty, expected", CASES, ids=[c[0] for c in CASES])
def test_each_rule_is_stable(rule, dirty, expected):
    assert clean_text(expected) == expected


def test_urls_are_kept_and_extractable():
    cleaned = clean_text("See https://a.io/x, and (https://b.io/y).")
    assert cleaned == "See <https://a.io/x>, and ( <https://b.io/y>)."
    assert extract_urls(cleaned) == ["https://a.io/x", "https://b.io/y"]


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_cleaning_is_idempotent_and_never_raises_on_any_unicode(text):
    once = clean_text(text)
    assert clean_text(once) == once


LATEXISH = st.sampled_from(
    list("ab1 \\{}$%&~`'_^*<>:/.\"()\n")
    + ["https://x.io/", "\\textbf{", "\\model", "times", "sim ", "``", "''", "&amp;", "<b>"]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(LATEXISH, max_size=16).map("".join))
def test_cleaning_is_idempotent_on_latex_and_markup_soup(text):
    once = clean_text(text)
    assert clean_text(once) == once


RESIDUE = re.compile(r"\\[A-Za-z]+")

# Hostile LaTeX: each used to fail the whole partition (RecursionError, a pylatexenc KeyError or
# IndexError) or to take minutes (unclosed optional arguments backtrack exponentially).
HOSTILE_LATEX = [
    ("250 nested braces", "a " + "{" * 250 + "deep" + "}" * 250 + " b", "a deep b"),
    ("300 unclosed \\textbf{", "We show \\textbf{" * 300 + "bold claims", "We show " * 300 + "bold claims"),
    ("math inside deep groups", "{$" * 200 + "x^2", "x^2"),
    ("\\sqrt without its argument", "a rate of \\sqrt", "a rate of"),
    ("\\href (its arguments read as groups)", "mail \\href{mailto:a@b.org}{the authors}",
     "mail mailto:a@b.orgthe authors"),
    ("\\textcolor without text", "\\textcolor{red}", "red"),
]


@pytest.mark.parametrize("case, dirty, expected", HOSTILE_LATEX, ids=[c[0] for c in HOSTILE_LATEX])
def test_hostile_latex_is_read_without_residue(case, dirty, expected):
    cleaned = clean_text(dirty)
    assert cleaned == collapse_whitespace(expected)
    assert not RESIDUE.search(cleaned)


def test_unclosed_optional_arguments_never_reach_the_latex_parser():
    # pylatexenc alone backtracks over every unclosed `[`: about 10 s at 16 levels, doubling with each level
    from paperlake.latex import flatten_deep_latex

    text = "\\footnote[" * 40 + "x"
    assert "\\" not in flatten_deep_latex(text)  # plain text: nothing left for the parser to backtrack over
    assert flatten_deep_latex("\\footnote[a]{b} x") == "\\footnote[a]{b} x"  # closed arguments stay LaTeX
    assert not RESIDUE.search(clean_text(text))


def test_a_run_of_underscores_is_not_emphasis():
    # found by hypothesis: `__` pairs were peeled four underscores per pass, so cleaning was not idempotent
    assert clean_text("Fill in: " + "_" * 50) == "Fill in: " + "_" * 50


def test_plain_text_with_apostrophes_never_reaches_the_latex_parser(monkeypatch):
    from pylatexenc.latex2text import LatexNodes2Text

    def refuse(self, latex, **flags):
        raise AssertionError(f"the LaTeX parser was given {latex!r}")

    monkeypatch.setattr(LatexNodes2Text, "latex_to_text", refuse)
    text = "The model's 'output' isn't x^2, nor a snake_case name."
    assert clean_text(text) == text


def test_the_latex_parser_reads_the_latex_of_a_long_text_not_its_plain_words(monkeypatch):
    from pylatexenc.latex2text import LatexNodes2Text

    parsed = []
    parse = LatexNodes2Text.latex_to_text
    monkeypatch.setattr(
        LatexNodes2Text,
        "latex_to_text",
        lambda self, latex, **flags: parsed.append(latex) or parse(self, latex, **flags),
    )
    words = "plain words of a long abstract, " * 20
    assert clean_text(f"{words}a \\emph{{key}} idea at 40\\% -- {words}") == collapse_whitespace(
        f"{words}a key idea at 40% – {words}"
    )
    assert parsed and max(map(len, parsed)) < 40


# LaTeX that makes a macro take odd arguments (a math shift, a bracket), each followed by plain words or by more LaTeX.
LATEX_PIECES = st.sampled_from(
    ["{", "}", "$", "$$", "\\(", "\\)", "\\[", "\\]", "[", "]", "\\textbf{", "\\emph{", "\\sqrt", "\\sqrt[3]{x}",
     "\\frac", "\\frac{a}", "\\newenvironment", "\\\\[2pt]", "\\item[", "\\'", '\\"', "\\alpha", "\\alphaé", "\\ss",
     "\\~", "\\}", "$\\frac$", "\\textbf$", "\\mathcal{O}(n)$", "\\frac]", "\\sqrt$", "\\textit \\footnote[", "\\\\[",
     "``", "''", "--", "---", "~", "!`", "'", "-", "!", "?"]
)
WORDS = st.sampled_from(
    ["", " ", "\n", "\n\n", "\u00a0", "é", "x²", "Ⅻ", "a", "ab", "plain words of an abstract",
     "state-of-the-art models", "it's a model's", "(LLMs)"]
)


@settings(max_examples=2000, deadline=None, derandomize=True, database=None)
@given(st.lists(st.tuples(LATEX_PIECES, WORDS).map("".join), max_size=14).map("".join))
# \frac takes the `]`: the optional argument of \\ runs on to the end
@example("\\\\[a \\frac] plain words of an abstract")
@example("$\\sqrt$ plain words $x$ more plain words")  # \sqrt takes the `$`: the math closes only at the second
def test_shrinking_plain_runs_never_changes_what_the_latex_parser_gives(text):
    from paperlake.latex import _converter, _parser_context, flatten_deep_latex, latex_nodes_to_text

    balanced = flatten_deep_latex(text)  # the structure latex_to_text hands the parser
    assert latex_nodes_to_text(balanced) == _converter().latex_to_text(balanced, latex_context=_parser_context())


def test_a_url_placeholder_in_the_input_is_kept_as_it_is():
    # the private-use characters that stand in for URLs, held by the input itself, raised IndexError
    # (a failed partition)
    assert clean_text("text \ue0000\ue001 end") == "text \ue0000\ue001 end"
