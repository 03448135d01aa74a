//! The developer inbox page served at `/_cognate/inbox` in outbox mode.

pub const PAGE: &str = include_str!("inbox.html");
