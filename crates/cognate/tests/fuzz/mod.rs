//! The wire fuzzer's parts: the model (`model`), the JSON it sends (`json`) and the proptest
//! strategies that generate it (`gen`).

pub mod gen;
pub mod json;
pub mod model;
