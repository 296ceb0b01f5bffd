"""Rules as files: read a rules folder (SQL + YAML pairs) into `Rule`s and register them.

A rules folder holds one subfolder per rule family and, optionally, `shared/`:

    <folder>/<family>/<name>.sql    the query, exactly as it runs
    <folder>/<family>/<name>.yaml   its metadata (id `<family>.<name>`, title, severity, ...)
    <folder>/shared/*.sql           macros and views its rules use, run in name order
                                    before any rule

The built-in rules are such a folder (`borderwatch/rules/`); a plug-in adds its own the
same way, from its entry point: `register_rule_folder(registry, Path(...))`
(docs/rules.md). Every problem in a folder is reported at once, each naming its file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from borderwatch.errors import InputError, Problem, SourceLocation
from borderwatch.model.findings import Severity
from borderwatch.registry import Registry
from borderwatch.rules.base import Rule
from borderwatch.rules.messages import MESSAGE_BUILDERS

SHARED = "shared"
# The name a shared statement defines: CREATE [OR REPLACE] [TEMP] MACRO|VIEW|TABLE name.
_DEFINES = re.compile(
    r"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?(?:MACRO|FUNCTION|VIEW|TABLE)\s+"
    r"(?:IF\s+NOT\s+EXISTS\s+)?\"?([A-Za-z_][A-Za-z0-9_]*)\"?",
    re.IGNORECASE,
)
# A rule's or shared file's Spark variant, beside it (docs/spark.md): not a rule itself.
SPARK_VARIANT = ".spark.sql"

MessageBuilder = Callable[..., str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class MessageSpec(_Strict):
    """How a finding's message is made: a named builder (with arguments) or a template."""

    builder: str | None = None
    # Keyword arguments of the builder, e.g. {what: "a prohibited country"}.
    with_: dict[str, str] = Field(default_factory=dict, alias="with")
    # A Jinja2 template over the result row: {{ resource }}, {{ evidence.reason }}, ...
    template: str | None = None

    @model_validator(mode="after")
    def _one_way(self) -> MessageSpec:
        if (self.builder is None) == (self.template is None):
            raise ValueError("give either `builder` or `template`")
        if self.template is not None and self.with_:
            raise ValueError("`with` goes with a `builder`, not a `template`")
        return self


class RuleMetadata(_Strict):
    """The metadata file of a rule (Prowler's per-check metadata is the model)."""

    id: str = Field(pattern=r"^[a-z0-9-]+\.[a-z0-9-]+$")
    title: str = Field(min_length=1)
    severity: Severity
    rationale: str = Field(min_length=1)
    # The policy clauses and regulations the rule checks.
    references: tuple[str, ...] = Field(min_length=1)
    # What the finding's evidence carries: field -> what it means.
    evidence: dict[str, str]
    message: MessageSpec


def builtin_rule_folder() -> Traversable:
    """The folder of the built-in rules, inside the installed package."""
    return files("borderwatch.rules")


def register_rule_folder(
    registry: Registry,
    folder: Traversable,
    builders: Mapping[str, MessageBuilder] = MESSAGE_BUILDERS,
) -> None:
    """Read the rules of `folder` and add them to `registry.rules` (ids must be new).

    The macros, views and tables its shared SQL defines must be new too: all shared SQL
    runs in one database before any rule, so a folder that redefined a name the scan's
    views or another folder define (`flat_sorted`, `protected_access`) would change what
    the other rules find. Such a folder is refused, naming the file and the name.
    """
    rules = read_rule_folder(folder, builders)
    taken = defined_names(_view_sql()) | defined_names(
        statement for rule in registry.rules for statement in rule.shared_sql
    )
    problems = [
        _problem(
            folder.joinpath(SHARED, file),
            f"redefines {name!r}, which the scan's views or another rules folder define: "
            "give the folder's own names a prefix of its own",
        )
        for file, name in _shared_definitions(folder)
        if name.lower() in taken
    ]
    if problems:
        raise InputError(f"the rules in {folder} cannot be used:", problems)
    for rule in rules:
        registry.rules.add(rule.id, rule)


def defined_names(statements: Iterable[str]) -> set[str]:
    """The names (lower case) of the macros, views and tables the statements define."""
    return {name.lower() for text in statements for name in _DEFINES.findall(_code(text))}


def _shared_definitions(folder: Traversable) -> list[tuple[str, str]]:
    """(file name, defined name) of each definition in the folder's shared SQL."""
    shared = folder.joinpath(SHARED)
    if not shared.is_dir():
        return []
    return [
        (f.name, name)
        for f in sorted(shared.iterdir(), key=lambda f: f.name)
        if _is_sql(f.name)
        for name in _DEFINES.findall(_code(f.read_text("utf-8")))
    ]


def _view_sql() -> list[str]:
    from borderwatch.evaluate.views import view_statements

    return [sql for _, sql in view_statements()]


def read_rule_folder(
    folder: Traversable, builders: Mapping[str, MessageBuilder] = MESSAGE_BUILDERS
) -> list[Rule]:
    """The rules of `folder`, by family then name; an InputError lists every problem."""
    problems: list[Problem] = []
    shared = _shared_sql(folder)
    rules: list[Rule] = []
    for family in sorted(_families(folder), key=lambda f: f.name):
        stems = _rule_stems(family, problems)
        for stem in sorted(stems):
            rule = _read_rule(family, stem, shared, builders, problems)
            if rule is not None:
                rules.append(rule)
    if problems:
        raise InputError(f"the rules in {folder} cannot be used:", problems)
    return rules


def _families(folder: Traversable) -> list[Traversable]:
    """Subfolders holding rule files (others, like Python packages, are not families)."""
    return [
        child
        for child in folder.iterdir()
        if child.is_dir()
        and child.name != SHARED
        and any(f.name.endswith((".sql", ".yaml")) for f in child.iterdir())
    ]


def _shared_sql(folder: Traversable) -> tuple[str, ...]:
    shared = folder.joinpath(SHARED)
    if not shared.is_dir():
        return ()
    found = sorted(
        (f for f in shared.iterdir() if _is_sql(f.name)),
        key=lambda f: f.name,
    )
    return tuple(f.read_text("utf-8") for f in found)


def _rule_stems(family: Traversable, problems: list[Problem]) -> set[str]:
    """Names with both files; a file without its partner is a problem."""
    names = [f.name for f in family.iterdir() if f.is_file()]
    sql = {n.removesuffix(".sql") for n in names if _is_sql(n)}
    for name in names:
        if name.endswith(SPARK_VARIANT) and name.removesuffix(SPARK_VARIANT) not in sql:
            problems.append(_problem(family.joinpath(name), "is a Spark variant of no rule"))
    meta = {n.removesuffix(".yaml") for n in names if n.endswith(".yaml")}
    for stem in sorted(sql ^ meta):
        have, missing = (".sql", ".yaml") if stem in sql else (".yaml", ".sql")
        problems.append(_problem(family.joinpath(stem + have), f"has no {stem}{missing} beside it"))
    return sql & meta


def _read_rule(
    family: Traversable,
    stem: str,
    shared: tuple[str, ...],
    builders: Mapping[str, MessageBuilder],
    problems: list[Problem],
) -> Rule | None:
    sql_file, meta_file = family.joinpath(stem + ".sql"), family.joinpath(stem + ".yaml")
    sql, text = sql_file.read_text("utf-8"), meta_file.read_text("utf-8")
    meta = _metadata(meta_file, text, problems)
    if meta is None:
        return None
    expected = f"{family.name}.{stem}"
    if meta.id != expected:
        problems.append(_problem(meta_file, f"id {meta.id!r} must be {expected!r} (its path)"))
        return None
    if not _code(sql):
        problems.append(_problem(sql_file, "holds no query"))
        return None
    describe = _describer(meta.message, builders, meta_file, problems)
    if describe is None:
        return None
    return Rule(
        id=meta.id,
        title=meta.title,
        severity=meta.severity,
        rationale=meta.rationale,
        references=meta.references,
        sql=sql,
        describe=describe,
        evidence=dict(meta.evidence),
        metadata=text,
        sql_file=str(sql_file),
        metadata_file=str(meta_file),
        shared_sql=shared,
    )


def _metadata(path: Traversable, text: str, problems: list[Problem]) -> RuleMetadata | None:
    try:
        doc = YAML(typ="safe").load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = SourceLocation(str(path))
        if mark is not None:
            where = SourceLocation(str(path), mark.line + 1, mark.column + 1)
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problems.append(Problem(where, f"is not valid YAML: {reason}"))
        return None
    try:
        return RuleMetadata.model_validate(doc)
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "the file"
            problems.append(_problem(path, f"{field}: {error['msg']}"))
        return None


def _describer(
    spec: MessageSpec,
    builders: Mapping[str, MessageBuilder],
    path: Traversable,
    problems: list[Problem],
) -> Callable[[dict[str, Any]], str] | None:
    if spec.template is not None:
        try:
            template = _template_environment().from_string(spec.template)
        except jinja2.TemplateSyntaxError as exc:
            problems.append(_problem(path, f"message.template: {exc.message}"))
            return None
        return lambda row: template.render(row)
    builder = builders.get(spec.builder or "")
    if builder is None:
        known = ", ".join(sorted(builders)) or "none"
        problems.append(_problem(path, f"message.builder {spec.builder!r} is unknown: {known}"))
        return None
    return partial(builder, **spec.with_)


def _template_environment() -> SandboxedEnvironment:
    # Templates render text, not HTML (reports escape it); the sandbox keeps a template
    # from reaching Python internals, and a missing field is an error, not empty text.
    return SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)


def _is_sql(name: str) -> bool:
    """A DuckDB SQL file (a Spark variant is read only by the Spark engine)."""
    return name.endswith(".sql") and not name.endswith(SPARK_VARIANT)


def _code(sql: str) -> str:
    """The SQL without its comment lines and blank space."""
    lines = (line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return "\n".join(lines).strip()


def _problem(path: Traversable, message: str) -> Problem:
    return Problem(SourceLocation(str(path)), message)
