"""DuckDB SQL (the views', the rules', the stages' queries) as Spark SQL, through sqlglot.

The rules are written once, in DuckDB's dialect; the Spark engine runs the same files.
sqlglot transpiles most of it; this module covers what sqlglot would get wrong or pass
through silently, each by rewriting sqlglot's syntax tree before Spark SQL is written:

- macros: Spark has none. `CREATE MACRO` is kept here (name, parameters, body) and every
  call is replaced by the body with the arguments put in for the parameters.
- `list(x)` keeps NULLs in DuckDB and is NULL over no rows; Spark's `collect_list` drops
  NULLs and gives `[]`. `list(x ORDER BY k)` would lose its order (sqlglot drops it).
  Both are written as a sorted `collect_list` of structs.
- `list_distinct` drops NULLs in DuckDB, `array_distinct` keeps one; `flatten` skips
  NULL lists in DuckDB and is NULL in Spark: the NULLs are filtered out first.
- `l[a:b]` (1-based, both ends included) is `slice(l, a, b - a + 1)`; `l[i]` is
  `try_element_at(l, i)` (NULL out of range, as in DuckDB).
- `len(list)` is `size`; `quantile_disc(x, q)` is `percentile_disc(q) WITHIN GROUP
  (ORDER BY x)` (sqlglot would write an approximate percentile).
- a generator inside an expression (`CAST(unnest(l) AS DATE)`) moves inside: Spark
  only explodes at the top of a select item.

Anything else sqlglot cannot write for Spark raises (`ErrorLevel.RAISE`): a rule never
runs on Spark as something other than what its file says. A construct without a faithful
translation gets a Spark variant of its file (`<name>.spark.sql`, docs/spark.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import sqlglot
from sqlglot import ErrorLevel, exp
from sqlglot.errors import SqlglotError

from borderwatch.errors import UsageError
from borderwatch.evaluate.spark_ctes import shared_ctes


class UnsupportedSql(UsageError):
    """DuckDB SQL that has no faithful Spark translation here: the scan is refused
    (exit 2) rather than run as something other than what the SQL says."""


@dataclass(frozen=True)
class Macro:
    """A DuckDB macro: its parameters and body, expanded in place where it is called.

    Two macros are equal when their definitions read the same (`source`); the body is
    the parsed `source` and is not compared again.
    """

    name: str
    parameters: tuple[str, ...]
    body: exp.Expr = field(compare=False)
    source: str


@dataclass(frozen=True)
class Statement:
    """One statement, ready for Spark.

    kind: "select" (a query; `sql` is Spark SQL), "table" (`CREATE TABLE name AS`
    the query in `sql`, to be materialised), "view" (`CREATE VIEW name AS` the query),
    "drop" (drop `name`) or "macro" (kept by the translator; nothing to run).
    """

    kind: str
    sql: str = ""
    name: str = ""
    # Tables whose rowid the statement reads (`g.rowid`): DuckDB numbers every table's
    # rows; the Spark engine numbers these before the statement runs.
    numbered: tuple[str, ...] = ()
    # (table, Spark SQL) of each CTE the statement reads more than once, to be computed
    # (in this order) before it and dropped after it (evaluate/spark_ctes.py).
    shared: tuple[tuple[str, str], ...] = ()


# The functions this module writes by name (sqlglot knows the rest by their own nodes).
SPARK_FUNCTIONS_WRITTEN = frozenset(
    {
        "collect_list",
        "collect_set",
        "array_sort",
        "slice",
        "try_element_at",
        "percentile_disc",
        "array_intersect",
        "xxhash64",
    }
)
_MAX_EXPANSIONS = 64  # macros calling macros; a cycle stops here instead of looping


def parse_duckdb(sql: str) -> list[exp.Expr]:
    """The statements of `sql`, in DuckDB's dialect (a syntax error raises)."""
    try:
        parsed = sqlglot.parse(sql, read="duckdb", error_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise UnsupportedSql(f"cannot parse: {exc}") from None
    return [statement for statement in parsed if statement is not None]


def translate(sql: str, macros: dict[str, Macro]) -> list[Statement]:
    """The statements of DuckDB `sql` for Spark; a `CREATE MACRO` is added to `macros`
    (and later calls are expanded with it).

    Translations are kept by text and macros: every scan sends the same views and rules
    (about eighty statements), and parsing and rewriting them costs seconds of the
    driver's time per scan.
    """
    statements, defined = _translated(sql, tuple(sorted(macros.values(), key=_macro_name)))
    macros.update((macro.name, macro) for macro in defined)
    return list(statements)


# Every distinct statement of the built-in views and rules fits, with room for plug-ins.
_TRANSLATIONS_KEPT = 1024


@lru_cache(maxsize=_TRANSLATIONS_KEPT)
def _translated(
    sql: str, known: tuple[Macro, ...]
) -> tuple[tuple[Statement, ...], tuple[Macro, ...]]:
    """`translate` as a pure function: the statements, and the macros `sql` defines."""
    macros = {macro.name: macro for macro in known}
    statements = tuple(_statement(tree, macros) for tree in parse_duckdb(sql))
    defined = tuple(macro for macro in macros.values() if macro not in known)
    return statements, defined


def _macro_name(macro: Macro) -> str:
    return macro.name


def _statement(tree: exp.Expr, macros: dict[str, Macro]) -> Statement:
    if isinstance(tree, exp.Create):
        kind = str(tree.args.get("kind") or "").upper()
        if kind in ("MACRO", "FUNCTION"):
            macro = macro_of(tree)
            macros[macro.name] = macro
            return Statement("macro", name=macro.name)
        if kind in ("TABLE", "VIEW") and isinstance(tree.expression, exp.Query):
            name = tree.this.name if isinstance(tree.this, exp.Table) else ""
            return _query_statement(kind.lower(), tree.expression, macros, name)
    if isinstance(tree, exp.Drop) and str(tree.args.get("kind") or "").upper() in (
        "TABLE",
        "VIEW",
    ):
        tables = tree.args.get("tables") or [tree.this]
        if len(tables) != 1 or not isinstance(tables[0], exp.Table):
            raise UnsupportedSql(f"DROP one table at a time: {tree.sql('duckdb')[:120]}")
        return Statement("drop", name=tables[0].name)
    if isinstance(tree, exp.Query):
        return _query_statement("select", tree, macros)
    raise UnsupportedSql(
        f"the Spark engine runs queries, CREATE TABLE/VIEW AS, DROP and macros, not: "
        f"{tree.sql('duckdb')[:120]}"
    )


def _query_statement(
    kind: str, query: exp.Query, macros: Mapping[str, Macro], name: str = ""
) -> Statement:
    pieces, rest = shared_ctes(query)
    return Statement(
        kind,
        to_spark(rest, macros),
        name,
        rowid_tables(query),
        tuple((table, to_spark(piece, macros)) for table, piece in pieces),
    )


def rowid_tables(tree: exp.Expr) -> tuple[str, ...]:
    """The tables whose rowid `tree` reads, by name (an alias resolved to its table)."""
    names = {table.alias_or_name: table.name for table in tree.find_all(exp.Table)}
    return tuple(
        sorted(
            {
                names.get(column.table, column.table)
                for column in tree.find_all(exp.Column)
                if column.name.lower() == "rowid" and column.table
            }
        )
    )


def macro_of(tree: exp.Create) -> Macro:
    """The macro a `CREATE MACRO name(params) AS body` defines."""
    function = tree.this
    if not isinstance(function, exp.UserDefinedFunction):
        raise UnsupportedSql(f"not a macro definition: {tree.sql('duckdb')[:120]}")
    parameters = tuple(p.name for p in function.expressions)
    body = tree.expression
    if body is None:
        raise UnsupportedSql(f"macro {function.name} has no body")
    name = function.this.name if isinstance(function.this, exp.Table) else function.name
    if not name:
        raise UnsupportedSql(f"a macro without a name: {tree.sql('duckdb')[:120]}")
    return Macro(name.lower(), parameters, body, tree.sql("duckdb"))


def to_spark(tree: exp.Expr, macros: Mapping[str, Macro]) -> str:
    """Spark SQL for one DuckDB query: macros expanded, rewritten, written strictly."""
    tree = expand_macros(tree.copy(), macros)
    tree = rewrite_for_spark(tree)
    for call in tree.find_all(exp.Anonymous):
        # sqlglot writes a function it does not know as it is: that would be a DuckDB
        # name running on Spark under a meaning nobody checked.
        if str(call.this).lower() not in SPARK_FUNCTIONS_WRITTEN:
            raise UnsupportedSql(f"function {call.this}() has no Spark translation here")
    try:
        return tree.sql("spark", unsupported_level=ErrorLevel.RAISE, comments=False)
    except SqlglotError as exc:
        raise UnsupportedSql(str(exc)) from None


def expand_macros(tree: exp.Expr, macros: Mapping[str, Macro]) -> exp.Expr:
    """`tree` with every call of a macro replaced by its body, arguments put in."""
    for _ in range(_MAX_EXPANSIONS):
        calls = [node for node in tree.find_all(exp.Anonymous) if str(node.this).lower() in macros]
        if not calls:
            return tree
        for call in calls:
            replacement = _expanded(call, macros[str(call.this).lower()])
            if call is tree:
                tree = replacement
            else:
                call.replace(replacement)
    raise UnsupportedSql(f"macros call each other without end (over {_MAX_EXPANSIONS} levels)")


def _expanded(call: exp.Anonymous, macro: Macro) -> exp.Expr:
    arguments = call.expressions
    if len(arguments) != len(macro.parameters):
        raise UnsupportedSql(
            f"macro {macro.name} takes {len(macro.parameters)} arguments, given {len(arguments)}"
        )
    values = dict(zip(macro.parameters, arguments, strict=True))
    body = macro.body.copy()

    def put_in(node: exp.Expr) -> exp.Expr:
        # A parameter is a bare column name (no table) in the body.
        if isinstance(node, exp.Column) and not node.table and node.name in values:
            return exp.Paren(this=values[node.name].copy())
        return node

    expanded = body.transform(put_in)
    # A macro that is one query is a scalar subquery where it is called.
    if isinstance(expanded, exp.Query):
        return exp.Subquery(this=expanded)
    return exp.Paren(this=expanded) if not isinstance(expanded, exp.Paren) else expanded


def rewrite_for_spark(tree: exp.Expr) -> exp.Expr:
    """DuckDB constructs that sqlglot does not carry over faithfully, rewritten."""
    tree = _bottom_up(tree, _rewrite_node)
    return _lift_generators(tree)


def _bottom_up(node: exp.Expr, rewrite: Callable[[exp.Expr], exp.Expr]) -> exp.Expr:
    """`node` with `rewrite` applied to every node, children first (so a rewrite sees
    its arguments already rewritten, and nothing it builds is rewritten twice)."""
    for child in list(node.iter_expressions()):
        new = _bottom_up(child, rewrite)
        if new is not child:
            child.replace(new)
    return rewrite(node)


def _rewrite_node(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Filter) and isinstance(node.this, exp.ArrayAgg):
        return _list_aggregate(node.this, node.expression)
    if isinstance(node, exp.ArrayAgg) and not isinstance(node.parent, exp.Filter):
        return _list_aggregate(node, None)
    if isinstance(node, exp.ArrayDistinct):
        return exp.ArrayDistinct(this=_without_nulls(node.this))
    if isinstance(node, exp.Flatten):
        return exp.Flatten(this=_without_nulls(node.this))
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "list_intersect":
        # DuckDB's drops NULLs (and repeats, as Spark's does).
        first, second = node.expressions
        return exp.Anonymous(this="array_intersect", expressions=[_without_nulls(first), second])
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "hash":
        # An opaque 64-bit key (evaluate/dsp_windows.py groups rows by it): Spark's
        # xxhash64 gives other values than DuckDB's hash, so no output may show one.
        return exp.Anonymous(this="xxhash64", expressions=node.expressions)
    if isinstance(node, exp.Length):
        return exp.ArraySize(this=node.this)
    if isinstance(node, exp.PercentileDisc) and node.expression is not None:
        return exp.WithinGroup(
            this=exp.Anonymous(this="percentile_disc", expressions=[node.expression]),
            expression=exp.Order(expressions=[exp.Ordered(this=node.this, nulls_first=False)]),
        )
    if isinstance(node, exp.Bracket):
        return _bracket(node)
    if isinstance(node, exp.Column) and node.name.lower() == "rowid" and not node.table:
        # Only a table's rowid (g.rowid) has a meaning: the engine numbers tables it makes.
        raise UnsupportedSql("rowid without its table")
    return node


_ELEMENT = "_e"


def _lambda(body: exp.Expr) -> exp.Lambda:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(_ELEMENT)])


def _element() -> exp.Expr:
    return exp.to_identifier(_ELEMENT)


def _without_nulls(array: exp.Expr) -> exp.Expr:
    return exp.ArrayFilter(
        this=array, expression=_lambda(exp.Not(this=exp.Is(this=_element(), expression=exp.Null())))
    )


def _list_aggregate(node: exp.ArrayAgg, where: exp.Expr | None) -> exp.Expr:
    """`list([DISTINCT] x [ORDER BY k, ...])` the DuckDB way: NULL elements kept, NULL
    over no rows, ordered by the keys (NULLs last) when an order is given.

    Spark's collect_list drops NULLs, so each element travels in a struct; sorting an
    array of structs sorts by their fields in order, so the keys (each after a flag that
    puts NULLs last) come first and the value last.
    """
    inner = node.this
    order: list[exp.Ordered] = []
    if isinstance(inner, exp.Order):
        order = list(inner.expressions)
        inner = inner.this
    distinct = isinstance(inner, exp.Distinct)
    value = inner.expressions[0] if isinstance(inner, exp.Distinct) else inner
    fields: list[exp.Expr] = []
    for i, ordered in enumerate(order):
        if ordered.args.get("desc"):
            raise UnsupportedSql("list(... ORDER BY key DESC) has no Spark translation here")
        key = ordered.this.copy()
        fields.append(
            exp.PropertyEQ(
                this=exp.to_identifier(f"n{i}"),
                expression=exp.Is(this=key.copy(), expression=exp.Null()),
            )
        )
        fields.append(exp.PropertyEQ(this=exp.to_identifier(f"k{i}"), expression=key))
    fields.append(exp.PropertyEQ(this=exp.to_identifier("v"), expression=value.copy()))
    packed: exp.Expr = exp.Struct(expressions=fields)
    # DISTINCT as collect_set, not collect_list(DISTINCT ...): Spark plans a DISTINCT
    # aggregate beside others by expanding every row once per distinct argument and
    # carrying the other aggregates' values through first(), which copies each list
    # once per input row: quadratic in the group's size (dsp_verdicts' samples over
    # the demo's bulk reads did not finish in ten minutes). The set is unordered, as
    # DuckDB's list(DISTINCT x) is; an ORDER BY sorts it below.
    collected: exp.Expr = exp.Anonymous(
        this="collect_set" if distinct else "collect_list", expressions=[packed]
    )
    if where is not None:  # the FILTER clause stays with the aggregate
        collected = exp.Filter(this=collected, expression=where.copy())
    if order:
        collected = exp.Anonymous(this="array_sort", expressions=[collected])
    values: exp.Expr = exp.Transform(
        this=collected,
        expression=_lambda(exp.Dot(this=_element(), expression=exp.to_identifier("v"))),
    )
    if distinct and order:
        values = exp.ArrayDistinct(this=values)  # equal values sort next to each other
    return exp.If(
        this=exp.EQ(this=exp.ArraySize(this=values.copy()), expression=exp.Literal.number(0)),
        true=exp.Null(),
        false=values,
    )


def _bracket(node: exp.Bracket) -> exp.Expr:
    if len(node.expressions) != 1:
        raise UnsupportedSql(f"an index of several parts: {node.sql('duckdb')}")
    index = node.expressions[0]
    if isinstance(index, exp.Slice):
        start, end = index.this, index.expression
        if not (_is_int(start) and _is_int(end)):
            raise UnsupportedSql(f"a list slice needs whole-number bounds: {node.sql('duckdb')}")
        first, last = int(start.name), int(end.name)
        if first < 1 or last < first:
            raise UnsupportedSql(f"a list slice from 1 up is needed: {node.sql('duckdb')}")
        return exp.Anonymous(
            this="slice",
            expressions=[
                node.this,
                exp.Literal.number(first),
                exp.Literal.number(last - first + 1),
            ],
        )
    if isinstance(index, exp.Literal) and index.is_string:
        return node  # a struct field by name, not a list element
    # sqlglot reads DuckDB's 1-based l[1] as index 0; try_element_at counts from 1 and
    # gives NULL out of range, as DuckDB does.
    if _is_int(index):
        position: exp.Expr = exp.Literal.number(int(index.name) + 1)
    else:
        position = exp.Add(this=index.copy(), expression=exp.Literal.number(1))
    return exp.Anonymous(this="try_element_at", expressions=[node.this, position])


def _is_int(node: exp.Expr | None) -> bool:
    return isinstance(node, exp.Literal) and not node.is_string and node.name.lstrip("-").isdigit()


def _lift_generators(tree: exp.Expr) -> exp.Expr:
    """`f(explode(l))` as `explode(transform(l, e -> f(e)))`: Spark explodes only at the
    top of a select item."""
    for explode in list(tree.find_all(exp.Explode)):
        outer: exp.Expr = explode
        while outer.parent is not None and not isinstance(outer.parent, exp.Select | exp.Alias):
            outer = outer.parent
        if outer is explode:
            continue
        body = outer.copy()
        inner = next(e for e in body.find_all(exp.Explode))
        inner.replace(_element())
        lifted = exp.Explode(this=exp.Transform(this=explode.this.copy(), expression=_lambda(body)))
        outer.replace(lifted)
    return tree.transform(_explode_after_aggregating)


def _explode_after_aggregating(node: exp.Expr) -> exp.Expr:
    """`SELECT explode(agg) ... GROUP BY/HAVING` as `SELECT explode(g) FROM (SELECT agg
    AS g ... HAVING ...)`: Spark does not explode in an aggregating select."""
    if not isinstance(node, exp.Select):
        return node
    items = node.expressions
    exploding = [isinstance(_unaliased(item), exp.Explode) for item in items]
    aggregating = (
        node.args.get("group")
        or node.args.get("having")
        or any(item.find(exp.AggFunc) for item in items)
    )
    if not any(exploding) or not aggregating:
        return node
    inner = node.copy()
    outer_items: list[exp.Expr] = []
    inner_items: list[exp.Expr] = []
    for i, (item, explodes) in enumerate(zip(items, exploding, strict=True)):
        name = item.alias_or_name or f"_c{i}"
        value = _unaliased(item)
        hidden = f"_g{i}"
        if explodes:
            inner_items.append(exp.alias_(value.this.copy(), hidden))
            outer_items.append(exp.alias_(exp.Explode(this=exp.column(hidden)), name))
        else:
            inner_items.append(exp.alias_(value.copy(), hidden))
            outer_items.append(exp.alias_(exp.column(hidden), name))
    inner.set("expressions", inner_items)
    return exp.select(*outer_items).from_(
        exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("_aggregated")))
    )


def _unaliased(item: exp.Expr) -> exp.Expr:
    return item.this if isinstance(item, exp.Alias) else item
