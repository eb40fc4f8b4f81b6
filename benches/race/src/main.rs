//! `race`: runs kiel and its peers against the same brokers and reports the medians.
fn main() {}
