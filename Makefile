# The two commands of the README: `make lab` (the main job) and `make test` (every test).
SHELL := /bin/bash
VENV ?= $(CURDIR)/.venv
export VENV
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: help setup venv image lab lab-down test lint sanity unit molecule changelog

help:
	@echo "make lab       build the image, start the container lab, run site.yml, print the check report"
	@echo "make lab-down  remove the lab containers and network"
	@echo "make test      lint, ansible-test sanity, unit tests, every molecule scenario"

setup:
	scripts/setup-host.sh

venv:
	scripts/venv.sh
	scripts/collection-link.sh

image: setup
	scripts/build-image.sh

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

molecule: venv image
	scripts/test.sh molecule

changelog: venv
	antsibull-changelog release
