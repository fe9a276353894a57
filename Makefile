# medtag — build, run and test.
#   make run    install what is missing, build, and start the daemon on the shipped model (spool in ./var)
#   make test   install what is missing, build, and run the test suite
#   make train  train the Spanish Bi-LSTM-CRF (PyTorch CPU) into Models/es-pharmaconer-bilstm-crf
#   make train-en  train the English Bi-LSTM-CRF (BC5CDR + BC2GM) into Models/en-biomed-bilstm-crf
#   make bench  speed of the Swift engine against PyTorch, Spanish and English models → .build/bench.json, .build/bench-en.json

SWIFT       ?= swift
CONFIG      ?= release
BIN         := .build/$(CONFIG)/medtag
SPOOL       ?= $(CURDIR)/var/spool
APT_PACKAGES = pkg-config libinotifytools0-dev libarchive-dev libopenblas-dev
TEST_PACKAGES = libreoffice-calc-nogui unzip slurm-wlm munge

.PHONY: all deps test-deps build run test clean train train-en bench

all: build

# Debian packages the build links against; installed only when missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# Extra tools the tests drive as real peers (LibreOffice reads our CSV as a spreadsheet user would).
test-deps: deps
	@missing=""; for p in $(TEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	$(SWIFT) build -c $(CONFIG)

# The daemon on ./var/spool, with the sample notes already in its inbox; results appear in
# var/spool/outbox/. Drop more .txt/.xml/.tar.gz/.zip files into var/spool/inbox/. Ctrl-C stops it.
run: build
	mkdir -p $(SPOOL)/inbox && cp samples/*.txt $(SPOOL)/inbox/ && exec $(BIN) serve --spool $(SPOOL)

test: test-deps
	$(SWIFT) build
	$(SWIFT) test

clean:
	rm -rf .build var

# Neural tagger: training (Python, PyTorch CPU) and the engine benchmark.
train: deps
	Scripts/train.sh

train-en: deps
	training/english/train.sh

bench: deps
	Scripts/bench.sh
	Scripts/bench-en.sh
