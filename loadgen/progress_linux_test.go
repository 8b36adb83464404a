package loadgen

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY returns the terminal side of a new pseudo-terminal sized cols×rows.
func openPTY(t *testing.T, cols, rows uint16) *os.File {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { ptm.Close() })
	if err := unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptm.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	pts, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pts.Close() })
	if err := unix.IoctlSetWinsize(int(pts.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: cols, Row: rows}); err != nil {
		t.Fatal(err)
	}
	return pts
}

// TestProgressOnUnsizedTerminal: bars on a sized terminal; lines on one
// that reports no width, where mpb would draw nothing.
func TestProgressOnUnsizedTerminal(t *testing.T) {
	t.Setenv("CI", "")
	if useBars(int(openPTY(t, 0, 0).Fd())) {
		t.Error("a terminal with no width must get lines")
	}
	if !useBars(int(openPTY(t, 120, 40).Fd())) {
		t.Error("a 120-column terminal must get bars")
	}
	t.Setenv("CI", "true")
	if useBars(int(openPTY(t, 120, 40).Fd())) {
		t.Error("CI=true must get lines")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if useBars(int(f.Fd())) {
		t.Error("a file must get lines")
	}
}
