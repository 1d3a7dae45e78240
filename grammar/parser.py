"""Parse .stitch text into the AST; syntax errors become diagnostics with a location."""

from __future__ import annotations

import functools
import os

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from stitchc.passes.rules.expr import ArrayList, AttrVar, BinOp, Call, Const, Name, UnaryOp, Var
from stitchc.passes.rules.statements import Assign, AttrItem, Forward, Operand, OpStatement

from . import ast
from .diagnostics import Diagnostic, SpecError, point_span
from .nesting import bracket_depth_error, tree_depth_error

READABLE = {
    "NAME": "a name",
    "STRING": "a string",
    "INT": "an integer",
    "SIGNED_NUMBER": "a number",
    "DIRECTION": "maximize/minimize",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "EQUAL": "'='",
    "COMMA": "','",
    "DOT": "'.'",
    "SEMICOLON": "';'",
    "$END": "end of file",
    "VAR": "a %value",
    "ATTRVAR": "an $attribute",
    "NUMBER": "a number",
    "CMP": "a comparison",
    "OPTIONAL": "'?'",
    "VBAR": "'|'",
    "COLON": "':'",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "STAR": "'*'",
    "SLASH": "'/'",
}
BINARY = {"or_": "or", "and_": "and", "add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}


@functools.lru_cache(maxsize=1)
def _lark() -> Lark:
    path = os.path.join(os.path.dirname(__file__), "stitch.lark")
    with open(path, encoding="utf-8") as handle:
        return Lark(handle.read(), parser="lalr", propagate_positions=True, maybe_placeholders=False)


def _span(meta) -> ast.Span:
    return ast.Span(meta.line, meta.column, meta.end_line, meta.end_column)


def _token_span(token: Token) -> ast.Span:
    return ast.Span(token.line, token.column, token.end_line, token.end_column)


@v_args(meta=True)
class _ToAst(Transformer):
    def __init__(self, file: str, source: str):
        super().__init__()
        self.file, self.source = file, source

    def start(self, meta, children):
        return ast.Module(self.file, self.source, children[0], tuple(children[1:]))

    def header(self, meta, children):
        return ast.Header(int(children[0]), _span(meta))

    def data_decl(self, meta, children):
        return ast.DataDecl(str(children[0]), children[1], _token_span(children[0]))

    def metric_decl(self, meta, children):
        return ast.MetricDecl(str(children[0]), children[1], _token_span(children[0]))

    def model_decl(self, meta, children):
        return ast.ModelDecl(str(children[0]), children[1], _token_span(children[0]))

    def stitch_decl(self, meta, children):
        name, left, right, entries = children
        return ast.StitchDecl(str(name), _name_ref(left), _name_ref(right), entries, _token_span(name))

    def search_decl(self, meta, children):
        name, *over, entries = children
        return ast.SearchDecl(str(name), tuple(_name_ref(o) for o in over), entries, _token_span(name))

    def export_decl(self, meta, children):
        what, path, fmt = children
        return ast.ExportDecl(what, self.string(None, [path]), _name_ref(fmt), _span(meta))

    def import_decl(self, meta, children):
        return ast.ImportDecl(self.string(None, children), _span(meta))

    def use_decl(self, meta, children):
        return ast.UseDecl(self.string(None, children), _span(meta))

    def pipeline_decl(self, meta, children):
        return ast.PipelineDecl(str(children[0]), children[1], _token_span(children[0]))

    def morphism_decl(self, meta, children):
        return ast.TransformDecl("morphism", str(children[0]), children[1], children[2], _token_span(children[0]))

    def mutation_decl(self, meta, children):
        return ast.TransformDecl("mutation", str(children[0]), children[1], children[2], _token_span(children[0]))

    def params(self, meta, children):
        return tuple(children)

    def param(self, meta, children):
        name, kind, *rest = children
        bounds = rest.pop(0) if rest and isinstance(rest[0], tuple) else None
        default = rest[0] if rest else None
        return ast.Param(str(name), str(kind), _token_span(kind), bounds, default, _token_span(name))

    def range(self, meta, children):
        return tuple(self.number(None, [c]) for c in children)

    def arrow(self, meta, children):
        return ast.Arrow(children[0], children[1], _span(meta))

    def tensor_type(self, meta, children):
        dtype, *dims = children
        return ast.TensorTypeExpr(str(dtype), tuple(dims), _span(meta))

    def dim(self, meta, children):
        token = children[0]
        return int(token) if token.type == "INT" else str(token)

    # ----- rules -------------------------------------------------------------------------------
    def rule_decl(self, meta, children):
        name, (strict, match), *clauses = children
        found = {kind: body for kind, body in clauses}
        return ast.RuleDecl(
            str(name),
            match,
            found.get("where", ()),
            found.get("compute", ()),
            found["rewrite"],
            found.get("ensures"),
            strict,
            _token_span(name),
        )

    def match_clause(self, meta, children):
        strict = bool(children) and isinstance(children[0], Token) and children[0].type == "STRICT"
        return strict, tuple(children[strict:])

    def where_clause(self, meta, children):
        return ("where", tuple(children))

    def compute_clause(self, meta, children):
        return ("compute", tuple(children))

    def rewrite_clause(self, meta, children):
        return ("rewrite", tuple(children))

    def ensures_clause(self, meta, children):
        return ("ensures", children[0])

    def op_stmt(self, meta, children):
        outputs, (ops, op_span), *rest = children
        attrs = rest.pop() if rest and isinstance(rest[-1], list) else []
        items = tuple(a for a in attrs if a is not None)
        return OpStatement(outputs, ops, tuple(rest), items, None in attrs, span=_span(meta), op_span=op_span)

    def forward(self, meta, children):
        return Forward(children[0], Var(str(children[1])[1:], _token_span(children[1])), _span(meta))

    def outputs(self, meta, children):
        return tuple(Var(str(c)[1:], _token_span(c)) for c in children)

    def ops(self, meta, children):
        return tuple(str(c) for c in children), _span(meta)

    def operand(self, meta, children):
        token = children[0]
        if token.type == "VAR":
            return Operand(str(token)[1:], True, len(children) > 1, _span(meta))
        return Operand(str(token), False, False, _span(meta))

    def attrs(self, meta, children):
        return list(children)

    def attr(self, meta, children):
        return AttrItem(str(children[0]), children[1], _token_span(children[0]))

    def attr_rest(self, meta, children):
        return None

    def assign(self, meta, children):
        return Assign(str(children[0]), children[1], _token_span(children[0]))

    # ----- compute expressions -------------------------------------------------------------------
    def __default__(self, data, children, meta):
        if data in BINARY:
            return BinOp(BINARY[data], children[0], children[1], _span(meta))
        return super().__default__(data, children, meta)

    def compare(self, meta, children):
        return BinOp(str(children[1]), children[0], children[2], _span(meta))

    def neg(self, meta, children):
        operand = children[0]
        if isinstance(operand, Const) and not isinstance(operand.value, str):  # `-1` is one literal
            return Const(-operand.value, _span(meta))
        return UnaryOp("-", operand, _span(meta))

    def not_(self, meta, children):
        return UnaryOp("not", children[0], _span(meta))

    def cnum(self, meta, children):
        number = self.number(meta, children)
        return Const(number.value, number.span)

    def cstr(self, meta, children):
        string = self.string(meta, children)
        return Const(string.value, string.span)

    def cvar(self, meta, children):
        return Var(str(children[0])[1:], _token_span(children[0]))

    def cattr(self, meta, children):
        return AttrVar(str(children[0])[1:], _token_span(children[0]))

    def cname(self, meta, children):
        return Name(str(children[0]), _token_span(children[0]))

    def ccall(self, meta, children):
        return Call(str(children[0]), tuple(children[1:]), _span(meta))

    def clist(self, meta, children):
        return ArrayList(tuple(children), _span(meta))

    def block(self, meta, children):
        return tuple(children)

    def entry(self, meta, children):
        key, value = children
        return ast.Entry(str(key), value, _token_span(key))

    def call(self, meta, children):
        func, *args = children
        positional = tuple(a for a in args if not isinstance(a, tuple))
        keywords = {name: (span, value) for name, span, value in (a for a in args if isinstance(a, tuple))}
        return ast.Call(func, positional, keywords, _span(meta))

    def kwarg(self, meta, children):
        name, value = children
        return (str(name), _token_span(name), value)

    def list(self, meta, children):
        return ast.ListExpr(tuple(children), _span(meta))

    def objective(self, meta, children):
        return ast.Objective(str(children[0]), children[1], _span(meta))

    def ref(self, meta, children):
        return ast.Ref(tuple(str(c) for c in children), _span(meta))

    def string(self, meta, children):
        token = children[0]
        return ast.String(str(token)[1:-1], _token_span(token))

    def number(self, meta, children):
        token = children[0]
        text = str(token)
        value = float(text) if any(c in text for c in ".eE") else int(text)
        return ast.Number(value, _token_span(token))


def _name_ref(token: Token) -> ast.Ref:
    return ast.Ref((str(token),), _token_span(token))


def parse(source: str, file: str = "<spec>") -> ast.Module:
    """Parses a spec; raises SpecError with one located diagnostic on a syntax error or too deep a nesting."""
    too_deep = bracket_depth_error(source, file)
    if too_deep is not None:
        raise SpecError([too_deep], source)
    try:
        tree = _lark().parse(source)
    except UnexpectedInput as error:
        raise SpecError([_syntax_diagnostic(error, file, source)], source) from None
    too_deep = tree_depth_error(tree, file)
    if too_deep is not None:
        raise SpecError([too_deep], source)
    try:
        return _ToAst(file, source).transform(tree)
    except VisitError as error:  # a header such as `stitch 1.5` reaches the transformer as a bad INT
        raise SpecError([Diagnostic(file, point_span(1, 1), f"malformed spec ({error.orig_exc})")], source) from None
    except RecursionError:  # the depth bounds above should make this unreachable; never a traceback if not
        raise SpecError([Diagnostic(file, point_span(1, 1), "the spec nests too deeply to read")], source) from None


def parse_file(path: str) -> ast.Module:
    try:
        with open(path, encoding="utf-8") as handle:
            source = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        cause = error.strerror if isinstance(error, OSError) and error.strerror else "not UTF-8 text"
        raise SpecError([Diagnostic(path, point_span(1, 1), f"cannot read spec: {cause.lower()}")]) from None
    return parse(source, path)


def _syntax_diagnostic(error: UnexpectedInput, file: str, source: str) -> Diagnostic:
    if isinstance(error, UnexpectedCharacters):
        return Diagnostic(file, point_span(error.line, error.column), f"unexpected character {error.char!r}")
    if isinstance(error, UnexpectedEOF) or (isinstance(error, UnexpectedToken) and error.token.type == "$END"):
        line, column = _end_position(source)
        return Diagnostic(file, point_span(line, column), f"unexpected end of file; expected {_expected(error)}")
    token = error.token
    return Diagnostic(file, _token_span(token), f"unexpected {_describe(token)}; expected {_expected(error)}")


def _end_position(source: str) -> tuple[int, int]:
    """The position just after the last non-blank character."""
    lines = source.rstrip().splitlines() or [""]
    return len(lines), len(lines[-1]) + 1


def _describe(token: Token) -> str:
    if token.type in ("NAME", "STRING", "INT", "SIGNED_NUMBER"):
        return f"{READABLE[token.type].split(' ', 1)[1]} '{token}'"
    return f"'{token}'"


def _expected(error: UnexpectedInput) -> str:
    expected = sorted(
        {READABLE[name] if name in READABLE else _literal(name) for name in getattr(error, "expected", ()) or ()}
    )
    if not expected:
        return "something else"
    return expected[0] if len(expected) == 1 else "one of " + ", ".join(expected)


def _literal(terminal: str) -> str:
    try:
        pattern = _lark().get_terminal(terminal).pattern
    except KeyError:
        return terminal.lower()
    return f"'{pattern.value}'"
