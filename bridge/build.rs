//! Builds the QuickJS WebAssembly guest and embeds it in the crate.
//!
//! quickjs-ng's C sources come from the `rquickjs-sys` crate (a build-dependency, so cargo fetches
//! and pins it); they are compiled together with our shim in `guest/` for `wasm32-wasi` with
//! Debian's clang, lld and wasi-libc (`make deps-guest`). The result is `$OUT_DIR/guest.wasm`.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;

/// The rquickjs-sys version pinned in Cargo.toml; its sources are quickjs-ng 0.16.2.
const QUICKJS_CRATE: &str = "rquickjs-sys-0.14.0";
const QUICKJS_FILES: &[&str] = &["quickjs.c", "libregexp.c", "libunicode.c", "dtoa.c"];
const SHIM_FILES: &[&str] = &["alloc.c", "compile.c", "main.c", "natives.c", "output.c"];
/// The guest's C stack, at the bottom of linear memory (`--stack-first`), so an overflow traps.
const STACK_BYTES: u32 = 1024 * 1024;

fn main() {
    napi_build::setup();

    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let guest_dir = manifest_dir.join("guest");
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed=guest");
    println!("cargo:rerun-if-env-changed=NEXUS_QUICKJS_DIR");
    println!("cargo:rerun-if-env-changed=NEXUS_WASI_CC");

    let quickjs_dir = quickjs_sources();
    let cc = env::var("NEXUS_WASI_CC").unwrap_or_else(|_| "clang-14".into());
    write_prelude_header(&guest_dir.join("prelude.js"), &out_dir.join("prelude.h"));

    let obj_dir = out_dir.join("guest-obj");
    fs::create_dir_all(&obj_dir).unwrap();
    let sources: Vec<(PathBuf, bool)> = QUICKJS_FILES
        .iter()
        .map(|f| (quickjs_dir.join(f), true))
        .chain(SHIM_FILES.iter().map(|f| (guest_dir.join(f), false)))
        .collect();

    // quickjs.c alone takes ~30 s: compile the files in parallel.
    let objects: Vec<PathBuf> = thread::scope(|scope| {
        let jobs: Vec<_> = sources
            .iter()
            .map(|(src, third_party)| {
                let obj = obj_dir.join(src.file_name().unwrap()).with_extension("o");
                let (cc, quickjs_dir, out_dir) = (&cc, &quickjs_dir, &out_dir);
                scope.spawn(move || {
                    let mut cmd = Command::new(cc);
                    cmd.args(["--target=wasm32-wasi", "--sysroot=/usr", "-O3", "-c"])
                        // WebAssembly features every wasmtime runs natively: memcpy and memset
                        // as single instructions instead of byte loops, and cheaper integer code.
                        .args(["-mbulk-memory", "-msign-ext", "-mnontrapping-fptoint"])
                        .args([
                            "-D_GNU_SOURCE",
                            "-DNDEBUG",
                            "-funsigned-char",
                            "-fno-exceptions",
                        ])
                        .arg("-I")
                        .arg(quickjs_dir)
                        .arg("-I")
                        .arg(out_dir);
                    if *third_party {
                        cmd.arg("-w");
                    } else {
                        cmd.args(["-Wall", "-Wextra", "-Wno-unused-parameter", "-Werror"]);
                    }
                    run(cmd.arg(src).arg("-o").arg(&obj));
                    obj
                })
            })
            .collect();
        jobs.into_iter().map(|j| j.join().unwrap()).collect()
    });

    let wasm = out_dir.join("guest.wasm");
    let mut link = Command::new(&cc);
    link.args([
        "--target=wasm32-wasi",
        "--sysroot=/usr",
        "-mexec-model=reactor",
    ])
    .arg("-Wl,--stack-first")
    .arg(format!("-Wl,-z,stack-size={STACK_BYTES}"))
    .arg("-Wl,--strip-all")
    .args(&objects)
    .arg("-o")
    .arg(&wasm);
    run(&mut link);
}

/// quickjs-ng's sources inside the unpacked `rquickjs-sys` crate in cargo's registry.
fn quickjs_sources() -> PathBuf {
    if let Ok(dir) = env::var("NEXUS_QUICKJS_DIR") {
        return PathBuf::from(dir);
    }
    let cargo_home = env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env::var("HOME").unwrap()).join(".cargo"));
    let registry = cargo_home.join("registry").join("src");
    let found = fs::read_dir(&registry).ok().and_then(|entries| {
        entries
            .filter_map(Result::ok)
            .map(|index| index.path().join(QUICKJS_CRATE).join("quickjs"))
            .find(|dir| dir.join("quickjs.c").is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "quickjs-ng sources not found under {}/*/{QUICKJS_CRATE}/quickjs; \
             run `cargo fetch` or set NEXUS_QUICKJS_DIR",
            registry.display()
        )
    })
}

/// Embeds prelude.js in the guest as a C string.
fn write_prelude_header(src: &Path, dst: &Path) {
    let js = fs::read_to_string(src).unwrap();
    let mut out = String::from(
        "/* generated by build.rs from prelude.js */\nstatic const char nx_prelude_source[] =\n",
    );
    for line in js.lines() {
        out.push_str("    \"");
        for c in line.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
                c => {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        write!(out, "\\{b:03o}").unwrap();
                    }
                }
            }
        }
        out.push_str("\\n\"\n");
    }
    out.push_str(";\n");
    fs::write(dst, out).unwrap();
}

fn run(cmd: &mut Command) {
    let status = cmd.status().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?}: {e} (install the guest toolchain: make deps-guest)")
    });
    assert!(status.success(), "guest build step failed: {cmd:?}");
}
