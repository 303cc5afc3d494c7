//! Links ISA-L's igzip for gzip layers when the `isal` feature is on (the default) and the
//! system has it (`libisal-dev` on Debian and Ubuntu, `isa-l-devel` on Fedora, `isa-l` in
//! Homebrew), found through pkg-config. Without it the build goes on with zlib-rs for gzip
//! and says so once: a missing library never fails `cargo install`.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(bathy_isal)");
    println!("cargo::rerun-if-changed=src/source/isal_shim.c");
    println!("cargo::rerun-if-env-changed=BATHY_NO_ISAL");
    if std::env::var_os("CARGO_FEATURE_ISAL").is_none()
        || std::env::var_os("BATHY_NO_ISAL").is_some()
    {
        return;
    }
    let lib = match pkg_config::Config::new()
        .atleast_version("2.25")
        .cargo_metadata(false)
        .probe("libisal")
    {
        Ok(lib) => lib,
        Err(e) => {
            println!(
                "cargo::warning=ISA-L not found ({}); gzip layers inflate with zlib-rs (install libisal-dev for ~25 % faster gzip)",
                e.to_string().lines().next().unwrap_or("pkg-config failed")
            );
            return;
        }
    };
    let mut shim = cc::Build::new();
    shim.file("src/source/isal_shim.c").warnings(true);
    for dir in &lib.include_paths {
        shim.include(dir);
    }
    if let Err(e) = shim.try_compile("bathy_isal_shim") {
        println!("cargo::warning=the ISA-L shim does not compile ({e}); gzip layers inflate with zlib-rs");
        return;
    }
    // after the shim, so that the linker meets the library after the code that calls it
    for dir in &lib.link_paths {
        println!("cargo::rustc-link-search=native={}", dir.display());
    }
    for name in &lib.libs {
        println!("cargo::rustc-link-lib={name}");
    }
    println!("cargo::rustc-cfg=bathy_isal");
}
