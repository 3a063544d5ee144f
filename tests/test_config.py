"""params.yaml validation: each bad value stops with one sentence naming the key."""

import copy
import dataclasses
import difflib
import json
import re
from pathlib import Path

import pytest

from expressions.config import (
    Run,
    VariantConfig,
    load_params,
    parse_params,
    read_yaml,
    set_dotted,
)
from expressions.config.model import ModelSpec, TrainSpec
from expressions.core.errors import ConfigError
from helpers.builders import params_with

ROOT = Path(__file__).resolve().parents[1]
RAW = read_yaml(ROOT / "params.yaml")


def test_shipped_params_are_valid_and_resolve_the_study_variants():
    params = load_params(ROOT / "params.yaml")
    main, v1, v2 = (params.variant(v) for v in ("main", "variant1", "variant2"))
    assert (main.model.kernel, main.model.depth) == (3, 3)
    assert (v1.model.kernel, v1.model.depth) == (4, 3)
    assert (v2.model.kernel, v2.model.depth) == (3, 4)
    assert main.train.epochs == 3 and main.train.lr == 0.001
    assert main.classes == ("Angry", "Engaged", "Happy", "Neutral")


@pytest.mark.parametrize("section, spec", [("model", ModelSpec), ("train", TrainSpec)])
def test_every_knob_is_written_in_params_yaml(section, spec):
    """A user finds every knob where the README says: params.yaml (train.seeds is the
    pipeline's list of runs, Params.seeds, not a recipe's knob)."""
    knobs = {f.name for f in dataclasses.fields(spec)}
    assert knobs == set(RAW[section]) - {"seeds"}


def test_variant_round_trips_through_json():
    variant = load_params(ROOT / "params.yaml").variant("variant2")
    assert VariantConfig.from_json(variant.to_json()) == variant


def test_base_change_reaches_variants_but_not_their_overrides():
    params = parse_params(params_with("model.kernel", 5))
    assert params.variant("main").model.kernel == 5
    assert params.variant("variant1").model.kernel == 4
    assert params.variant("variant2").model.kernel == 5


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("model.kernel", 0, r"model\.kernel is 0; allowed range \[1, 11\]"),
        (
            "model.depth",
            7,
            r"model\.depth=7 pools a 48 px image down to nothing; allowed range \[1, 5\]",
        ),
        ("train.epochs", 0, r"train\.epochs is 0; allowed range \[1, 10000\]"),
        ("train.lr", 0, r"train\.lr is 0\.0; allowed range \(0\.0, 10\.0\]"),
        ("train.lr", "fast", r"train\.lr must be a number, not 'fast'"),
        (
            "train.balance",
            "oversample",
            r"train\.balance is 'oversample'; allowed: none \| weighted_loss",
        ),
        (
            "labels.map.rafdb.Anger",
            "Angy",
            r"labels\.map\.rafdb\.Anger maps to 'Angy', which is not in",
        ),
        ("data.source", "ftp", r"data\.source is 'ftp'; allowed: synthetic \| kaggle \| local"),
        ("data.image_size", 4, r"data\.image_size is 4; allowed range \[8, 512\]"),
        ("split.test", 1.5, r"split\.test is 1\.5; allowed range"),
        ("model.channels", [8, 16], r"model\.channels needs at least depth=3 positive widths"),
        ("data.synthetic.scale", 0, r"data\.synthetic\.scale is 0\.0; allowed range"),
        (
            "data.datasets.rafdb",
            "imagenet",
            r"data\.datasets\.rafdb is 'imagenet'; allowed layouts",
        ),
    ],
)
def test_bad_values_name_the_key_and_the_allowed_range(path, value, message):
    with pytest.raises(ConfigError, match=message):
        parse_params(params_with(path, value))


def test_variant_override_is_validated_under_its_own_name():
    raw = params_with("variants.variant2", {"model": {"depth": 6}})
    with pytest.raises(ConfigError, match=r"variants\.variant2\.model\.depth=6 pools"):
        parse_params(raw)


def test_typo_in_a_key_is_named():
    raw = copy.deepcopy(RAW)
    raw["model"]["kernal"] = 3
    with pytest.raises(ConfigError, match=r"unknown key model\.kernal in params\.yaml"):
        parse_params(raw)


def test_class_without_any_source_is_refused():
    raw = params_with("labels.classes", ["Angry", "Engaged", "Happy", "Neutral", "Sad"])
    with pytest.raises(ConfigError, match=r"class 'Sad' in labels\.classes gets no images"):
        parse_params(raw)


def test_local_source_needs_a_path_per_dataset():
    with pytest.raises(ConfigError, match=r"data\.local\.rafdb gives no path"):
        parse_params(params_with("data.source", "local"))


def test_local_path_wins_over_the_source():
    params = parse_params(params_with("data.local.oahega", "/data/oahega.zip"))
    assert params.data.raw_source("oahega") == ("local", "/data/oahega.zip")
    assert params.data.raw_source("rafdb") == ("synthetic", None)


def test_folder_dataset_needs_a_local_path():
    raw = params_with("data.datasets.myfer", "folder")
    with pytest.raises(
        ConfigError, match=r"data\.datasets\.myfer is a folder dataset: set data\.local\.myfer"
    ):
        parse_params(raw)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_params(tmp_path / "params.yaml")
    (tmp_path / "params.yaml").write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_params(tmp_path / "params.yaml")


def test_set_dotted_sets_a_key_as_dvc_exp_run_s_does_creating_missing_parents():
    raw = {"train": {"amp": "none"}, "variants": {"main": {}}}
    set_dotted(raw, "train.amp", "bf16")
    set_dotted(raw, "variants.main.train.seed", 3)
    assert raw == {"train": {"amp": "bf16"}, "variants": {"main": {"train": {"seed": 3}}}}


@pytest.mark.parametrize(
    "override",
    ["model.kernel=4", "train.seeds=[0,1,2]", "data.local.rafdb=raf.zip", "train.epochs=5"],
)
def test_dvc_exp_run_s_changes_one_key_of_params_yaml_and_no_other_line(tmp_path, override):
    """params.yaml is written in the style DVC writes it back (block lists, empty nulls), so
    `dvc exp run -S key=value` (DVC's own override writer here) leaves a diff of that key alone."""
    from dvc.utils.hydra import apply_overrides

    shipped = (ROOT / "params.yaml").read_text().splitlines()
    copy_ = tmp_path / "params.yaml"
    copy_.write_text("\n".join(shipped) + "\n")
    apply_overrides(copy_, [override])
    changed = copy_.read_text().splitlines()
    diff = [line for line in difflib.unified_diff(shipped, changed, lineterm="", n=0)]
    edits = [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    key = override.split("=")[0].split(".")[-1]
    assert edits and all(key in e or e[1:].lstrip().startswith("- ") for e in edits), diff
    assert len([e for e in edits if e.startswith("-")]) <= 1, diff


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        (["model.kernal=4"], "unknown key model.kernal in params.yaml (did you mean kernel?)"),
        (["train.seeds=3"], "for 3 runs write -S 'train.seeds=[0,1,2]', not 3"),
        (["model.depth=7"], "model.depth=7 pools a 48 px image down to nothing"),
        (["model.kernel"], "'model.kernel' is not KEY=VALUE"),
    ],
)
def test_make_check_names_what_is_wrong_with_a_change_before_dvc_does(settings, words):
    from expressions.config.check import check

    with pytest.raises(ConfigError, match=re.escape(words)):
        check(settings, ROOT / "params.yaml")
    ok = check(["model.kernel=4", "train.seeds=[0,1,2]", "+variants.x={}"], ROOT / "params.yaml")
    assert ok.endswith(": valid")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("train.seed", 3, r"train\.seed is not a params\.yaml key: each run's seed is one of"),
        ("variants.main.train.seed", 3, r"variants\.main\.train\.seed is not a params\.yaml key"),
        ("variants.main.train.seeds", [1], r"every variant runs with the same seeds"),
        ("train.seeds", [1, 1], r"train\.seeds needs one or more distinct seeds"),
        ("train.seeds", 3, r"for 3 runs write -S 'train\.seeds=\[0,1,2\]'"),
    ],
)
def test_the_seeds_are_the_pipelines_list_of_runs_and_a_run_seed_no_recipe_knob(
    key, value, message
):
    with pytest.raises(ConfigError, match=message):
        parse_params(params_with(key, value))


def test_a_run_is_its_variant_and_its_seed_and_model_pt_keeps_both():
    params = parse_params(params_with("train.seeds", [4, 2]))
    assert (params.seeds, params.first_seed) == ((4, 2), 4)
    variant = params.variant("variant1")
    assert "seed" not in variant.to_json() and VariantConfig.from_json(variant.to_json()) == variant
    run = Run(variant, seed=2)
    assert Run.from_json(run.to_json()) == run and json.loads(run.to_json())["seed"] == 2
