"""Each stage script's command line: --help names its inputs and outputs, a wrong name is one
sentence listing the right ones, and a bug would still show its traceback."""

import subprocess
import sys

import pytest

from expressions.core import cli
from expressions.core.errors import ConfigError
from helpers.builders import ROOT

SCRIPTS = sorted(p.stem for p in (ROOT / "stages").glob("*.py"))


def stage(*argv: str) -> subprocess.CompletedProcess:
    script = ROOT / "stages" / f"{argv[0]}.py"
    return subprocess.run(
        [sys.executable, str(script), *argv[1:]], cwd=ROOT, capture_output=True, text=True
    )


@pytest.mark.parametrize("name", SCRIPTS)
def test_help_says_what_the_stage_reads_and_writes(name):
    done = stage(name, "--help")
    assert done.returncode == 0, done.stderr
    assert f"{name}" in done.stdout and ("->" in done.stdout or "Writes" in done.stdout)


@pytest.mark.parametrize(
    ("argv", "sentence"),
    [
        (("train", "nosuch"), "variant 'nosuch' is not in params.yaml; the variants are main, "),
        (("evaluate", "nosuch"), "variant 'nosuch' is not in params.yaml"),
        (("resolve", "nosuch"), "variant 'nosuch' is not in params.yaml"),
        (("clean", "nosuch"), "dataset 'nosuch' is not in params.yaml data.datasets; the "),
        (("locate", "nosuch"), "dataset 'nosuch' is not in params.yaml data.datasets"),
        (("download", "nosuch"), "data/raw/nosuch.input.json not found; run `dvc repro locate@"),
    ],
)
def test_unknown_name_is_one_sentence(argv, sentence):
    done = stage(*argv)
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: {sentence}")
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_missing_argument_is_argparse_usage_not_a_traceback():
    done = stage("train")
    assert done.returncode == 2 and "usage:" in done.stderr and "Traceback" not in done.stderr


def test_only_user_errors_become_sentences(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["stage"])

    def user_error(argv):
        raise ConfigError("model.kernel is 0; allowed range [1, 11]")

    with pytest.raises(SystemExit) as exit_:
        cli.run(user_error)
    assert exit_.value.code == 1
    assert capsys.readouterr().err == "error: model.kernel is 0; allowed range [1, 11]\n"

    def bug(argv):
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):  # not swallowed into a sentence
        cli.run(bug)
