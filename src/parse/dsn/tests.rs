//! Unit tests of the DSN decoders on small hand-written messages.

use super::*;
