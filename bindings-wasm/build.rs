//! Writes the core's schema as JSON at build time (`$OUT_DIR/schema.json`), which
//! `scripts/build wasm` ships beside the module as JavaScript: neither the schema nor the code
//! that builds it is in the module (the size budget is for the module).

use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("schema.json"), ipnkit::host::schema().to_string())
        .expect("OUT_DIR is writable");
    println!("cargo::rerun-if-changed=build.rs");
}
