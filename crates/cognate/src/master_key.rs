//! The master key file: read, created on first start (owner-only permissions), and rotated.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use cognate_crypto::seal::MasterKeys;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

const HEADER: &str =
    "# Cognate master keys: KEY_ID BASE64_KEY, the first seals, all open. Keep this file \
secret and backed up: without it the database's signing keys and client secrets cannot be read.\n";

/// Reads the key file at `path`, creating it with a new key if it does not exist.
pub fn load_or_create(path: &Path) -> anyhow::Result<MasterKeys> {
    if !path.exists() {
        let line = MasterKeys::generate_line(now());
        // Written whole under another name, then linked into place: an instance starting at
        // the same moment either sees no file or a complete one, and only one key wins.
        let temporary = path.with_extension(format!("new-{}", std::process::id()));
        let _ = std::fs::remove_file(&temporary);
        write_new(&temporary, &format!("{HEADER}{line}\n"))?;
        let linked = std::fs::hard_link(&temporary, path);
        let _ = std::fs::remove_file(&temporary);
        match linked {
            Ok(()) => tracing::info!(path = %path.display(), "generated a new master key"),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("creating the master key file {}", path.display()))
            }
        }
    }
    warn_if_readable_by_others(path);
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the master key file {}", path.display()))?;
    MasterKeys::parse(&text).with_context(|| format!("master key file {}", path.display()))
}

/// Puts a new key first in the file (written to a temporary file, then renamed over it) and
/// returns its id.
pub fn prepend_new_key(path: &Path) -> anyhow::Result<String> {
    let old = std::fs::read_to_string(path)
        .with_context(|| format!("reading the master key file {}", path.display()))?;
    MasterKeys::parse(&old).with_context(|| format!("master key file {}", path.display()))?;
    let line = MasterKeys::generate_line(now());
    let kept: String = old
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let temporary = path.with_extension("rotating");
    let _ = std::fs::remove_file(&temporary);
    write_new(&temporary, &format!("{HEADER}{line}\n{kept}"))?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("replacing the master key file {}", path.display()))?;
    let keys = MasterKeys::parse(&std::fs::read_to_string(path)?)?;
    Ok(keys.current_id().to_string())
}

fn write_new(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the directory of {}", path.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating the master key file {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    "the master key file is readable by other users: chmod 600 it"
                );
            }
        }
    }
}
