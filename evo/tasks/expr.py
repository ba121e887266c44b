"""A small grammar for task expressions in x and y mod p, parsed without eval.

    expr   := term (("+" | "-") term)*
    term   := unary (("*" | "/") unary)*
    unary  := "-" unary | power
    power  := atom ("^" NUMBER)?
    atom   := "x" | "y" | NUMBER | "(" expr ")"

Division is multiplication by the modular inverse; a pair where a divisor is 0 mod p has
no answer and leaves the task's universe. Anything else (names, quotes, calls,
underscores) is refused with the position of the first character that does not fit, so
that text read from a pair file or a checkpoint can never run code.
"""
from __future__ import annotations

import re
from typing import Union

import numpy as np

MAX_LENGTH = 200
MAX_EXPONENT = 64
TOKEN = re.compile(r"\s*(?:(\d+)|([xy])|(\*\*|[-+*/^()]))")

Node = Union[tuple, str, int]


class ExprError(ValueError):
    """Text that is not an expression of the grammar."""


def tokenize(text: str) -> list[str | int]:
    if not isinstance(text, str):
        raise ExprError(f"expected expression text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExprError(f"longer than {MAX_LENGTH} characters")
    tokens: list[str | int] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = TOKEN.match(text, pos)
        if not match:
            raise ExprError(f"unexpected {text[pos:].strip()[:1]!r} at position {pos + 1} "
                            f"(expressions use x, y, integers, + - * / ^ and parentheses)")
        number, var, op = match.groups()
        tokens.append(int(number) if number is not None else var or ("^" if op == "**" else op))
        pos = match.end()
    if not tokens:
        raise ExprError("empty expression")
    return tokens


class _Parser:
    def __init__(self, tokens: list[str | int]):
        self.tokens, self.i = tokens, 0

    def peek(self) -> str | int | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> str | int:
        token = self.peek()
        if token is None:
            raise ExprError("the expression ends too early")
        self.i += 1
        return token

    def expr(self) -> Node:
        node = self.term()
        while self.peek() in ("+", "-"):
            node = (self.take(), node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.peek() in ("*", "/"):
            node = (self.take(), node, self.unary())
        return node

    def unary(self) -> Node:
        if self.peek() == "-":
            self.take()
            return ("neg", self.unary())
        return self.power()

    def power(self) -> Node:
        node = self.atom()
        if self.peek() == "^":
            self.take()
            exponent = self.take()
            if not isinstance(exponent, int) or exponent > MAX_EXPONENT:
                raise ExprError(f"an exponent must be a whole number up to {MAX_EXPONENT}, got {exponent!r}")
            node = ("^", node, exponent)
        return node

    def atom(self) -> Node:
        token = self.take()
        if token in ("x", "y") or isinstance(token, int):
            return token
        if token == "(":
            node = self.expr()
            if self.take() != ")":
                raise ExprError("a '(' is not closed")
            return node
        raise ExprError(f"unexpected {token!r}")


def parse(text: str) -> Node:
    parser = _Parser(tokenize(text))
    node = parser.expr()
    if parser.peek() is not None:
        raise ExprError(f"unexpected {parser.peek()!r} after a complete expression")
    if not _uses(node, "x") and not _uses(node, "y"):
        raise ExprError("the expression uses neither x nor y")
    return node


def _uses(node: Node, var: str) -> bool:
    if isinstance(node, tuple):
        return any(_uses(child, var) for child in node[1:] if not isinstance(child, int) or node[0] != "^")
    return node == var


def canonical(text: str) -> str:
    """The text without spaces, and with ** written ^ (checked to parse)."""
    parse(text)
    return re.sub(r"\s+", "", text).replace("**", "^")


def evaluate(node: Node, x: np.ndarray, y: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """(values mod p, valid): valid is False where a divisor was 0 mod p."""
    if isinstance(node, str):
        return (x if node == "x" else y) % p, np.ones(len(x), dtype=bool)
    if isinstance(node, int):
        return np.full(len(x), node % p, dtype=np.int64), np.ones(len(x), dtype=bool)
    op = node[0]
    if op == "neg":
        value, ok = evaluate(node[1], x, y, p)
        return (-value) % p, ok
    if op == "^":
        base, ok = evaluate(node[1], x, y, p)
        result = np.ones(len(x), dtype=np.int64)
        for _ in range(node[2]):
            result = result * base % p
        return result, ok
    (a, ok_a), (b, ok_b) = evaluate(node[1], x, y, p), evaluate(node[2], x, y, p)
    ok = ok_a & ok_b
    if op == "+":
        return (a + b) % p, ok
    if op == "-":
        return (a - b) % p, ok
    if op == "*":
        return a * b % p, ok
    inverse = np.array([pow(int(v), p - 2, p) for v in range(p)], dtype=np.int64)  # Fermat: p is prime
    return a * inverse[b] % p, ok & (b != 0)


def to_text(node: Node, outer: int = 0) -> str:
    """The expression as text, parenthesised only where the grammar needs it."""
    if not isinstance(node, tuple):
        return str(node)
    op = node[0]
    if op in ("+", "-"):
        text, level = f"{to_text(node[1], 1)}{op}{to_text(node[2], 2)}", 1
    elif op in ("*", "/"):
        text, level = f"{to_text(node[1], 2)}{op}{to_text(node[2], 3)}", 2
    elif op == "neg":
        text, level = f"-{to_text(node[1], 3)}", 2
    else:
        text, level = f"{to_text(node[1], 4)}^{node[2]}", 4
    return f"({text})" if outer > level else text


def terms(node: Node) -> list[Node]:
    """The top-level summands of an expression (a subtracted one negated)."""
    if isinstance(node, tuple) and node[0] in ("+", "-"):
        right = node[2] if node[0] == "+" else ("neg", node[2])
        return terms(node[1]) + [right]
    return [node]


def partial_sums(text: str) -> list[str]:
    """Sums of every proper, non-empty subset of the expression's top-level summands, in
    order: the simpler operations a curriculum can learn first (x^3+x*y^2+y gives x^3,
    x*y^2, y, x^3+x*y^2, x^3+y and x*y^2+y)."""
    parts = terms(parse(text))
    out = []
    for mask in range(1, 2 ** len(parts) - 1):
        chosen = [part for i, part in enumerate(parts) if mask >> i & 1]
        node = chosen[0]
        for part in chosen[1:]:
            node = ("-", node, part[1]) if isinstance(part, tuple) and part[0] == "neg" else ("+", node, part)
        out.append(to_text(node))
    return sorted(out, key=lambda t: len(terms(parse(t))))  # stable: fewer summands first
