//! A handle on the aiosmtpd sink (`tests/support/smtp_sink.py` at the
//! workspace root), a real SMTP server on a loopback port that stores every
//! message as `<dir>/<seq>.eml` plus a parsed `<dir>/<seq>.json`.
//!
//! The interpreter: `$COGNATE_TEST_PYTHON`, else `<workspace>/.venv/bin/python`,
//! else `python3` on the PATH — the first one that can `import aiosmtpd`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .canonicalize()
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// The sink script's path.
pub fn sink_script() -> PathBuf {
    workspace_root()
        .join("tests")
        .join("support")
        .join("smtp_sink.py")
}

/// A Python interpreter that has `aiosmtpd`, or `None`.
pub fn python_with_aiosmtpd() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(p) = std::env::var_os("COGNATE_TEST_PYTHON").filter(|p| !p.is_empty()) {
        candidates.push(PathBuf::from(p));
    }
    candidates.push(workspace_root().join(".venv").join("bin").join("python"));
    candidates.push(PathBuf::from("python3"));
    candidates.into_iter().find(|py| {
        Command::new(py)
            .args(["-c", "import aiosmtpd"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Sink options.
#[derive(Debug, Clone, Default)]
pub struct SmtpSinkOptions {
    /// 0 = pick a free port.
    pub port: u16,
    /// Require AUTH PLAIN/LOGIN with these credentials.
    pub auth: Option<(String, String)>,
    /// Answer this code (e.g. 550, 451) to every `RCPT TO`.
    pub fail_code: Option<u16>,
}

/// A message the sink received.
#[derive(Debug, Clone)]
pub struct SunkMail {
    pub path: PathBuf,
    /// The raw message as received.
    pub raw: String,
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// The top-level content type, e.g. `text/plain`, `multipart/alternative`.
    pub content_type: String,
    /// Top-level headers in order, values decoded (RFC 2047).
    pub headers: Vec<(String, String)>,
    /// Leaf MIME parts: (content type, decoded body).
    pub parts: Vec<(String, String)>,
    /// The AUTH login used, if any.
    pub auth_login: Option<String>,
}

impl SunkMail {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The decoded body of the first part with this content type.
    pub fn part(&self, content_type: &str) -> Option<&str> {
        self.parts
            .iter()
            .find(|(t, _)| t.eq_ignore_ascii_case(content_type))
            .map(|(_, b)| b.as_str())
    }

    fn load(json_path: &Path) -> std::io::Result<SunkMail> {
        let bad = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidData, m);
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(json_path)?)
            .map_err(|e| bad(format!("{}: {e}", json_path.display())))?;
        let eml = json_path.with_extension("eml");
        let raw = String::from_utf8_lossy(&std::fs::read(&eml)?).into_owned();
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        let pairs = |k: &str, a: &str, b: &str| -> Vec<(String, String)> {
            v.get(k)
                .and_then(|x| x.as_array())
                .map(|arr| {
                    arr.iter()
                        .map(|item| {
                            let get = |key: &str| {
                                item.get(key)
                                    .or_else(|| key.parse::<usize>().ok().and_then(|i| item.get(i)))
                                    .and_then(|x| x.as_str())
                                    .unwrap_or("")
                                    .to_string()
                            };
                            (get(a), get(b))
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(SunkMail {
            path: eml,
            raw,
            mail_from: s("mail_from"),
            rcpt_tos: v
                .get("rcpt_tos")
                .and_then(|x| x.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            content_type: s("content_type"),
            headers: pairs("headers", "0", "1"),
            parts: pairs("parts", "content_type", "body"),
            auth_login: v
                .get("auth_login")
                .and_then(|x| x.as_str())
                .map(str::to_string),
        })
    }
}

/// The running sink; the child process is killed on drop.
#[derive(Debug)]
pub struct SmtpSink {
    pub port: u16,
    pub dir: PathBuf,
    child: Child,
}

impl SmtpSink {
    /// Starts a plain sink on a free port writing into `dir`.
    pub fn start(dir: &Path) -> std::io::Result<SmtpSink> {
        Self::start_with(dir, &SmtpSinkOptions::default())
    }

    /// Starts a sink with options. Fails with `NotFound` when no Python with
    /// aiosmtpd is available (see [`python_with_aiosmtpd`]).
    pub fn start_with(dir: &Path, opts: &SmtpSinkOptions) -> std::io::Result<SmtpSink> {
        let python = python_with_aiosmtpd().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "no python with aiosmtpd")
        })?;
        std::fs::create_dir_all(dir)?;
        let mut cmd = Command::new(python);
        cmd.arg(sink_script())
            .arg("--dir")
            .arg(dir)
            .arg("--port")
            .arg(opts.port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some((user, pass)) = &opts.auth {
            cmd.args(["--username", user, "--password", pass]);
        }
        if let Some(code) = opts.fail_code {
            cmd.args(["--fail-code", &code.to_string()]);
        }
        let mut child = cmd.spawn()?;
        let port = child
            .stdout
            .take()
            .ok_or_else(|| std::io::Error::other("no stdout from the sink"))
            .and_then(|out| {
                let mut line = String::new();
                BufReader::new(out).read_line(&mut line)?;
                line.trim().parse::<u16>().map_err(|_| {
                    std::io::Error::other(format!("the SMTP sink did not start (said {line:?})"))
                })
            });
        match port {
            Ok(port) => Ok(SmtpSink {
                port,
                dir: dir.to_path_buf(),
                child,
            }),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(e)
            }
        }
    }

    /// `smtp://127.0.0.1:<port>` (plain), for [`crate::DeliveryConfig::smtp_url`].
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages received so far, in arrival order.
    pub fn messages(&self) -> Vec<SunkMail> {
        let mut jsons: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        jsons.sort();
        jsons
            .iter()
            .filter_map(|p| SunkMail::load(p).ok())
            .collect()
    }

    /// Waits (polling) until at least `n` messages arrived or `timeout` passed.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<SunkMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let msgs = self.messages();
            if msgs.len() >= n || Instant::now() >= deadline {
                return msgs;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Stops the sink now (also done on drop).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}
