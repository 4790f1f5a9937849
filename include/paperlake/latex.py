"""LaTeX to text with pylatexenc, bounded so that no abstract can exhaust the stack or the clock.

pylatexenc recurses once per nesting level (RecursionError near 150 levels), backtracks
exponentially over nested groups that never close (`\\frac{` or `\\footnote[` repeated: seconds at 12
levels), and some of its replacements fail when a macro lacks an argument (`\\sqrt` at the end,
`\\href`). So one linear scan first hands it only balanced structure, at most MAX_LATEX_DEPTH deep
(real abstracts nest fewer than 10 levels), and its converter reads a macro missing an argument.
"""

from __future__ import annotations

import functools
import re

MAX_LATEX_DEPTH = 32
# A macro or line break `\\` (with the `[` of a possible optional argument), an escaped character, a math shift, a brace, `]`.
_TOKEN = re.compile(r"(\\[A-Za-z]+|\\\\)(\s*\[)?|\\.?|\$\$?|[{}\]]", re.S)
_OPENER_OF = {"}": "{", "\\)": "\\(", "\\]": "\\[", "]": "[", "$": "$", "$$": "$$"}


def flatten_deep_latex(text: str, max_depth: int = MAX_LATEX_DEPTH) -> str:
    """`text` with only balanced LaTeX structure, at most `max_depth` groups deep; the rest as plain text.

    A group that never closes, a closer with nothing to close and anything nested deeper than
    `max_depth` lose their braces and math shifts; there a text macro (`\\textbf`) gives way to its
    argument and another macro keeps its name (`\\alpha` -> alpha). Linear in the length of `text`.
    """
    out: list[str] = []
    # Open groups, innermost last: (opener, index of its text in `out` or None when flattened, its plain text).
    stack: list[tuple[str, int | None, str]] = []
    # Only spaces and dropped structure since the last macro: pylatexenc would give the macro what comes
    # next (`\alpha}x` is not `\alphax`), so what is dropped there leaves an empty group instead.
    after_macro = False
    position = 0
    for token in _TOKEN.finditer(text):
        gap = text[position : token.start()]
        out.append(gap)
        position = token.end()
        after_macro = after_macro and (not gap or gap.isspace())
        dropped = "{}" if after_macro else ""
        word, macro, bracket = token.group(), token.group(1), token.group(2)
        flattened, kept = len(stack) > max_depth, len(stack) < max_depth  # inside flattened text; a new group kept
        if macro and bracket and macro[1:] in _optional_argument_macros():
            stack.append(("[", len(out) if kept else None, " " + _plain_macro(macro) + bracket))
            piece = word if kept else stack[-1][2]
        elif macro:
            piece = _plain_macro(macro) + (bracket or "") if flattened else word
        elif word in _OPENER_OF and stack and stack[-1][0] == _OPENER_OF[word]:  # closes the innermost group only
            piece = word if stack.pop()[1] is not None else _plain_character(word) or dropped
        elif word in ("{", "\\(", "\\[", "$", "$$"):
            stack.append((word, len(out) if kept else None, dropped))
            piece = word if kept else dropped
        elif word in _OPENER_OF:  # a closer with nothing to close
            piece = _plain_character(word) or dropped
        else:  # an escaped character
            piece = _plain_character(word) or dropped if flattened else word
        out.append(piece)
        after_macro = (piece.startswith("\\") and not piece.endswith("[")) or (after_macro and not piece)
    out.append(text[position:])
    for _, index, plain in stack:  # never closed: pylatexenc would backtrack over it, exponentially when nested
        if index is not None:
            out[index] = plain
    return "".join(out)


def latex_nodes_to_text(text: str) -> str:
    """pylatexenc's text for `text` (math as text, loose spaces), where a macro missing an argument gives the arguments it has."""
    return _tolerant_converter_class()(math_mode="text", strict_latex_spaces=False).latex_to_text(text)


def _plain_macro(macro: str) -> str:
    """A macro as plain text: a text macro leaves its argument alone, a line break is a space, another macro keeps its name."""
    if macro == "\\\\":
        return " "
    return "" if macro[1:] in _text_macros() else macro[1:]


def _plain_character(word: str) -> str:
    """A closer or an escaped character as plain text: the character, unless it is LaTeX structure (`]` is not)."""
    char = word[1:] if word.startswith("\\") else word
    return char if word == "]" or (char and char not in "{}$\\()[]") else ""


@functools.cache
def _text_macros() -> frozenset[str]:
    """Macros pylatexenc replaces by their argument's text (`\\textbf`, `\\emph`, ...)."""
    from pylatexenc.latex2text import get_default_latex_context_db

    db = get_default_latex_context_db()
    return frozenset(
        spec.macroname for spec in db.iter_macro_specs() if spec.simplify_repl is None and not spec.discard
    )


@functools.cache
def _optional_argument_macros() -> frozenset[str]:
    """Macros pylatexenc's parser gives an optional `[...]` argument (`\\sqrt`, `\\footnote`, `\\item`, ...)."""
    from pylatexenc.latexwalker import get_default_latex_context_db

    db = get_default_latex_context_db()
    return frozenset(
        spec.macroname for spec in db.iter_macro_specs() if "[" in getattr(spec.args_parser, "argspec", "")
    )


@functools.cache
def _tolerant_converter_class():
    from pylatexenc.latex2text import LatexNodes2Text

    class TolerantLatexNodes2Text(LatexNodes2Text):
        def macro_node_to_text(self, node):
            try:
                return super().macro_node_to_text(node)
            except (KeyError, IndexError, TypeError, AttributeError):
                # pylatexenc's replacement indexes an argument the parser did not find: keep the last one there is
                arguments = [arg for arg in (node.nodeargd.argnlist if node.nodeargd else []) if arg is not None]
                return self.nodelist_to_text(arguments[-1:])

    return TolerantLatexNodes2Text
