# The two commands of the README: `make lab` (the main job) and `make test` (every test).
SHELL := /bin/bash
VENV ?= $(CURDIR)/.venv
export VENV
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: help setup venv image lab lab-down test lint sanity unit differential molecule platforms kernel core changelog changelog-preview ee bench

help:
	@echo "make lab       build the image, start the container lab, run site.yml, print the check report"
	@echo "make lab-down  remove the lab containers and network"
	@echo "make test      lint, ansible-test sanity, unit and property tests, the renderers against the real parsers,"
	@echo "               every molecule scenario, the galaxy round trip,"
	@echo "               the site on a Debian 13 lab, the guest-kernel tests, the benchmarks at a tiny size,"
	@echo "               sanity and unit tests with ansible-core 2.21 on Debian 13's Python 3.13"
	@echo "make platforms the site on a Debian 13 lab (green report, second run changed=0)"
	@echo "make kernel    in a guest kernel (user-mode Linux): OOM kills by score, IPVS (DR), keepalived's checks, failover"
	@echo "make core      sanity and unit tests with ansible-core 2.21 on Debian 13's Python 3.13 (a container)"
	@echo "make bench     the benchmarks (benchmarks/RESULTS.md)"
	@echo "make ee        the execution environment's build context (context/)"
	@echo "make changelog-preview  the release notes the fragments would make (.cache/CHANGELOG.preview.rst)"

setup:
	scripts/setup-host.sh

venv:
	scripts/venv.sh
	scripts/collection-link.sh

# The lab's base image and, side by side, the user-mode Linux image its directors run in (each cached by its recipe).
image: setup
	scripts/guest-image.sh uml >/dev/null & uml=$$!; scripts/build-image.sh; base=$$?; wait $$uml && exit $$base

lab: venv image
	scripts/lab.sh up

lab-down:
	scripts/lab.sh down

test: venv image
	scripts/test.sh all

lint: venv
	scripts/test.sh lint

sanity: venv
	scripts/test.sh sanity

unit: venv
	scripts/test.sh unit

differential: venv image
	scripts/test.sh differential

molecule: venv image
	scripts/test.sh molecule

platforms: venv setup
	scripts/test.sh platforms

kernel: venv setup
	scripts/test.sh kernel

core: venv setup
	scripts/test.sh core

# The four benchmarks into benchmarks/RESULTS.md (the first and the last need the lab, which this starts or updates).
bench: venv image
	scripts/lab.sh up
	benchmarks/bench.sh

# A real release: writes CHANGELOG.rst and consumes the fragments. The preview leaves them in place.
changelog: venv
	antsibull-changelog release

changelog-preview: venv
	scripts/changelog-preview.sh

# The execution environment's build context (context/); building the image needs its base image's registry.
ee: venv
	ansible-builder create -f execution-environment/execution-environment.yml -c context --output-filename Containerfile
