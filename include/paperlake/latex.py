"""LaTeX to text with pylatexenc, bounded so that no abstract can exhaust the stack or the clock.

pylatexenc recurses once per nesting level (RecursionError near 150 levels), backtracks
exponentially over nested groups that never close (`\\frac{` or `\\footnote[` repeated: seconds at 12
levels), and some of its replacements fail when a macro lacks an argument (`\\sqrt` at the end,
`\\href`). So one linear scan first hands it only balanced structure, at most MAX_LATEX_DEPTH deep
(real abstracts nest fewer than 10 levels), and its converter reads a macro missing an argument.

pylatexenc also reads text one character at a time (about 9 µs each), so it sees only the LaTeX: a
run of plain words it would copy through unchanged reaches it as one placeholder character.
"""

from __future__ import annotations

import functools
import re

MAX_LATEX_DEPTH = 32
# A macro or line break `\\` (with the `[` of a possible optional argument), an escaped character, a math shift, a brace, `]`.
_TOKEN = re.compile(r"(\\[A-Za-z]+|\\\\)(\s*\[)?|\\.?|\$\$?|[{}\]]", re.S)
_OPENER_OF = {"}": "{", "\\)": "\\(", "\\]": "\\[", "]": "[", "$": "$", "$$": "$$"}
# What pylatexenc reads as more than characters to copy: macros, groups, math, comments, and the specials & ~ `` '' --.
_PARSER_MARKUP = re.compile(r"[\\{}$%&~`]|''|--")
# Comments, environments and the macro whose argument pylatexenc reads raw.
_RAW_MARKUP = re.compile(r"%|\\(?:begin|end|verb)")
# A macro (letters and more: `_macro_name` cuts it as pylatexenc does), an escaped character, a math shift, a brace, a bracket.
_STRUCTURE = re.compile(r"\\(?:[^\W\d_]+|.)?|\$\$?|[{}\[\]]", re.S)
_MATH = {"$": "$", "$$": "$$", "\\(": "\\)", "\\[": "\\]"}
# At least 8 characters pylatexenc never reads as LaTeX, with whitespace or one -, ', ! or ? (never -- or '') between them.
_PLAIN = r"[^\s\\{}$%&~`'\-!?\[\]#^_\uE000-\uF8FF]"
_PLAIN_RUN = re.compile(rf"{_PLAIN}(?:(?:\s+|[-'!?])?{_PLAIN}){{7,}}")
# At least as much text as one argument a macro takes outside braces: a character or a special (`---` at most).
_ARGUMENT_UNIT = re.compile(r"\s*\S{1,3}")
_RUN = "\uE010"  # stands for one plain run in the text pylatexenc reads


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
    if not _PARSER_MARKUP.search(text) and not text.isspace():
        return text  # one run of characters, which pylatexenc copies through (unless it is only spaces)
    shrunk, runs = shrink_plain_runs(text)
    converted = _converter().latex_to_text(shrunk, latex_context=_parser_context())
    if not runs:
        return converted
    pieces = converted.split(_RUN)
    return "".join(piece for pair in zip(pieces, [*runs, ""]) for piece in pair)


def shrink_plain_runs(text: str) -> tuple[str, list[str]]:
    """`text` with each run of plain words that pylatexenc would copy through unchanged replaced by one placeholder; the runs.

    A run qualifies outside every group, bracket and math, once the arguments a macro could take
    from it are past, and holds no character pylatexenc reads as LaTeX, nor a `--` or `''`. A macro
    can take a math shift or a bracket as its argument, so text where one might is left whole; so is
    text with raw arguments (`\\verb`), environments or comments.
    """
    if _RUN in text or _RAW_MARKUP.search(text):
        return text, []
    out: list[str] = []
    runs: list[str] = []
    braces = brackets = 0
    math = ""  # the delimiter of the open math, if any
    arguments: dict[int, int] = {}  # per brace depth: how many more arguments a macro there may still take
    position = 0
    while True:
        token = _STRUCTURE.search(text, position)
        end = token.start() if token else len(text)
        while arguments.get(braces) and (unit := _ARGUMENT_UNIT.match(text, position, end)):
            out.append(unit.group())
            position = unit.end()
            arguments[braces] -= 1
        if braces == brackets == 0 and not math and not arguments.get(0):
            for run in _PLAIN_RUN.finditer(text, position, end):
                out += [text[position : run.start()], _RUN]
                runs.append(run.group())
                position = run.end()
        out.append(text[position:end])
        if token is None:
            break
        word = _macro_name(token.group())
        taken = bool(arguments.get(braces))  # this token may be an argument of a macro before it
        if taken:
            arguments[braces] -= 1
        if word == "{":
            braces += 1
        elif word == "}":
            arguments.pop(braces, None)
            braces -= 1
        elif taken and (word in _MATH or word in _MATH.values() or word in ("[", "]")):
            return text, []
        elif word == "[":
            brackets += 1
        elif word == "]":
            brackets = max(brackets - 1, 0)
        elif math and word == _MATH[math]:
            math = ""
        elif not math and word in _MATH:
            math = word
        elif math == "$" and word == "$$":
            return text, []  # pylatexenc reads two `$` here, the first closing the math
        elif word in _MATH or word in _MATH.values():
            return text, []  # nested math, or a closer with nothing to close
        else:  # a macro or an escaped character
            arguments[braces] = arguments.get(braces, 0) + _argument_count(word[1:])
        if braces < 0:
            return text, []
        out.append(word)
        position = end + len(word)
    return "".join(out), runs


def _macro_name(word: str) -> str:
    """A structure token cut where pylatexenc ends a macro name: at the first character that is not `str.isalpha`."""
    if not word[1:2].isalpha():
        return word
    length = 2
    while length < len(word) and word[length].isalpha():
        length += 1
    return word[:length]


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
    return frozenset(
        spec.macroname for spec in _converter().latex_context.iter_macro_specs() if spec.simplify_repl is None and not spec.discard
    )


@functools.cache
def _optional_argument_macros() -> frozenset[str]:
    """Macros pylatexenc's parser gives an optional `[...]` argument (`\\sqrt`, `\\footnote`, `\\item`, ...)."""
    return frozenset(
        spec.macroname for spec in _parser_context().iter_macro_specs() if "[" in getattr(spec.args_parser, "argspec", "")
    )


def is_known_macro(name: str) -> bool:
    """Whether pylatexenc's converter has a rule for the macro `\\name`."""
    return _converter().latex_context.get_macro_spec(name) is not None


@functools.cache
def _argument_count(macro: str) -> int:
    """How many arguments pylatexenc's parser may give `\\macro`, optional ones and a star included (none if unknown)."""
    spec = _parser_context().get_macro_spec(macro)
    return len(getattr(spec.args_parser, "argspec", "")) if spec else 0


@functools.cache
def _parser_context():
    """pylatexenc's parser database (built anew by each parser it is not handed to: about a millisecond)."""
    from pylatexenc.latexwalker import get_default_latex_context_db

    return get_default_latex_context_db()


@functools.cache
def _converter():
    from pylatexenc.latex2text import LatexNodes2Text

    class TolerantLatexNodes2Text(LatexNodes2Text):
        def macro_node_to_text(self, node):
            try:
                return super().macro_node_to_text(node)
            except (KeyError, IndexError, TypeError, AttributeError):
                # pylatexenc's replacement indexes an argument the parser did not find: keep the last one there is
                arguments = [arg for arg in (node.nodeargd.argnlist if node.nodeargd else []) if arg is not None]
                return self.nodelist_to_text(arguments[-1:])

    return TolerantLatexNodes2Text(math_mode="text", strict_latex_spaces=False)
