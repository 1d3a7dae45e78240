"""The rule engine: rules as objects (expr, statements, rule), checked (validate), matched (matcher), guarded
(guard), computed (compute) and rewritten (rewrite) by a RulePass. It knows nothing of the .stitch language:
grammar/ compiles `rule` blocks into these objects, and Python code builds the same ones (builder)."""

from .builder import attr, fn, forward, let, op, optional, var
from .rule import Rule
from .rule_pass import RulePass, register_rule
from .validate import RuleError

__all__ = ["Rule", "RuleError", "RulePass", "attr", "fn", "forward", "let", "op", "optional", "register_rule", "var"]
