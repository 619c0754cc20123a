package main

// The manifest's times as the restore's last steps read them (finishing.go); the steps themselves
// are tested on a local-cloud host against their bash versions (test/integration/snapshot).

import (
	"syscall"
	"testing"
)

func TestParseMtimeReadsFindsTimesToTheNanosecond(t *testing.T) {
	for text, want := range map[string]syscall.Timespec{
		"1700000000.1234567890": {Sec: 1700000000, Nsec: 123456789},
		"1700000000":            {Sec: 1700000000},
		"5.5":                   {Sec: 5, Nsec: 500000000},
		"-1.2500000000":         {Sec: -2, Nsec: 750000000},
		"-3":                    {Sec: -3},
	} {
		if got, ok := parseMtime(text); !ok || got != want {
			t.Errorf("%q: %v %v, want %v", text, got, ok, want)
		}
	}
	for _, bad := range []string{"", "x", "1.2e3", "1.-2", "--1"} {
		if _, ok := parseMtime(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}
