//! Exit statuses, named: 0 all good, 1 a CI rule failed, 2 an error (bad input, no daemon),
//! 141 stdout closed by its reader.

pub const OK: i32 = 0;
pub const RULE_FAILED: i32 = 1;
pub const ERROR: i32 = 2;
/// stdout was closed by its reader (`bathy … | head`): the status a shell reports for `cat`
/// ended by SIGPIPE (128 + 13), with nothing on stderr.
pub const STDOUT_CLOSED: i32 = 141;
