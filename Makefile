# medtag — build, run and test.
#   make run    install what is missing, build, and start the daemon on the shipped model (spool in ./var)
#   make test   install what is missing, build, and run the test suite
#   make train  train the Spanish Bi-LSTM-CRF (PyTorch CPU) into Models/es-pharmaconer-bilstm-crf
#   make train-en  train the English Bi-LSTM-CRF (BC5CDR + BC2GM + NCBI-disease) into Models/en-biomed-bilstm-crf
#   make bench  speed of the Swift engine against PyTorch, Spanish and English models → .build/bench/NAME.json, .build/bench-en.json
#   make install  build the release binary (Swift runtime linked in) and install it with the models, the
#               configuration, the systemd units and the documentation under DESTDIR/PREFIX (default /usr/local)
#   make deb    the same as a Debian package, build/medtag_VERSION_ARCH.deb
#   make test-install  install into a scratch DESTDIR, run the installed binary with the toolchain hidden,
#               check the units with systemd-analyze, build the .deb and install it in a throwaway root
#   make cv     5-fold cross-validation of the Spanish tagger over all 750 labelled documents (CONFIG=plain-s3,
#               MEMBERS="aux-s3 aux-s4" for an ensemble of configurations already run, AGAINST=NAME to compare)
#   make cv-en  the same for the English tagger over BC5CDR train + devel (FOLDS="2 3 4" for the folds not yet run)
#   make cv-tables  the model cards' ablation tables from the folds recorded (no training)
#   make bench-ingest  a folder through `medtag annotate` and a .tar.gz through `medtag ingest`, beside the engine (NOTES=2000)

SWIFT       ?= swift
CONFIG      ?= release
BIN         := .build/$(CONFIG)/medtag
SPOOL       ?= $(CURDIR)/var/spool
APT_PACKAGES = pkg-config libinotifytools0-dev libarchive-dev libopenblas-dev
TEST_PACKAGES = libreoffice-calc-nogui unzip slurm-wlm munge binutils man-db chromium fonts-dejavu-core

.PHONY: all deps test-deps build run test clean train train-en cv cv-en cv-tables bench bench-ingest install deb test-install

all: build

# Debian packages the build links against; installed only when missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# Extra tools the tests drive as real peers (LibreOffice reads our CSV as a spreadsheet user would,
# chromium renders the summary page headless as a browser would).
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
	rm -rf .build .build-static var build

# Installation. The release binary links the Swift runtime statically, so a server needs only Debian's
# libarchive13, libinotifytools0 and libopenblas0. It finds its models in ../share/medtag/Models
# beside its bin/ folder. The configuration goes to /etc/medtag (never replaced once there), the units,
# sysusers and tmpfiles files where systemd looks for them under PREFIX.
PREFIX        ?= /usr/local
DESTDIR       ?=
BINDIR        ?= $(PREFIX)/bin
DATADIR       ?= $(PREFIX)/share/medtag
DOCDIR        ?= $(PREFIX)/share/doc/medtag
MANDIR        ?= $(PREFIX)/share/man
SYSCONFDIR    ?= /etc
SYSTEMDDIR    ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR   ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR   ?= $(PREFIX)/lib/tmpfiles.d
STATIC_BUILD  := .build-static
STATIC_BIN    := $(STATIC_BUILD)/release/medtag
MODELS        := es-pharmaconer-bilstm-crf es-pharmaconer-ensemble es-pharmaconer-gazetteer en-biomed-bilstm-crf lexicon

.PHONY: static-binary man
static-binary: deps
	$(SWIFT) build -c release --static-swift-stdlib --product medtag --scratch-path $(STATIC_BUILD)

# Man pages, one per command (medtag.1, medtag.serve.1, …), written by swift-argument-parser's
# generate-manual tool from the parser's own description of every command. This is the tool behind
# its generate-manual plugin; it is run directly because the plugin rebuilds the whole package in
# a configuration of its own (6 minutes on 2 cores) instead of reading the binary we install.
MAN_DATE     ?= $(shell git log -1 --format=%cs 2>/dev/null || date -u +%F)
man: static-binary
	$(SWIFT) build --scratch-path $(STATIC_BUILD) --product generate-manual
	rm -rf $(STATIC_BUILD)/man && mkdir -p $(STATIC_BUILD)/man
	$(STATIC_BUILD)/debug/generate-manual $(STATIC_BIN) --multi-page --date $(MAN_DATE) --output-directory $(STATIC_BUILD)/man

install: static-binary man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/Models $(DESTDIR)$(DOCDIR) $(DESTDIR)$(MANDIR)/man1 \
	  $(DESTDIR)$(SYSCONFDIR)/medtag $(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	install -m 755 -s $(STATIC_BIN) $(DESTDIR)$(BINDIR)/medtag
	for model in $(MODELS); do \
	  install -d $(DESTDIR)$(DATADIR)/Models/$$model && install -m 644 Models/$$model/* $(DESTDIR)$(DATADIR)/Models/$$model/ || exit 1; \
	done
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/medtag/medtag.conf ]; then \
	  echo "kept $(DESTDIR)$(SYSCONFDIR)/medtag/medtag.conf; the shipped one is $(DESTDIR)$(DOCDIR)/medtag.conf"; \
	else install -m 644 etc/medtag/medtag.conf $(DESTDIR)$(SYSCONFDIR)/medtag/medtag.conf; fi
	for unit in medtag.service medtag-nightly.service medtag-nightly.timer; do \
	  sed -e 's|/usr/local/bin/medtag|$(BINDIR)/medtag|g' -e 's|/usr/share/doc/medtag|$(DOCDIR)|g' \
	    -e 's|/etc/medtag/|$(SYSCONFDIR)/medtag/|g' systemd/$$unit > $(DESTDIR)$(SYSTEMDDIR)/$$unit && \
	  chmod 644 $(DESTDIR)$(SYSTEMDDIR)/$$unit || exit 1; \
	done
	install -m 644 systemd/medtag.sysusers $(DESTDIR)$(SYSUSERSDIR)/medtag.conf
	install -m 644 systemd/medtag.tmpfiles $(DESTDIR)$(TMPFILESDIR)/medtag.conf
	install -m 644 README.md etc/medtag/medtag.conf $(DESTDIR)$(DOCDIR)/
	install -m 644 packaging/copyright $(DESTDIR)$(DOCDIR)/copyright
	install -m 644 $(STATIC_BUILD)/man/*.1 $(DESTDIR)$(MANDIR)/man1/
	gzip -9nf $(DESTDIR)$(MANDIR)/man1/medtag*.1

# A Debian package (PREFIX=/usr): `make install` into a staging root, then dpkg-deb.
deb:
	Scripts/deb.sh build

# The installation tests (InstallTests): install into a scratch DESTDIR, build the .deb, then run the
# installed binary with the toolchain hidden, systemd-analyze on the installed units and dpkg -i in a
# throwaway root. CI runs this after `make test`; the release build takes a few minutes on 2 cores.
# The DESTDIR is a temporary folder outside the checkout, so the installed binary cannot fall back
# on the checkout's Models/.
test-install: test-deps deb
	root=$$(mktemp -d); trap 'rm -rf "$$root"' EXIT; \
	$(MAKE) --no-print-directory install DESTDIR=$$root >/dev/null && \
	MEDTAG_INSTALL_DESTDIR=$$root MEDTAG_DEB=$$(ls $(CURDIR)/build/medtag_*.deb) \
	  $(SWIFT) test --filter InstallTests

# Neural tagger: training (Python, PyTorch CPU) and the engine benchmark.
train: deps
	Scripts/train.sh

train-en: deps
	training/english/train.sh

# Per fold figures land in training/cv/results/es-CONFIG/ (kept in the repository); folds already
# there are not run again. Prints per fold, mean ± sd and per label; with AGAINST, the paired test.
cv: deps
	Scripts/cv.sh

# The English recipe over BC5CDR train + devel (groups of 10 sentences); results in training/cv/results/en-CONFIG/.
cv-en: deps
	training/english/cv.sh

# The model cards' ablation tables from the recorded folds (no training): one row a configuration, each
# lever against the configuration it changes (RESULTS@BASE), with the paired test and training minutes.
ES_ABLATION = es-plain-s3 es-plain-s3@es-plain-s3.nosteps es-aux-s3@es-plain-s3 es-aux-s4@es-aux-s3 \
	es-aux-s3+aux-s4@es-plain-s3 es-aux-s3+aux-s4@es-aux-s3 es-distil-s3@es-aux-s3 es-ema-s3@es-aux-s3
EN_ABLATION = en-s1
cv-tables:
	cd training/cv/results && python3 ../../cv.py ablation $(ES_ABLATION) && echo && python3 ../../cv.py ablation $(EN_ABLATION)

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
