dnl The ipnkit extension is written in Rust (ext-php-rs). `phpize && ./configure && make` (what
dnl PIE runs) drives cargo against the PHP that configure found (its php-config), and puts the
dnl result at modules/ipnkit.so; `make install` copies it into that PHP's extension directory.
dnl Needs Rust (cargo, 1.88 or newer) and libclang (ext-php-rs reads PHP's headers with it).

PHP_ARG_ENABLE([ipnkit],
  [whether to enable ipnkit],
  [AS_HELP_STRING([--enable-ipnkit], [Build ipnkit: PayPal IPN and REST webhooks])],
  [yes])

if test "$PHP_IPNKIT" != "no"; then
  AC_PATH_PROG([CARGO], [cargo], [no], [$PATH:$HOME/.cargo/bin])
  if test "$CARGO" = "no"; then
    AC_MSG_ERROR([cargo is missing: ipnkit is Rust; install it from https://rustup.rs (1.88 or newer)])
  fi
  AC_MSG_CHECKING([the Rust toolchain])
  IPNKIT_CARGO_VERSION=`$CARGO --version 2>/dev/null`
  if test -z "$IPNKIT_CARGO_VERSION"; then
    AC_MSG_ERROR([$CARGO does not run])
  fi
  AC_MSG_RESULT([$IPNKIT_CARGO_VERSION])
  dnl ext-php-rs wants php-config as a path (`--with-php-config=php-config8.2` names a command).
  IPNKIT_PHP_CONFIG=`command -v "$PHP_CONFIG" 2>/dev/null`
  if test -z "$IPNKIT_PHP_CONFIG"; then
    AC_MSG_ERROR([php-config is not found at $PHP_CONFIG])
  fi
  dnl No C sources: the one directory the build makes is where the module goes.
  PHP_ADD_BUILD_DIR([modules])

  dnl The build, appended to the Makefile phpize generates: cargo runs on every `make` (it
  dnl rebuilds only what changed), with the PHP configure found.
  cat >>Makefile.objects <<EOF
all: ipnkit-cargo

.PHONY: ipnkit-cargo ipnkit-cargo-clean
ipnkit-cargo:
	mkdir -p modules
	PHP_CONFIG="$IPNKIT_PHP_CONFIG" "$CARGO" build --release --locked --manifest-path "\$(srcdir)/Cargo.toml" --target-dir "\$(builddir)/target"
	cp "\$(builddir)/target/release/libipnkit.so" modules/ipnkit.so

clean: ipnkit-cargo-clean
ipnkit-cargo-clean:
	rm -rf "\$(builddir)/target"
EOF
fi
