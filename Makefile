# The two commands a newcomer needs: `make local` (whole stack on LocalStack, demo tenant,
# how to call it) and `make test` (everything CI runs). The rest are their parts.
SHELL := /usr/bin/env bash
STACK ?= notifier

.PHONY: local local-down test bench build deploy fmt lint unit e2e localstack-status clean help

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 20

local: ## Start LocalStack, build, deploy stack $(STACK), create a demo tenant, print how to call it
	NOTIFIER_STACK=$(STACK) infra/scripts/local-up.sh

local-down: ## Stop LocalStack (its state goes with it)
	infra/localstack/stop.sh

test: ## fmt, clippy, unit tests, then end-to-end tests on a fresh stack on LocalStack
	infra/scripts/test.sh

bench: ## Measure every function (init, invocations, size, memory, CPU, billed requests); prints one table
	infra/scripts/bench.sh

build: ## sam build (cargo-lambda, release, x86_64)
	source infra/scripts/lib.sh && ensure_tools && sam build --build-dir .aws-sam/build

deploy: ## Deploy stack $(STACK) to a running LocalStack
	infra/scripts/deploy-local.sh $(STACK)

fmt: ## Format the code
	cargo fmt --all

lint: ## clippy with warnings as errors
	cargo clippy --workspace --all-targets -- -D warnings

unit: ## Unit tests only (no LocalStack)
	cargo test --workspace --exclude notifier-e2e

e2e: ## End-to-end tests against an already deployed stack $(STACK)
	source infra/scripts/lib.sh && NOTIFIER_STACK=$(STACK) cargo test -p notifier-e2e

localstack-status: ## Is LocalStack running?
	infra/localstack/status.sh

clean: ## Remove build output and local state (venvs, LocalStack data, logs)
	-infra/localstack/stop.sh
	rm -rf target .aws-sam .local
