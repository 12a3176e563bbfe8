"""Results of nightly runs where people look: KCIDB data for KernelCI and a
static HTML report. Everything here reads a finished nightly output directory
(:mod:`guestdbg.results.nights`); the nightly itself only adds what these need
and cannot recover later (:mod:`guestdbg.results.record`)."""
