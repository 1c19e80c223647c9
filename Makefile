# Two commands do everything:  `make demo`  and  `make test`.
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DATABASE_URL ?= mariadb+mariadbconnector://root@127.0.0.1:3306/flightvault_demo

.PHONY: setup demo doctor test lint
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/bootstrap.sh
	VENV=$(VENV) ./scripts/bootstrap.sh

demo: setup
	$(BIN)/flightvault demo

doctor: setup
	VAULT_DATABASE_URL=$${VAULT_DATABASE_URL:-$(DEMO_DATABASE_URL)} $(BIN)/flightvault seed-demo
	VAULT_DATABASE_URL=$${VAULT_DATABASE_URL:-$(DEMO_DATABASE_URL)} $(BIN)/flightvault doctor

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: setup lint
	$(BIN)/pytest
