// Package backdoor is the emulator's test-only API under /emulator/v1/ as
// types and a client: the one copy of its messages (clock, users, outbox,
// tenant configuration, faults) that the emulator serves and that the
// target profile, the OTP outbox source and the suites decode.
//
// The emulator imports this package, never the reverse: Config is the
// emulator's own configuration type, but its defaults and validation live
// in the emulator.
package backdoor
