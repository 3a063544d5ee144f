# The two commands a new user needs: `make repro` and `make test`. Both build .venv first.
# `make help` lists every target.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(abspath $(VENV))/bin
RUN := PATH="$(BIN):$$PATH"
# A CPU-only machine can skip PyTorch's 4 GB of CUDA libraries:
#   make repro TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
FER2013 ?=
# make test: processes that share out the test files (each file stays in one; 0 = serial)
TEST_WORKERS ?= 2

.PHONY: help repro test lint format bench check compare fer2013-model fer2013-fast clean-venv

help:  ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z0-9-]+:.*## / {printf "  make %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(if $(TORCH_INDEX),$(BIN)/pip install --quiet --index-url $(TORCH_INDEX) $(shell grep -E '^torch(vision)?==' requirements.txt))
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps facenet-pytorch==2.6.0 supervision==0.26.1
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

repro: $(VENV)/.installed  ## build everything from params.yaml (default: the embedded synthetic data)
	$(RUN) dvc repro
	@echo
	@$(RUN) python -m expressions.analysis.summary

test: $(VENV)/.installed lint  ## lint, then the whole test suite (unit + end-to-end dvc runs)
	$(RUN) pytest -n $(TEST_WORKERS) --dist loadfile

lint: $(VENV)/.installed  ## ruff check and ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed  ## ruff: fix what it can and format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: $(VENV)/.installed  ## check -S changes before dvc exp run: make check S="model.kernel=4"
	@$(RUN) python -m expressions.config.check $(S)

compare: $(VENV)/.installed  ## experiments side by side: changed params, test accuracy per variant
	@$(RUN) python tools/compare.py

bench: $(VENV)/.installed  ## speed of cleaning, training and predicting against plain reference loops
	$(RUN) python benchmarks/bench.py
	$(RUN) python benchmarks/ddp_bench.py  # images/s with 1 and 2 training processes
	$(RUN) python benchmarks/predict_bench.py
	$(RUN) python benchmarks/pretrained_bench.py  # efficientnet_lite0 at 96 px: fp32 vs bf16
	$(RUN) python benchmarks/serve_bench.py  # expressions serve: 500 requests from 16 clients
	$(RUN) python benchmarks/intervals_bench.py  # a comparison's bootstrap intervals: < 1 s

fer2013-model: $(VENV)/.installed  ## retrain the shipped ten-view FER2013 model: make fer2013-model FER2013=path/to/fer2013.zip
	@test -n "$(FER2013)" || { echo "error: give FER2013=path/to/fer2013.zip (README: Real faces)"; exit 1; }
	$(RUN) python tools/fer2013_model.py "$(FER2013)"

fer2013-fast: $(VENV)/.installed  ## distil the shipped fast model from the ten-view one: make fer2013-fast FER2013=path/to/fer2013.zip
	@test -n "$(FER2013)" || { echo "error: give FER2013=path/to/fer2013.zip (README: Real faces)"; exit 1; }
	$(RUN) python tools/fer2013_fast.py "$(FER2013)"

clean-venv:  ## remove .venv
	rm -rf $(VENV)
