//! `cognate-codegen`: generates `crates/cognate-wire/src/generated/` from the
//! pinned Cognito user-pools API model.
//!
//! Usage: `cargo run -p cognate-codegen [-- [--check] [WORKSPACE_ROOT]]`.
//! Without `--check` it (re)writes the generated files and formats them with
//! `rustfmt --edition 2021`. With `--check` it generates into a temporary
//! directory and exits non-zero if the committed files differ.

mod emit;
mod javaregex;
mod json;
mod model;
mod names;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use sha2::{Digest, Sha256};

use model::Error;

const OUT_DIR: &str = "crates/cognate-wire/src/generated";

fn default_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rustfmt(files: &[PathBuf]) -> Result<(), Error> {
    let status = Command::new("rustfmt")
        .arg("--edition")
        .arg("2021")
        .args(files)
        .status()
        .map_err(|e| format!("cannot run rustfmt: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("rustfmt failed with {status}").into())
    }
}

/// Writes every generated file into `dir` (creating it), removes stale `.rs`
/// files there, and formats the result.
fn write_all(dir: &Path, generated: &emit::Generated) -> Result<Vec<PathBuf>, Error> {
    std::fs::create_dir_all(dir)?;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let stale = path.extension().is_some_and(|e| e == "rs")
            && path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !generated.files.contains_key(n));
        if stale {
            std::fs::remove_file(&path)?;
        }
    }
    let mut written = Vec::new();
    for (name, text) in &generated.files {
        let path = dir.join(name);
        std::fs::write(&path, text)?;
        written.push(path);
    }
    rustfmt(&written)?;
    Ok(written)
}

fn run() -> Result<bool, Error> {
    let mut check = false;
    let mut root = None;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--check" => check = true,
            "-h" | "--help" => {
                println!("usage: cognate-codegen [--check] [WORKSPACE_ROOT]");
                return Ok(true);
            }
            other if root.is_none() && !other.starts_with('-') => root = Some(PathBuf::from(other)),
            other => return Err(format!("unexpected argument {other}").into()),
        }
    }
    let root = root.unwrap_or_else(default_root);
    let root = root.canonicalize().unwrap_or(root);
    let model_path = root.join(emit::MODEL_PATH);
    let bytes = std::fs::read(&model_path)
        .map_err(|e| format!("cannot read {}: {e}", model_path.display()))?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let text = String::from_utf8(bytes)?;
    let model = model::Model::parse(&json::parse(&text)?)?;
    let generated = emit::generate(&model, &sha256)?;
    let out_dir = root.join(OUT_DIR);

    if !check {
        let written = write_all(&out_dir, &generated)?;
        println!(
            "cognate-codegen: wrote {} files to {} ({} operations, {} shapes)",
            written.len(),
            out_dir.display(),
            model.operations.len(),
            model.shapes.len()
        );
        return Ok(true);
    }

    // Inside the workspace, so rustfmt picks up the same configuration.
    let tmp = root
        .join("target")
        .join(format!("cognate-codegen-check-{}", std::process::id()));
    let result = (|| -> Result<bool, Error> {
        write_all(&tmp, &generated)?;
        let mut same = true;
        let mut names: Vec<String> = generated.files.keys().map(|n| (*n).to_owned()).collect();
        for entry in std::fs::read_dir(&out_dir)? {
            if let Some(n) = entry?.file_name().to_str() {
                if n.ends_with(".rs") && !names.iter().any(|x| x == n) {
                    names.push(n.to_owned());
                }
            }
        }
        for name in names {
            let want = std::fs::read(tmp.join(&name)).ok();
            let have = std::fs::read(out_dir.join(&name)).ok();
            if want != have {
                eprintln!("cognate-codegen: {OUT_DIR}/{name} is out of date");
                same = false;
            }
        }
        Ok(same)
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    let same = result?;
    if same {
        println!("cognate-codegen: generated files are up to date");
    }
    Ok(same)
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("cognate-codegen: {e}");
            ExitCode::FAILURE
        }
    }
}
