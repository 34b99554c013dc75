// Package bench measures wbox against named baselines, in the same run, and
// reports the ratio: the machine is shared and noisy, so absolute numbers
// alone mean little. Run with `make bench`; README.md has the table.
//
// Each benchmark interleaves the baseline and wbox in small chunks so both
// see the same noise, and reports base-ns/op, wbox-ns/op and their ratio x.
package bench
