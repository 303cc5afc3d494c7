//! Exit statuses, named: 0 all good, 1 a CI rule failed, 2 an error (bad input, no daemon).

pub const OK: i32 = 0;
pub const RULE_FAILED: i32 = 1;
pub const ERROR: i32 = 2;
