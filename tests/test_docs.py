"""Every code block of README.md and docs/*.md that shows Python or a command line runs here.

Conventions of the Markdown files (kept by this test):

- ```python blocks run, in order, each in a fresh interpreter inside one scratch folder per file.
- ```bash blocks run line by line (``\\`` continuations joined, ``#`` comments dropped) with
  bash in that folder, the test interpreter's ``bin/`` first on ``PATH``.
- A ```bash block right after ``<!-- docs: parse-only -->`` holds commands that need the user's
  own data or hours of compute: each ``unmask`` line is parsed against the CLI instead (the
  command exists, every option exists, choices are valid, every ``--set`` key of ``unmask train
  STAGE`` is a field of that stage's config). Install lines (``python3 -m venv``, ``pip
  install``) must appear verbatim in ``.ci/run``, which runs them on a fresh clone.
- ```text, ```json and the like are illustrations, not code.
- ``docs/history.md`` is the record of past runs: its blocks are records, not instructions, and
  are written as ```text.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from support import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"(<!-- docs: parse-only -->\s*\n)?```(\w*)[^\n]*\n(.*?)\n```", re.S)
INSTALL = ("python3 -m venv", "pip install", ".venv/bin/pip install")


def blocks(path: Path) -> list[tuple[str, bool, str]]:
    """``(language, parse_only, code)`` of each fenced block of ``path``."""
    text = path.read_text()
    return [(m.group(2), bool(m.group(1)), m.group(3)) for m in FENCE.finditer(text)]


def command_lines(code: str) -> list[str]:
    """The command lines of a shell block: continuations joined, comments dropped."""
    out: list[str] = []
    for line in re.sub(r"\s*\\\n\s*", " ", code).splitlines():
        line = line.split(" #")[0].strip() if not line.lstrip().startswith("#") else ""
        if line:
            out.append(line)
    return out


def _stage_config_fields(stage: str) -> set[str]:
    from unmask import registry

    return {f.name for f in dataclasses.fields(registry.train_config(stage))}


def check_cli(line: str) -> None:
    """Parse one ``unmask ...`` line against the click command tree; raise AssertionError."""
    import click

    from unmask import registry
    from unmask.cli.main import cli
    from unmask.cli.train import ALIASES, run_stage

    args = shlex.split(line)
    if args[0] == "torchrun":
        args = ["unmask", *args[args.index("unmask.cli.main") + 1 :]]
    if args[:3] == ["ray", "job", "submit"]:  # the entrypoint follows "--"
        args = args[args.index("--") + 1 :]
    assert args[0] == "unmask", line
    cmd, path, rest = cli, ["unmask"], args[1:]
    while isinstance(cmd, click.Group) and rest:
        if rest[0].startswith("-"):  # a group's own flag, e.g. ``unmask -v train ...``
            flags = {o for p in cmd.params if p.is_flag or p.count for o in p.opts}
            assert rest[0] in flags, f"{line}: {' '.join(path)} has no flag {rest[0]}"
            rest = rest[1:]
            continue
        sub = cmd.get_command(click.Context(cmd), rest[0])
        assert sub is not None, f"{line}: no command {' '.join([*path, rest[0]])}"
        cmd, path, rest = sub, [*path, rest[0]], rest[1:]
    stage = None
    if (
        path[:2] == ["unmask", "train"]
        and len(path) == 3
        and path[2] in {*registry.STAGES, *ALIASES}
    ):
        stage = ALIASES.get(path[2], path[2])
        cmd, rest = run_stage, [stage, *rest]
    names = {o: p for p in cmd.params for o in (*p.opts, *p.secondary_opts)}
    sets = []
    i = 0
    while i < len(rest):
        tok = rest[i]
        if tok.startswith("-") and tok != "-":
            name, eq, value = tok.partition("=")
            assert name in names, f"{line}: {' '.join(path)} has no option {name}"
            param = names[name]
            if not (param.is_flag or param.count) and not eq:
                i += 1
                value = rest[i]
            if isinstance(param.type, click.Choice):
                param.type.convert(value, param, None)
            if param.name == "sets":
                sets.append(value)
        i += 1
    cmd.make_context(path[-1], list(rest), resilient_parsing=True)
    if stage is not None:
        fields = _stage_config_fields(stage)
        for item in sets:
            key = item.partition("=")[0]
            assert key in fields, f"{line}: {stage} config has no key {key!r}"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    import unmask  # the subprocesses import the same package as this test

    here = str(Path(unmask.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([here, *filter(None, [env.get("PYTHONPATH")])])
    return env


def _ids() -> list[str]:
    return [str(p.relative_to(REPO)) for p in DOCS]


@pytest.mark.slow
@pytest.mark.parametrize("doc", DOCS, ids=_ids())
def test_code_blocks_run(doc: Path, tmp_path: Path) -> None:
    ci = (REPO / ".ci" / "run").read_text()
    env = _env()
    for lang, parse_only, code in blocks(doc):
        if lang == "python":
            proc = subprocess.run(
                [sys.executable, "-c", code],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert proc.returncode == 0, f"{doc.name}: python block failed:\n{code}\n{proc.stderr}"
        elif lang in ("bash", "sh", "console"):
            assert doc.name != "history.md", "history.md blocks are records: write them as text"
            for line in command_lines(code):
                if line.startswith(INSTALL):
                    assert line in ci, f"{doc.name}: install line not run by .ci/run: {line}"
                elif parse_only:
                    check_cli(line)
                else:
                    proc = subprocess.run(
                        ["bash", "-c", line],
                        cwd=tmp_path,
                        env=env,
                        capture_output=True,
                        text=True,
                        timeout=300,
                    )
                    assert proc.returncode == 0, f"{doc.name}: `{line}` failed:\n{proc.stderr}"


def test_the_parser_check_catches_drift() -> None:
    import click

    check_cli("unmask run photos/ -o out --save restored,masks")
    check_cli("unmask train attr --dataset d --set minutes=5")
    check_cli("unmask -v train attr --config configs/attr/member1.json")
    check_cli("ray job submit --working-dir . -- unmask cluster run s3://b/p -o /mnt/o")
    for bad in (
        "unmask run photos/ -o out --no-such-option",
        "unmask rum photos/",
        "unmask run photos/ --backend tensorflow",
        "unmask train attr --dataset d --set no_such_key=1",
        "unmask --no-such-flag run photos/",
        "ray job submit -- unmask cluster run in -o out --workers 2",
    ):
        with pytest.raises((AssertionError, click.ClickException)):
            check_cli(bad)


def test_markdown_conventions_are_found() -> None:
    langs = [lang for doc in DOCS for lang, _, _ in blocks(doc)]
    assert "python" in langs and "bash" in langs
    assert command_lines("unmask run a \\\n  -o b   # note\n# only a comment\n") == [
        "unmask run a -o b"
    ]
