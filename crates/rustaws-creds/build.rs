//! Writes the table of modules the executable serves, `$OUT_DIR/modules.rs`, from the workspace:
//! every crate under `crates/` whose `src/lib.rs` declares `pub const MODULE` is one module, so
//! a new module crate cannot be left out of the table. Such a crate must also be a dependency of
//! this one (`crates/rustaws-creds/Cargo.toml`); the build stops with a message naming it if it
//! is not.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let here = Path::new(&manifest_dir);
    let crates = here.parent().expect("crates/rustaws-creds has a parent");
    println!("cargo::rerun-if-changed={}", crates.display());

    let manifest = read(&here.join("Cargo.toml"));
    let mut modules = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(crates)
        .unwrap_or_else(|e| panic!("{}: {e}", crates.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for dir in entries {
        let lib = dir.join("src/lib.rs");
        if !lib.is_file() || !declares_module(&read(&lib)) {
            continue;
        }
        let name = package_name(&read(&dir.join("Cargo.toml")))
            .unwrap_or_else(|| panic!("{}: no package name", dir.display()));
        if !depends_on(&manifest, &name) {
            panic!(
                "crates/{} declares `pub const MODULE` but is not a dependency of rustaws-creds: \
                 add `{name}.workspace = true` to crates/rustaws-creds/Cargo.toml",
                dir.file_name().unwrap_or_default().to_string_lossy()
            );
        }
        modules.push(name.replace('-', "_"));
    }
    modules.sort();

    let mut table = String::from(
        "/// Every module of the collection, in crate name order (which is module name order):\n\
         /// written by build.rs from the crates of the workspace that declare `pub const MODULE`.\n\
         const MODULES: &[Module] = &[\n",
    );
    for module in &modules {
        writeln!(table, "    {module}::MODULE,").expect("writing to a String");
    }
    table.push_str("];\n");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out).join("modules.rs"), table).expect("OUT_DIR is writable");
}

fn read(path: &Path) -> String {
    println!("cargo::rerun-if-changed={}", path.display());
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Whether a crate root declares the module constant the executable serves.
fn declares_module(lib: &str) -> bool {
    lib.lines()
        .any(|line| line.trim_start().starts_with("pub const MODULE:"))
}

/// The `name` of a Cargo.toml's `[package]` table.
fn package_name(manifest: &str) -> Option<String> {
    let manifest = format!("\n{manifest}");
    let package = manifest.split("\n[").find(|t| t.starts_with("package]"))?;
    package.lines().find_map(|line| {
        let value = line.strip_prefix("name")?.trim_start().strip_prefix('=')?;
        Some(value.trim().trim_matches('"').to_owned())
    })
}

/// Whether a Cargo.toml's `[dependencies]` table names the crate.
fn depends_on(manifest: &str, name: &str) -> bool {
    format!("\n{manifest}")
        .split("\n[")
        .filter(|t| t.starts_with("dependencies]"))
        .flat_map(str::lines)
        .any(|line| {
            line.split(['.', '=', ' '])
                .next()
                .is_some_and(|key| key == name)
        })
}
