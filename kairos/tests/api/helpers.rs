//! The test kit, as the tests here name it.

pub use kairos_testkit::*;
