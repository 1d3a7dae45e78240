"""The rule engine: DSL `rule` blocks compiled to passes (pattern matcher, compute evaluator, rewriter)."""
