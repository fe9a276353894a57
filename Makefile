# medtag — build, run and test.
#   make run    install what is missing, build, and start the daemon on the shipped model (spool in ./var)
#   make test   install what is missing, build, and run the test suite
#   make train  train the Spanish Bi-LSTM-CRF (PyTorch CPU) into Models/es-pharmaconer-bilstm-crf
#   make train-en  train the English Bi-LSTM-CRF (BC5CDR + BC2GM) into Models/en-biomed-bilstm-crf
#   make bench  speed of the Swift engine against PyTorch, Spanish and English models → .build/bench.json, .build/bench-en.json
#   make bench-ingest  a folder through `medtag annotate` and a .tar.gz through `medtag ingest`, beside the engine (NOTES=2000)

SWIFT       ?= swift
CONFIG      ?= release
BIN         := .build/$(CONFIG)/medtag
SPOOL       ?= $(CURDIR)/var/spool
APT_PACKAGES = pkg-config libinotifytools0-dev libarchive-dev libopenblas-dev
TEST_PACKAGES = libreoffice-calc-nogui unzip slurm-wlm munge

.PHONY: all deps test-deps build run test clean train train-en bench bench-ingest

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

bench-ingest: deps
	Scripts/bench-ingest.sh

# Reliability checks too long for every `make test`; each prints its figures.
.PHONY: stress fuzz sanitize
FUZZ_SECONDS ?= 60

# 60 kill -9 cycles on 300 mixed inputs, 10,000 files at once with an inotify queue overflow,
# a 200 MB text file: throughput and peak memory are printed. Replay a crash loop with MEDTAG_SEED=N.
stress: test-deps
	$(SWIFT) build
	$(SWIFT) build -c release --product medtag
	MEDTAG_STRESS=1 MEDTAG_TEST_BINARY=.build/release/medtag $(SWIFT) test --filter 'ReliabilityCrashTests|ReliabilityLoadTests'

# libFuzzer + AddressSanitizer on the tokenizer, BRAT reader, XML extractor, text pieces and archive reader,
# FUZZ_SECONDS each (default 60). Fails when a harness finds a crash (input under .build-fuzz/crashes/).
fuzz: deps
	$(SWIFT) build
	Fuzz/build.sh
	Fuzz/run.sh $(FUZZ_SECONDS)

# The whole suite under AddressSanitizer, then ThreadSanitizer, each in its own build folder; the
# daemon tests run the instrumented medtag binary. Slow: not part of `make test`. Instrumented code
# runs several times slower, so the tests' timeouts are multiplied by MEDTAG_TEST_TIME_SCALE.
ASAN_TIME_SCALE ?= 4
TSAN_TIME_SCALE ?= 10
sanitize: test-deps
	$(SWIFT) build --sanitize=address --scratch-path .build-asan
	ASAN_OPTIONS=detect_leaks=0 MEDTAG_TEST_BINARY=.build-asan/debug/medtag MEDTAG_TEST_TIME_SCALE=$(ASAN_TIME_SCALE) \
	  $(SWIFT) test --sanitize=address --scratch-path .build-asan
	$(SWIFT) build --sanitize=thread --scratch-path .build-tsan
	TSAN_OPTIONS=halt_on_error=1 MEDTAG_TEST_BINARY=.build-tsan/debug/medtag MEDTAG_TEST_TIME_SCALE=$(TSAN_TIME_SCALE) \
	  $(SWIFT) test --sanitize=thread --scratch-path .build-tsan
