//! Cognate's HTTP front: the AWS JSON 1.1 protocol over axum (`http`), the translation between
//! the generated wire shapes and the domain's calls (`api`), and the single mapping of domain
//! failures to AWS's wire errors (`errors`). It knows no SQL and no provider.

pub mod api;
pub mod errors;
mod hosted;
pub mod http;
pub mod inbox;
pub mod listen;
pub mod metrics;
mod oauth;
mod pages;
pub mod quota;
pub mod sigv4;

pub use api::implemented;
pub use http::{router, AppState};
pub use sigv4::{Authenticator, Credentials};

/// Every operation of the model with whether this build implements it (`cognate operations`,
/// the README's table): Markdown with `markdown`, else tab-separated lines.
pub fn operations_table(markdown: bool) -> String {
    let implemented = implemented();
    let mut out = String::new();
    if markdown {
        out.push_str("| Operation | SigV4 | Implemented |\n| --- | --- | --- |\n");
    }
    for op in cognate_wire::Operation::ALL {
        let implemented = implemented.contains(op);
        if markdown {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                op.name(),
                if op.requires_sigv4() { "yes" } else { "no" },
                if implemented { "yes" } else { "no" }
            ));
        } else {
            out.push_str(&format!(
                "{}\t{}\n",
                op.name(),
                if implemented {
                    "implemented"
                } else {
                    "not implemented"
                }
            ));
        }
    }
    out
}
