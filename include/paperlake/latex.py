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
# A macro or line break `\\` (with the `[` of a possible optional argument), an escaped character, a math shift,
# a brace, `]`.
_TOKEN = re.compile(r"(\\[A-Za-z]+|\\\\)(\s*\[)?|\\.?|\$\$?|[{}\]]", re.S)
_OPENER_OF = {"}": "{", "\\)": "\\(", "\\]": "\\[", "]": "[", "$": "$", "$$": "$$"}
# What pylatexenc reads as more than characters to copy: macros, groups, math, comments, and the specials & ~ `` '' --.
_PARSER_MARKUP = re.compile(r"[\\{}$%&~`]|''|--")
# Comments, environments and the macro whose argument pylatexenc reads raw.
_RAW_MARKUP = re.compile(r"%|\\(?:begin|end|verb)")
# A macro (letters and more: `_macro_name` cuts it as pylatexenc does), an escaped character, a math shift,
# a brace, a bracket.
_STRUCTURE = re.compile(r"\\(?:[^\W\d_]+|.)?|\$\$?|[{}\[\]]", re.S)
_MATH = {"$": "$", "$$": "$$", "\\(": "\\)", "\\[": "\\]"}
# At least 8 characters pylatexenc never reads as LaTeX, with whitespace or one -, ', ! or ? between them
# (never -- or '').
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
    """pylatexenc's text for `text` (math as text, loose spaces); a macro missing an argument gives the ones it has."""
    if not _PARSER_MARKUP.search(text) and not text.isspace():
        return text  # one run of characters, which pylatexenc copies through (unless it is only spaces)
    shrunk, runs = shrink_plain_runs(text)
    converted = _converter().latex_to_text(shrunk, latex_context=_parser_context())
    if not runs:
        return converted
    pieces = converted.split(_RUN)
    return "".join(piece for pair in zip(pieces, [*runs, ""]) for piece in pair)


def shrink_plain_runs(text: str) -> tuple[str, list[str]]:
    """`text` with each run of plain words pylatexenc would copy through replaced by one placeholder; the runs.

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
    """A macro as plain text: a text macro leaves its argument alone, a line break a space, others keep their name."""
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
        spec.macroname
        for spec in _converter().latex_context.iter_macro_specs()
        if spec.simplify_repl is None and not spec.discard
    )


@functools.cache
def _optional_argument_macros() -> frozenset[str]:
    """Macros pylatexenc's parser gives an optional `[...]` argument (`\\sqrt`, `\\footnote`, `\\item`, ...)."""
    return frozenset(
        spec.macroname
        for spec in _parser_context().iter_macro_specs()
        if "[" in getattr(spec.args_parser, "argspec", "")
    )


def is_known_macro(name: str) -> bool:
    """Whether pylatexenc's converter has a rule for the macro `\\name`."""
    return _converter().latex_context.get_macro_spec(name) is not None


@functools.cache
def _argument_count(macro: str) -> int:
    """How many arguments pylatexenc may give `\\macro`, optional ones and a star included (none if unknown)."""
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


# --- TeX-aware reading: escapes, then math by TeX's own delimiters, then text macros -------------------------------

# In text: a grave or tilde accent on a letter (`\\`e`, `\\~{n}`: not a quote or a space), TeX's opening quotes, a line
# break `\\`, a control space, an escaped character, a math delimiter, a macro, a special character, a placeholder.
_TEXT_TOKEN = re.compile(r"\\[`~](?=\{?[^\W\d_])|``|`|\\\\|\\\s|\\[$%&_#{}]|\$\$?|\\[()\[\]]|\\[A-Za-z]+|[%&~]|\uE011")
# Escaped characters as plain text: braces become small ones (U+FE5B, U+FE5C), which no reading takes for TeX groups
# (full-width ones would not do: ftfy turns them back into ASCII).
ESCAPED_CHARACTERS = {"\\$": "$", "\\%": "%", "\\&": "&", "\\_": "_", "\\#": "#", "\\{": "\ufe5b", "\\}": "\ufe5c"}
# Accent commands named by a character that is also TeX markup on its own (a quote, a non-breaking space).
_ACCENTS_LIKE_SPECIALS = ("\\`", "\\~")
# Spacing commands, in text.
_TEXT_SPACE_MACROS = frozenset("thinspace enspace enskip quad qquad medspace thickspace negthinspace".split())
# Commands that make a letter of the word they stand in (`\L ojasiewicz` is Łojasiewicz), so the space after them goes.
_LETTER_MACROS = frozenset("L l o O ss ae AE oe OE aa i j".split())
_SPACE_THEN_WORD = re.compile(r"[ \t\n]+[^\W\d_]")
_DOLLAR_OR_BRACE = re.compile(r"\\.|[{}$]", re.S)
_PROSE_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}(?![A-Za-z])")
_MATH_CLOSER = {"$": "$", "$$": "$$", "\\(": "\\)", "\\[": "\\]"}
# A rendered piece (math, a literal character) stands in the text the text-macro converter reads as these characters.
_PIECE = "\uE011{}\uE012"
# The converter may put an accent of the text before a piece between its first character and its number.
_PIECE_AT = re.compile("\uE011([\u0300-\u036f]*)(\\d+)\uE012")


def tex_to_text(text: str) -> str:
    """TeX to plain text in one left-to-right reading: escapes, math (paired by TeX's delimiters), then text macros.

    A `$` stays a dollar only when escaped or when it cannot pair (see `math_closer`); math is rendered
    readable (`render_math`); the text around it goes to pylatexenc for accents, text macros and quotes.
    Unknown macros keep their name; `%` and `&` are literal; a `~` before a number is "approximately".
    """
    out: list[str] = []
    pieces: list[str] = []

    def piece(rendered: str) -> str:
        pieces.append(rendered)
        return _PIECE.format(len(pieces) - 1)

    position = 0
    while token := _TEXT_TOKEN.search(text, position):
        out.append(text[position : token.start()])
        word, position = token.group(), token.end()
        if word in ESCAPED_CHARACTERS:
            out.append(piece(ESCAPED_CHARACTERS[word]))
        elif word in _MATH_CLOSER:
            end = math_closer(text, token.start(), word)
            if end is not None:
                rendered = minus_beside_hyphen(render_math(text[position:end]), text[token.start() - 1 : token.start()],
                                               text[end + len(_MATH_CLOSER[word]) :][:1])
                out.append(piece(rendered if word in ("$", "\\(") else f" {rendered} "))  # display math stands apart
                position = end + len(_MATH_CLOSER[word])
            elif word.startswith("$"):  # a dollar that cannot pair: money
                out.append(piece("$"))
                position = token.start() + 1
            else:
                out.append(word)  # an unclosed \( or \[: structure the converter drops
        elif word in _ACCENTS_LIKE_SPECIALS or word == "``":
            out.append(word)  # the converter's: an accent (`\\`e` is è), an opening double quote
        elif word == "`":
            out.append(piece("‘"))  # an opening single quote; a later reading would pair a kept ` as Markdown code
        elif word[1:].isspace():
            out.append(piece(" "))  # a control space (`\\AA\\` at the end of a line)
        elif word == "\\\\" or word in ("\\)", "\\]"):
            out.append(word)
        elif word[1:] in _TEXT_SPACE_MACROS:
            out.append(" ")
        elif word.startswith("\\"):
            name = word[1:]
            if not is_known_macro(name):
                out.append(piece(name))  # a piece: `\\gamma\\gravitino` is not `\\gammagravitino`
            elif name not in _LETTER_MACROS and _argument_count(name) == 0 and _SPACE_THEN_WORD.match(text, position):
                out.append(word + "{}")  # `\pi scattering`, `8617 \AA and`: the space TeX would swallow is the author's
            else:
                out.append(word)
        elif word == "~":
            before, after = text[token.start() - 1 : token.start()], text[position : position + 1]
            out.append(piece("~") if after.isdigit() else " " if before and not before.isspace() else "~")
        else:  # % & and a placeholder character the text itself holds
            out.append(piece(word))
    out.append(text[position:])
    converted = latex_nodes_to_text(flatten_deep_latex("".join(out)))
    if pieces:
        converted = _PIECE_AT.sub(
            lambda m: (pieces[int(m.group(2))] if int(m.group(2)) < len(pieces) else "") + m.group(1), converted
        )
    return separate_literal_dollars(converted)


def minus_beside_hyphen(rendered: str, before: str, after: str) -> str:
    """Math's minus as `−` where it touches a text hyphen (`$-36$-$-23$`): `-` beside `-` would read as a dash."""
    if before == "-" and rendered.startswith("-"):
        rendered = "\u2212" + rendered[1:]
    if after == "-" and rendered.endswith("-"):
        rendered = rendered[:-1] + "\u2212"
    return rendered


def math_closer(text: str, start: int, opener: str) -> int | None:
    """Where the math opened by `opener` at `start` closes, or None when it does not pair.

    `\\(` and `\\[` close at the next `\\)`, `\\]`; `$$` at the next `$$`. A `$` closes at the next unescaped `$`,
    and pairs only when the math reads as math: content with a space at one end only (`$ v$`) holds a TeX
    command or no word of prose (`$5 and $6` is money; `$ Mod(G) $` is math); and math that begins with a digit and
    closes before a digit needs a command inside (`$2\\sigma$10` is math, `$5-$10` money; `$-$10` and `$\\sim$10`
    are math). MathJax on arXiv pairs the same way, and a dollar in money is written `\\$` there.
    """
    closer = _MATH_CLOSER[opener]
    content_start = start + len(opener)
    if opener != "$":
        end = text.find(closer, content_start)
        return end if end > content_start else None
    end = _dollar_at_depth_zero(text, content_start)
    if end is None or end == content_start:
        return None
    content = text[content_start:end]
    has_command = "\\" in content
    if content.isspace():
        return None
    if not has_command and content[0].isspace() != content[-1].isspace() and _PROSE_WORD.search(content):
        return None  # `$5 and $6`
    if text[end + 1 : end + 2].isdigit() and content[0].isdigit() and not has_command:
        return None  # `$5-$10`
    return end


def literal_dollars(text: str) -> int:
    """How many dollars a reading of `text` keeps as dollars (escaped, or unable to pair)."""
    count = 0
    position = 0
    while token := _TEXT_TOKEN.search(text, position):
        word, position = token.group(), token.end()
        if word == "\\$":
            count += 1
        elif word in _MATH_CLOSER:
            if (end := math_closer(text, token.start(), word)) is not None:
                position = end + len(_MATH_CLOSER[word])
            elif word.startswith("$"):
                count, position = count + 1, token.start() + 1
    return count


def _dollar_at_depth_zero(text: str, start: int) -> int | None:
    """The next unescaped `$` from `start` outside the groups opened after it (`\\text{of $j$-cycles}` holds math of
    its own); the next unescaped `$` at all when the groups never close."""
    depth, first, position = 0, None, start
    while match := _DOLLAR_OR_BRACE.search(text, position):
        mark, position = match.group(), match.end()
        if mark.startswith("\\"):
            continue
        if mark == "{":
            depth += 1
        elif mark == "}":
            depth = max(depth - 1, 0)
        elif mark == "$":
            first = match.start() if first is None else first
            if depth == 0:
                return match.start()
    return first


def find_math(text: str) -> list[tuple[int, int]]:
    """(start, end) of every math span a reading of `text` would find (cleaned text should hold none)."""
    spans = []
    position = 0
    while token := _TEXT_TOKEN.search(text, position):
        word, position = token.group(), token.end()
        if word in _MATH_CLOSER and (end := math_closer(text, token.start(), word)) is not None:
            position = end + len(_MATH_CLOSER[word])
            spans.append((token.start(), position))
    return spans


def separate_literal_dollars(text: str) -> str:
    """Two dollars of the output that a second reading would pair as math: the closing one becomes a small dollar sign.

    So cleaning the output changes nothing (`\\$x\\$` -> `$x﹩`). U+FE69 is NFKC-equal to `$`, and ftfy leaves it be;
    money such as `$5 and $6` never pairs, so it is left as it is.
    """
    if text.count("$") < 2:
        return text
    for start, end in reversed(find_math(text)):
        mark = 2 if text.startswith("$$", start) else 1
        text = text[: end - mark] + "\ufe69" * mark + text[end:]
    return text


# --- math to readable plain text ------------------------------------------------------------------------------------

_MATH_TOKEN = re.compile(r"\\[A-Za-z]+\*?|\\.|[{}^_]|\s+|[^\\{}^_\s]", re.S)
# Commands whose argument is shown as plain text.
_TEXT_FONT = frozenset(
    "mathrm text textrm textnormal textit textbf textsf texttt mathbf mathit mathsf mathtt mathcal mathscr mathfrak "
    "boldsymbol bm mbox hbox operatorname mathnormal emph".split()
)
# Font switches (`{\rm PDG}`) and sizing/spacing commands that show nothing.
_SILENT = frozenset(
    "rm it bf sf tt cal em mit scriptstyle displaystyle textstyle scriptscriptstyle left right "
    "big Big bigg Bigg bigl bigr "
    "Bigl Bigr biggl biggr middle limits nolimits notag nonumber label".split()
)
_SPACES = {"\\,": " ", "\\;": " ", "\\:": " ", "\\ ": " ", "\\!": "", "\\quad": " ", "\\qquad": " ", "~": " "}
_ACCENTS = {
    "hat": "\u0302",
    "widehat": "\u0302",
    "bar": "\u0304",
    "overline": "\u0304",
    "tilde": "\u0303",
    "widetilde": "\u0303",
    "vec": "\u20d7",
    "dot": "\u0307",
    "ddot": "\u0308",
    "check": "\u030c",
    "breve": "\u0306",
    "acute": "\u0301",
    "grave": "\u0300",
}
_SUPERSCRIPT = dict(
    zip("0123456789+-=()ni\u2212abcdefghijklmoprstuvwxyz", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱ⁻ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐᵒᵖʳˢᵗᵘᵛʷˣʸᶻ")
)
_SUPERSCRIPT.update({"′": "′", "″": "″", "∗": "∗", "†": "†", "‡": "‡", "∘": "°", "°": "°"})
# Characters and commands whose plain-text rendering a later reading would take for markup: `*` (Markdown), `'` and
# `--` (TeX quotes and dashes), `\\` (a command) get their mathematical characters.
_MATH_CHARACTERS = {"*": "∗", "'": "′"}
_MATH_OVERRIDES = {"backslash": "∖", "setminus": "∖", "ast": "∗", "prime": "′"}
_MATH_DASHES = (("---", "—"), ("--", "–"))
_DOUBLE_STRUCK = dict(zip("CHNPQRZ", "ℂℍℕℙℚℝℤ"))
_SUBSCRIPT = dict(zip("0123456789+-=()" "\u2212aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎" "₋ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"))


def render_math(content: str) -> str:
    """Math as readable plain text: symbols as Unicode, font commands as their text, scripts as Unicode if they exist.

    `H$_2$O` -> H₂O, `x^{2}` -> x², `fb$^{-1}$` -> fb⁻¹, `^{\\rm PDG}` -> ^PDG, `e^{i\\pi t}` -> e^(iπt),
    `\\frac{a}{b}` -> a/b, `\\sqrt{x}` -> √x, `\\{0,1\\}` -> ﹛0,1﹜. Spaces are kept as written, trimmed at the ends.
    """
    tokens = _MATH_TOKEN.findall(content)
    text, _ = _render_math_tokens(tokens, 0, closing=None)
    for dashes, dash in _MATH_DASHES:
        text = text.replace(dashes, dash)
    return " ".join(text.split())


def _render_math_tokens(tokens: list[str], index: int, closing: str | None) -> tuple[str, int]:
    """Render tokens from `index` up to the `}` that closes this group (or the end); the text and the index after."""
    out: list[str] = []
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if (
            token.isspace()
            and index >= 2
            and tokens[index - 2][1:].rstrip("*").isalpha()
            and tokens[index - 2][0] == "\\"
        ):
            # the space that ends a command's name is TeX's, not the author's, unless one stands before the command
            # too, or the command is a word (`\\log n` is log n, `\\le p` is ≤p)
            rendered = out[-1] if out else ""
            if not (index >= 3 and tokens[index - 3].isspace()) and not (
                rendered[-1:].isascii() and rendered[-1:].isalpha()
            ):
                continue
        if token == "}":
            if closing:
                break
            continue  # a closer with nothing to close
        if token == "{":
            text, index = _render_math_tokens(tokens, index, closing="}")
            out.append(text)
        elif token in ("^", "_"):
            atom, index = _math_atom(tokens, index)
            script = _script(atom, superscript=token == "^")
            before = "".join(out)[-1:]
            if script.startswith("_") and not before.isalnum():
                script = script[1:]  # `\\sum_{k,l}` is ∑(k,l): a `_` after a symbol would open Markdown emphasis
            out.append(script)
        elif token in _SPACES:
            out.append(_SPACES[token])
        elif token.isspace():
            out.append(" ")
        elif token.startswith("\\") and len(token) > 1 and token[1].isalpha():
            name = token[1:].rstrip("*")
            if name in _SILENT:
                continue
            if name in _TEXT_FONT:
                atom, index = _math_atom(tokens, index)
                out.append(atom)
            elif name in _ACCENTS:
                atom, index = _math_atom(tokens, index)
                out.append(atom + _ACCENTS[name] if len(atom) == 1 else atom)
            elif name in ("frac", "dfrac", "tfrac", "cfrac", "binom"):
                numerator, index = _math_atom(tokens, index)
                denominator, index = _math_atom(tokens, index)
                out.append(
                    f"{_wrap(numerator)}/{_wrap(denominator)}" if name != "binom" else f"C({numerator},{denominator})"
                )
            elif name == "sqrt":
                degree = ""
                if index < len(tokens) and tokens[index] == "[":
                    end = tokens.index("]", index) if "]" in tokens[index:] else index
                    degree, index = "".join(tokens[index + 1 : end]), end + 1
                atom, index = _math_atom(tokens, index)
                out.append(_script(degree, superscript=True) if degree else "")
                out.append("√" + _wrap(atom))
            elif name in ("mathbb", "Bbb"):
                atom, index = _math_atom(tokens, index)
                out.append("".join(_DOUBLE_STRUCK.get(char, char) for char in atom))
            elif name in ("begin", "end"):
                _, index = _math_atom(tokens, index)
            else:
                out.append(_MATH_OVERRIDES.get(name) or _math_symbol(name))
        elif token.startswith("\\"):
            out.append(ESCAPED_CHARACTERS.get(token, token[1:]) if token != "\\\\" else " ")
        elif token == "&":
            out.append(" ")
        elif token == "$":
            continue  # math inside `\\text{...}` within math
        elif token in _MATH_CHARACTERS:
            out.append(_MATH_CHARACTERS[token])
        else:
            out.append(token)
    return "".join(out), index


def _math_atom(tokens: list[str], index: int) -> tuple[str, int]:
    """The next argument: a `{...}` group or one token (spaces before it skipped), rendered."""
    while index < len(tokens) and tokens[index].isspace():
        index += 1
    if index >= len(tokens):
        return "", index
    if tokens[index] == "{":
        text, index = _render_math_tokens(tokens, index + 1, closing="}")
        return " ".join(text.split()), index
    text, _ = _render_math_tokens(tokens[index : index + 1], 0, closing=None)
    return text, index + 1


def _script(text: str, superscript: bool) -> str:
    """A sub- or superscript in Unicode if each character has one, else `^x`/`_x`, or `^(...)` around over a word."""
    table = _SUPERSCRIPT if superscript else _SUBSCRIPT
    if text and all(char in table for char in text):
        return "".join(table[char] for char in text)
    if text in ("∘", "°"):
        return "°"
    mark = "^" if superscript else "_"
    return mark + text if text.isalnum() or len(text) <= 1 else f"{mark}({text})"


def _wrap(text: str) -> str:
    """Parentheses around more than one symbol, so `a+b` over `c` reads (a+b)/c."""
    return text if len(text) <= 1 or text.isalnum() else f"({text})"


@functools.cache
def _math_symbol(name: str) -> str:
    """pylatexenc's Unicode for the math command `\\name` (`\\le` -> ≤); an unknown command keeps its name."""
    if not is_known_macro(name):
        return name
    # an empty argument, so that a command taking one does not take the closing `$`; the argument follows as math
    rendered = _converter().latex_to_text(f"${chr(92)}{name}{{}}$", latex_context=_parser_context()).strip()
    return rendered if rendered else ""
