# The two commands a new user needs: `make repro` and `make test`. Both build .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(abspath $(VENV))/bin
RUN := PATH="$(BIN):$$PATH"

.PHONY: repro test lint format bench clean-venv

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps facenet-pytorch==2.6.0
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

repro: $(VENV)/.installed  ## build everything from params.yaml (default: the embedded synthetic data)
	$(RUN) dvc repro
	@echo
	@awk '/^## Table 2/{p=1} /^## Validation/{p=0} p' metrics/report.md
	@echo "All tables: metrics/report.md; metrics: metrics/<variant>.json (dvc metrics show);"
	@echo "figures: plots/ (dvc plots show)"

test: $(VENV)/.installed lint  ## lint, then the whole test suite (unit + end-to-end dvc runs)
	$(RUN) pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.installed  ## speed of cleaning and training against plain reference loops
	$(RUN) python benchmarks/bench.py
	$(RUN) python benchmarks/ddp_bench.py  # images/s with 1 and 2 training processes
	$(RUN) python benchmarks/predict_bench.py
	$(RUN) python benchmarks/pretrained_bench.py  # efficientnet_lite0 at 96 px: fp32 vs bf16
	$(RUN) python benchmarks/serve_bench.py  # expressions serve: 500 requests from 16 clients

clean-venv:
	rm -rf $(VENV)
